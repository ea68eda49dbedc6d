"""Neural n-gram language model vs counting, by perplexity on held-out chapters of the KJV.

The King James Bible is split by chapter: every tenth chapter is held out for testing, the
one before it for validation, the rest is for training (--quick: every tenth verse of each).
All models predict each word (and each verse end) from the 3 words before it (4-grams), over
the same vocabulary (training words seen at least twice; the rest are <unk>):

    add-one (Laplace)     (c(h w) + 1) / (c(h) + V)               -- the naive smoothing
    Kneser-Ney            discounted counts interpolated with continuation counts of shorter
                          contexts (orders 2, 3, 4)
    neural (Bengio 2003)  embeddings of the 3 context words -> tanh layer -> softmax over V,
                          factored into word classes (P(class) P(word | class), exact)
    neural + Kneser-Ney   lambda P_neural + (1 - lambda) P_KN, lambda chosen on validation

Perplexity = exp(mean negative log-likelihood per word); lower is better. The measured story
on this corpus: any count model needs real smoothing (add-one 4-grams are ~60x worse than
Kneser-Ney, which improves with every order); the neural model, trained for 4 epochs on one
CPU core, lands far below add-one but above Kneser-Ney (73 vs 62), whose exact phrase counts
suit a text this formulaic; mixing the two beats both (55), because they err on different
words -- as Bengio et al. (2003) found, whose best results were such mixtures.

Speed: the softmax over the ~8,000-word vocabulary was 97% of the work (256 x 7,948
multiply-adds per word, forward and backward). The class-factored softmax (the most frequent
16 words form class 0, the next 16 class 1, ...: 497 classes) does 256 x (497 + 16) per word
and gives the same exact probabilities. The demo times a few steps of each head on the same
batches and prints the words/s of both.
"""

import argparse
import math
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting, _progress
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.ngram_lm import (
    AdditiveLM,
    KneserNeyLM,
    NeuralNGramLM,
    ngram_examples,
    perplexity,
)
from tinygrad_course.text import Vocab, encode_documents, tokenize

CONTEXT = 3  # words of context: 4-gram models
WORDS_PER_CLASS = 16  # of the factored softmax: the within-class part is a gather of K rows
# per word (memory-bound), the class part one dense product (fast), so small classes win


def split_by_chapter(verses, every):
    """Verse indices of train / valid / test: chapter number (over the whole Bible) mod 10 is
    9 for test, 8 for valid; ``every`` keeps one verse in that many."""
    chapter_of = {}
    chapter = np.array([chapter_of.setdefault(bc, len(chapter_of))
                        for bc in zip(verses.books, verses.chapters)])
    kept = np.arange(0, len(verses), every)
    part = chapter[kept] % 10
    return kept[part < 8], kept[part == 8], kept[part == 9]


def train_neural(model, contexts, targets, epochs, batch_size, lr, seed, valid=None):
    """Adam on the mean cross-entropy, shuffled minibatches, lr halved after each epoch."""
    optimizer = tg.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    device = model.embed.weight.device
    log = []
    start = time.perf_counter()
    for epoch in range(epochs):
        _progress.epoch(epoch + 1, epochs)
        for group in optimizer.param_groups:
            group["lr"] = lr * 0.5 ** epoch
        order = rng.permutation(targets.size)
        total = 0.0
        model.train()
        for first in range(0, targets.size, batch_size):
            batch = order[first:first + batch_size]
            loss = model.loss(tg.tensor(contexts[batch], device=device),
                              tg.tensor(targets[batch], device=device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * batch.size
        entry = {"epoch": epoch + 1, "train_perplexity": float(np.exp(total / targets.size))}
        if valid is not None:
            entry["valid_perplexity"] = perplexity(model.log_prob(*valid))
        log.append(entry)
        print("  epoch {epoch}: train perplexity {train_perplexity:.1f}".format(**entry)
              + (f", valid {entry['valid_perplexity']:.1f}" if valid is not None else ""))
    seconds = time.perf_counter() - start
    return log, epochs * targets.size / seconds


def training_speed(model, contexts, targets, batch_size, steps=20):
    """Training words/s of ``model`` over ``steps`` minibatches (after one warm-up step)."""
    optimizer = tg.optim.Adam(model.parameters(), lr=1e-3)
    device = model.embed.weight.device

    def step(first):
        loss = model.loss(tg.tensor(contexts[first:first + batch_size], device=device),
                          tg.tensor(targets[first:first + batch_size], device=device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step(0)
    start = time.perf_counter()
    for i in range(1, steps + 1):
        step(i * batch_size)
    return steps * batch_size / (time.perf_counter() - start)


def best_mixture(log_p_a, log_p_b, grid=np.linspace(0.0, 1.0, 21)):
    """lambda in ``grid`` minimising the perplexity of lambda P_a + (1 - lambda) P_b."""
    p_a, p_b = np.exp(log_p_a), np.exp(log_p_b)
    scores = [perplexity(np.log(lam * p_a + (1 - lam) * p_b)) for lam in grid]
    return float(grid[int(np.argmin(scores))])


def plot(ppl, log, plt):
    """Test perplexity of the count models by order, and the neural model per epoch."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    orders = [2, 3, 4]
    for name, marker in (("add-one", "o"), ("Kneser-Ney", "s")):
        left.semilogy(orders, [ppl[f"{name} {n}-gram"] for n in orders], marker=marker,
                      label=name)
    left.semilogy([4], [ppl["neural 4-gram"]], "^", markersize=9, label="neural")
    left.semilogy([4], [ppl["neural + Kneser-Ney 4-gram"]], "*", markersize=12,
                  label="neural + Kneser-Ney")
    left.set(xticks=orders, xlabel="order n (n-gram)", ylabel="test perplexity (log scale)",
             title="held-out chapters of the KJV")
    left.legend()
    epochs = [entry["epoch"] for entry in log]
    right.plot(epochs, [entry["train_perplexity"] for entry in log], "o-", label="neural, train")
    right.plot(epochs, [entry["valid_perplexity"] for entry in log], "s-",
               label="neural, validation")
    right.axhline(ppl["Kneser-Ney 4-gram"], color="grey", ls="--", label="Kneser-Ney 4-gram, test")
    right.set(xticks=epochs, xlabel="epoch", ylabel="perplexity",
              title="neural 4-gram LM while it trains")
    right.legend()
    return _plotting.save(fig, "ngram_lm")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every tenth verse, seconds")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    quick = args.quick
    epochs = args.epochs or (2 if quick else 4)
    verses = load_bible()
    parts = split_by_chapter(verses, every=10 if quick else 1)
    docs = [[tokenize(verses.texts[i]) for i in part] for part in parts]
    vocab = Vocab(docs[0], min_count=2, specials=("<s>", "</s>"))
    size = len(vocab)
    train, valid, test = (ngram_examples(*encode_documents(vocab, d), CONTEXT,
                                         vocab["<s>"], vocab["</s>"]) for d in docs)
    print(f"KJV split by chapter: {train[1].size} training words, {valid[1].size} validation, "
          f"{test[1].size} test; vocabulary {size} (min count 2, with <unk>, <s>, </s>)")

    results = {"test_perplexity": {}}
    ppl = results["test_perplexity"]
    print("\ntest perplexity of count models:")
    for order in (2, 3, 4):
        for name, model in (("add-one", AdditiveLM(order, size, k=1.0)),
                            ("Kneser-Ney", KneserNeyLM(order, size))):
            ppl[f"{name} {order}-gram"] = perplexity(model.fit(*train).log_prob(*test))
            print(f"  {name:10s} {order}-gram  {ppl[f'{name} {order}-gram']:8.1f}")
    kneser_ney = KneserNeyLM(CONTEXT + 1, size).fit(*train)

    hidden, batch_size, lr = (64, 1024, 0.005) if quick else (256, 512, 0.002)
    word_counts = np.bincount(train[1], minlength=size)  # training frequency: the classes
    n_classes = math.ceil(size / WORDS_PER_CLASS)
    print(f"\nneural 4-gram LM: embeddings 64, tanh layer {hidden}, dropout 0.2, softmax "
          f"factored into {n_classes} classes of {WORDS_PER_CLASS} words, Adam (lr {lr}, "
          f"halved each epoch), batches of {batch_size}, {epochs} epochs")

    def build(factored):
        return NeuralNGramLM(size, CONTEXT, embedding_dim=64, hidden_size=hidden, dropout=0.2,
                             seed=0, word_counts=word_counts if factored else None,
                             n_classes=n_classes)

    speed = {name: training_speed(build(factored), *train, batch_size=batch_size,
                                    steps=5 if quick else 20)
             for name, factored in (("full softmax", False), ("factored softmax", True))}
    print(f"  training speed on the same batches: full softmax {speed['full softmax']:,.0f} "
          f"words/s, factored {speed['factored softmax']:,.0f} words/s "
          f"({speed['factored softmax'] / speed['full softmax']:.1f}x)")
    neural = build(factored=True)
    log, words_per_second = train_neural(neural, *train, epochs=epochs, batch_size=batch_size,
                                         lr=lr, seed=0, valid=valid)
    ppl["neural 4-gram"] = perplexity(neural.log_prob(*test))
    lam = best_mixture(neural.log_prob(*valid), kneser_ney.log_prob(*valid))
    mixed = np.log(lam * np.exp(neural.log_prob(*test))
                   + (1 - lam) * np.exp(kneser_ney.log_prob(*test)))
    ppl["neural + Kneser-Ney 4-gram"] = perplexity(mixed)
    print(f"  training speed: {words_per_second:,.0f} words/s")
    print(f"\ntest perplexity, 4-grams: add-one {ppl['add-one 4-gram']:.1f}, Kneser-Ney "
          f"{ppl['Kneser-Ney 4-gram']:.1f}, neural {ppl['neural 4-gram']:.1f}, "
          f"neural + Kneser-Ney (lambda {lam:.2f} from validation) "
          f"{ppl['neural + Kneser-Ney 4-gram']:.1f}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        print("figure:", plot(ppl, log, plt))
    results.update(mixture_lambda=lam, training_log=log, neural_words_per_second=words_per_second,
                   vocab_size=size, head_words_per_second=speed)
    return results


if __name__ == "__main__":
    main()

"""word2vec's four variants on the King James Bible: skip-gram or CBOW, negative sampling or
hierarchical softmax, with the same quality measures and their speed.

Each variant is trained with the same settings (window 5, subsampling 1e-3, min count 5,
batch 4096, seed 0; negative sampling with K = 5; hierarchical softmax over a Huffman tree of
the word counts, models/word2vec_hs.py). Measured for each, on its input vectors:
  - the median rank of the related pairs of demos/word2vec.py (gold/silver, sheep/oxen, ...):
    where the second word ranks among the first word's neighbours (a random word: about half
    the vocabulary);
  - how many of demos/word2vec.py's four analogies put the expected word first, and in the
    top 5;
  - training speed in corpus words per second, and the mean path length of the tree
    (the number of binary decisions per target, against K + 1 = 6 for negative sampling).

    OPENBLAS_NUM_THREADS=1 python -m demos.word2vec_variants    full: whole KJV, 3 epochs, dim 100
    python -m demos.word2vec_variants --quick                   every 2nd verse, 1 epoch, dim 50
"""

import argparse

import numpy as np

from demos import _plotting, _progress
from demos.word2vec import ANALOGIES, RELATED_PAIRS, analogy_ranks, neighbour_ranks
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.word2vec import Word2Vec, corpus_arrays
from tinygrad_course.models.word2vec_hs import Word2VecHS
from tinygrad_course.text import Vocab, tokenize

VARIANTS = (("skipgram_ns", True, False), ("skipgram_hs", True, True),
            ("cbow_ns", False, False), ("cbow_hs", False, True))


def plot(results):
    """Save each variant's quality (related pairs' median rank) beside its speed."""
    plt = _plotting.pyplot()
    if plt is None:
        return None
    names = [name for name, _, _ in VARIANTS]
    labels = [name.replace("skipgram", "skip-gram").replace("_ns", "\nNS").replace("_hs", "\nHS")
              for name in names]
    colours = ["tab:blue", "tab:cyan", "tab:red", "tab:orange"]
    fig, (ax_rank, ax_speed) = plt.subplots(1, 2, figsize=(11, 4))
    ranks = [results[n]["related_pair_median_rank"] for n in names]
    ax_rank.bar(labels, ranks, color=colours)
    for x, (name, rank) in enumerate(zip(names, ranks)):
        ax_rank.annotate(f"analogies {results[name]['analogies_first']}/"
                         f"{results['analogies']}", (x, rank), ha="center", va="bottom",
                         fontsize=8)
    ax_rank.set(ylabel="median rank (lower is better)",
                title="related pairs: rank of the 2nd word among\nthe 1st word's neighbours")
    speeds = [results[n]["words_per_second"] / 1000 for n in names]
    ax_speed.bar(labels, speeds, color=colours)
    for x, speed in enumerate(speeds):
        ax_speed.annotate(f"{speed:,.0f}k", (x, speed), ha="center", va="bottom",
                          fontsize=8)
    ax_speed.set(ylabel="thousand corpus words per second",
                 title=f"training speed ({results['epochs']} epochs, dim {results['dim']})")
    fig.suptitle("NS: negative sampling (K = 5), HS: hierarchical softmax (Huffman tree)",
                 y=-0.03, va="top", fontsize=9)
    return _plotting.save(fig, "word2vec_variants")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="half the corpus, 1 epoch")
    args = parser.parse_args(argv)
    epochs, dim = (1, 50) if args.quick else (3, 100)
    texts = load_bible().texts
    sentences = [tokenize(t) for t in (texts[::2] if args.quick else texts)]
    vocab = Vocab(sentences, min_count=5)
    ids, sentence_ids = corpus_arrays(vocab, sentences)
    print(f"KJV: {len(sentences)} verses, {ids.size} words, {len(vocab)} in the vocabulary; "
          f"{epochs} epoch(s), dim {dim}")
    results = {"epochs": epochs, "dim": dim, "vocab_size": len(vocab)}
    for number, (name, sg, hierarchical) in enumerate(VARIANTS, 1):
        _progress.epoch(number, len(VARIANTS), "variant")
        if hierarchical:
            model = Word2VecHS(vocab, dim, sg=sg, window=5, sample=1e-3, seed=0)
        else:
            model = Word2Vec(vocab, dim, sg=sg, window=5, negative=5, sample=1e-3, seed=0)
        history = model.fit(ids, sentence_ids, epochs=epochs, lr=0.025 if sg else 0.05, seed=0)
        wv = model.wv
        ranks = [rank for _, rank in neighbour_ranks(wv, RELATED_PAIRS).values()]
        analogies = [rank for rank, _ in analogy_ranks(wv, ANALOGIES).values()]
        result = {"related_pair_median_rank": float(np.median(ranks)),
                  "analogies_first": sum(rank == 1 for rank in analogies),
                  "analogies_top5": sum(rank is not None and rank <= 5 for rank in analogies),
                  "words_per_second": history["words_per_second"],
                  "seconds": history["seconds"]}
        if hierarchical:
            counts = np.where(model.trained, vocab.counts, 0)
            result["mean_path_length"] = float((counts * model.path_lengths).sum()
                                               / counts.sum())
        results[name] = result
        print(f"{name:12s} related pairs median rank {result['related_pair_median_rank']:6.1f}"
              f"  analogies first {result['analogies_first']}/{len(analogies)}, top-5 "
              f"{result['analogies_top5']}/{len(analogies)}  "
              f"{result['words_per_second']:9,.0f} words/s"
              + (f"  (mean path {result['mean_path_length']:.1f} decisions)"
                 if hierarchical else ""))
    results["analogies"] = len(ANALOGIES)
    plot(results)
    return results


if __name__ == "__main__":
    main()

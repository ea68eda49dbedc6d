"""word2vec on the King James Bible: nearest neighbours, similarities, analogies, words/second.

Skip-gram with negative sampling (and CBOW in full mode) is trained on the whole KJV
(790,000 words, 5 epochs; --quick: every second verse, 2 epochs, 50 dimensions). Then, with cosine
similarity between the learned vectors:

- the nearest neighbours of chosen words (gold, sheep, wine, king, egypt, david, jesus, ...);
- for pairs a reader knows to be related (gold/silver, sheep/oxen, ...), where the second
  word ranks among the first word's neighbours (a random word would rank mid-vocabulary),
  for skip-gram and (full mode) CBOW alike;
- analogies b - a + c (abraham : isaac = isaac : ?), reporting the rank of the expected word;
- training speed in corpus words per second;
- the same training with 4x bigger minibatches: the loss of the final vectors on fixed examples
  (Word2Vec.evaluate_loss) and the related-pair ranks, to show how little the result hinges
  on it.

Why some related pairs rank far apart. word2vec puts two words close when they fill the
same slots (window 5 around them), not when a reader links their meanings. A pair fails when
(1) the words play different roles in the text: "king" is the subject of narrative ("and the
king said") and its nearest words are the names of kings (cyrus, jehoshaphat, ...), while
half the uses of "prince" are the title "prince of ..." ("the prince of Tyrus");
(2) one word is rare or split across forms: "prince" is about 20 times rarer than "king",
and without lemmatisation "princes" (more frequent still) is another word, so "prince" has
few contexts and a noisy vector. The demo prints and returns each pair's counts in the
corpus beside its rank, so the reader can check which reason applies.

The vectors are saved in the word2vec text format (demos/output/word2vec_kjv.txt), which
gensim and other tools read.
"""

import argparse
import os

import numpy as np

from demos import _plotting
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.word2vec import Word2Vec, corpus_arrays
from tinygrad_course.text import Vocab, tokenize

QUERY_WORDS = ["gold", "sheep", "wine", "king", "egypt", "david", "jesus", "sword", "water",
               "heaven"]
RELATED_PAIRS = [("gold", "silver"), ("sheep", "oxen"), ("wine", "oil"), ("bread", "water"),
                 ("sword", "spear"), ("king", "prince"), ("egypt", "pharaoh"),
                 ("jesus", "christ"), ("father", "mother"), ("heaven", "earth"),
                 ("brass", "iron"), ("camels", "asses")]
ANALOGIES = [("abraham", "isaac", "isaac", "jacob"),           # father : son
             ("egypt", "pharaoh", "babylon", "nebuchadnezzar"),  # land : its king
             ("brother", "sister", "son", "daughter"),          # male : female
             ("man", "woman", "king", "queen")]


STEP = ("Word2Vec.fit trains with Word2Vec.sgd_step: hand-derived gradients applied to the "
        "rows in place, each row's summed update scaled by its rate phi(T_r) (the fast twin of "
        "Word2Vec.loss + backward, which the tests check gives the same gradients)")


def train(sentences, sg, dim, epochs, seed, device, batch_size=4096):
    vocab = Vocab(sentences, min_count=5)
    ids, sentence_ids = corpus_arrays(vocab, sentences)
    model = Word2Vec(vocab, dim, sg=sg, window=5, negative=5, sample=1e-3, seed=seed,
                     device=device)
    history = model.fit(ids, sentence_ids, epochs=epochs, lr=0.025 if sg else 0.05,
                        seed=seed, batch_size=batch_size)
    # the loss of the final vectors on fixed examples (the same for every run)
    history["final_loss"] = model.evaluate_loss(ids, sentence_ids)
    return model, history


def neighbour_ranks(wv, pairs):
    """For each related pair (a, b): cos(a, b) and the rank of b among a's neighbours (1 =
    nearest of all other words). A random word's expected rank is about half the vocabulary."""
    ranks = {}
    for a, b in pairs:
        if a in wv and b in wv:
            sims = wv.unit @ wv.unit[wv.index[a]]
            sims[wv.index[a]] = -np.inf
            ranks[(a, b)] = (wv.similarity(a, b), int((sims > sims[wv.index[b]]).sum()) + 1)
    return ranks


def analogy_ranks(wv, analogies, topn=20):
    """For a : b = c : d, the rank of d among most_similar(b - a + c) (None: not in top n)."""
    found = {}
    for a, b, c, d in analogies:
        if all(w in wv for w in (a, b, c, d)):
            answers = [w for w, _ in wv.analogy(a, b, c, topn=topn)]
            found[(a, b, c, d)] = (answers.index(d) + 1 if d in answers else None, answers[:3])
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="half the corpus, 2 epochs, seconds")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    parser.add_argument("--device", default=None, help="cpu (default from TINYGRAD_DEVICE), "
                        "cuda, strict")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 5)
    dim = 50 if args.quick else 100
    verses = load_bible()
    texts = verses.texts[::2] if args.quick else verses.texts
    sentences = [tokenize(t) for t in texts]
    n_words = sum(len(s) for s in sentences)
    print(f"corpus: King James Bible, {len(sentences)} verses, {n_words} words")

    print(STEP)
    kinds = [("skip-gram", True)] if args.quick else [("skip-gram", True), ("CBOW", False)]
    results, models = {}, {}
    for name, sg in kinds:
        model, history = train(sentences, sg, dim, epochs, seed=0, device=args.device)
        models[name] = model
        key = "skipgram" if sg else "cbow"
        results[f"{key}_words_per_second"] = history["words_per_second"]
        results[f"{key}_loss_per_epoch"] = history["loss_per_epoch"]
        print(f"{name}: {len(model.vocab) - 1} words (min count 5), dim {dim}, {epochs} "
              f"epoch(s): {history['seconds']:.1f} s, {history['words_per_second']:,.0f} "
              f"words/s; loss per example by epoch "
              + " ".join(f"{x:.3f}" for x in history["loss_per_epoch"])
              + f", final vectors {history['final_loss']:.3f}")
        results[f"{key}_final_loss"] = history["final_loss"]

    wv = models["skip-gram"].wv
    print("\nnearest neighbours (skip-gram, cosine):")
    neighbours = {}
    for word in QUERY_WORDS:
        if word in wv:
            neighbours[word] = [w for w, _ in wv.most_similar(word, topn=8)]
            print(f"  {word:8s} {', '.join(neighbours[word])}")
    if "CBOW" in models:
        cbow = models["CBOW"].wv
        print("nearest neighbours (CBOW):")
        for word in QUERY_WORDS[:4]:
            print(f"  {word:8s} {', '.join(w for w, _ in cbow.most_similar(word, topn=8))}")
    ranks = neighbour_ranks(wv, RELATED_PAIRS)
    counts = {}
    for sentence in sentences:
        for word in sentence:
            counts[word] = counts.get(word, 0) + 1
    print(f"\nrelated pairs: cosine, and rank of the second word among the first word's "
          f"{len(wv) - 1} neighbours (a random word would rank ~{len(wv) // 2}); how often "
          "each word occurs:")
    for (a, b), (sim, rank) in ranks.items():
        print(f"  {a:7s} {b:8s} cos {sim:6.3f}   rank {rank:5d}   counts {counts.get(a, 0):5d} "
              f"{counts.get(b, 0):5d}")
    median_rank = float(np.median([r for _, r in ranks.values()]))
    print(f"  median rank {median_rank:.0f} of {len(wv) - 1}")
    if "CBOW" in models:
        cbow_ranks = neighbour_ranks(models["CBOW"].wv, RELATED_PAIRS)
        results["cbow_related_pair_median_rank"] = float(
            np.median([r for _, r in cbow_ranks.values()]))
        results["cbow_related_pair_rank"] = {f"{a}-{b}": r for (a, b), (_, r) in
                                             cbow_ranks.items()}
        results["cbow_analogy_ranks"] = {":".join(k): r for k, (r, _) in
                                         analogy_ranks(models["CBOW"].wv, ANALOGIES).items()}
        print("  CBOW ranks, same pairs: " + ", ".join(
            f"{a}-{b} {r}" for (a, b), (_, r) in cbow_ranks.items())
            + f"; median {results['cbow_related_pair_median_rank']:.0f}")
    analogies = analogy_ranks(wv, ANALOGIES)
    print("\nanalogies a : b = c : ?  (rank of the expected word among the top 20):")
    for (a, b, c, d), (rank, top) in analogies.items():
        print(f"  {a} : {b} = {c} : ?   expected {d}: "
              f"{'rank ' + str(rank) if rank else 'not in top 20'}   (top 3: {', '.join(top)})")

    # the same skip-gram run with 4x bigger minibatches: per-row rates keep it converging
    big, big_history = train(sentences, True, dim, epochs, seed=0, device=args.device,
                             batch_size=16384)
    big_rank = float(np.median([r for _, r in neighbour_ranks(big.wv, RELATED_PAIRS).values()]))
    print("\nbatch size 4096 vs 16384 (skip-gram, same seed): loss of the final vectors "
          f"{results['skipgram_final_loss']:.3f} vs {big_history['final_loss']:.3f}; median "
          f"related-pair rank {median_rank:.0f} vs {big_rank:.0f}")
    results["batch_16384"] = {"loss_per_epoch": big_history["loss_per_epoch"],
                              "final_loss": big_history["final_loss"],
                              "related_pair_median_rank": big_rank}

    os.makedirs(_plotting.OUTPUT_DIR, exist_ok=True)
    path = os.path.join(_plotting.OUTPUT_DIR, "word2vec_kjv.txt")
    wv.save_word2vec_format(path)
    print(f"\nvectors saved in the word2vec text format: {path}")
    if not args.no_plot:
        _plot(wv)
    results.update(neighbours=neighbours, vocab_size=len(wv), vectors_path=path,
                   related_pair_similarity={f"{a}-{b}": s for (a, b), (s, _) in ranks.items()},
                   related_pair_rank={f"{a}-{b}": r for (a, b), (_, r) in ranks.items()},
                   related_pair_counts={f"{a}-{b}": [counts.get(a, 0), counts.get(b, 0)]
                                        for a, b in RELATED_PAIRS},
                   related_pair_median_rank=median_rank,
                   analogy_ranks={":".join(k): r for k, (r, _) in analogies.items()})
    return results


def _plot(wv):
    """The query words and their neighbours, projected on the top two principal axes."""
    plt = _plotting.pyplot()
    if plt is None:
        return
    words = [w for w in QUERY_WORDS[:6] if w in wv]
    groups = [[w] + [n for n, _ in wv.most_similar(w, topn=4)] for w in words]
    points = np.array([wv.unit[wv.index[w]] for g in groups for w in g])
    centred = points - points.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ axes[:2].T
    fig, ax = plt.subplots(figsize=(7, 6))
    start = 0
    for group in groups:
        part = xy[start:start + len(group)]
        ax.scatter(part[:, 0], part[:, 1], s=14, label=f"{group[0]} and its 4 nearest")
        for (x, y), w in zip(part, group):
            ax.annotate(w, (x, y), fontsize=8, fontweight="bold" if w == group[0] else None)
        start += len(group)
    ax.set(xlabel="principal axis 1", ylabel="principal axis 2",
           title="word2vec (skip-gram) on the KJV: words and their neighbours, PCA")
    ax.legend(fontsize=8, title="colour = query word's group", title_fontsize=8)
    print("figure:", _plotting.save(fig, "word2vec"))


if __name__ == "__main__":
    main()

"""Finding verses from a few remembered words: bag of words vs the hashing trick vs TF-IDF.

Every verse of the King James Bible is a document (--quick: every tenth verse). A query is a
few words drawn at random from one verse, in random order (what someone half-remembers);
the system ranks all verses by cosine similarity to the query and we measure how often the
source verse comes first (recall@1) or in the top 10 (recall@10). A second measure uses the
whole verse as the query: the share of its 10 nearest other verses that come from the same
book (a rough test of topical similarity).

    bag of words      raw counts over the vocabulary
    hashing (2^14)    counts in 16,384 hashed columns, no vocabulary (few collisions)
    hashing (2^8)     only 256 columns: many words share one, and retrieval suffers
    TF-IDF            counts weighted by log inverse document frequency, unit length

Raw counts let "the", "and", "of" dominate the cosine; TF-IDF weighs the rare words that
actually identify a verse, so it finds the source verse far more often.
"""

import argparse

import numpy as np

from demos import _plotting
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.text import (
    TfidfTransformer,
    Vocab,
    bag_of_words,
    cosine_top_k,
    encode_documents,
    hashed_bag_of_words,
    tokenize,
)


def sample_queries(ids, offsets, n_queries, words_per_query, rng):
    """n_queries verses with at least ``words_per_query`` words, and that many of their words.

    Returns (source verse indices, query ids, query offsets). Words are picked without
    replacement by giving every token a random key and keeping the smallest keys per verse.
    """
    lengths = np.diff(offsets)
    candidates = np.flatnonzero(lengths >= words_per_query)
    sources = rng.choice(candidates, size=min(n_queries, candidates.size), replace=False)
    source_lengths = lengths[sources]
    starts = np.concatenate([[0], np.cumsum(source_lengths)[:-1]])
    within = np.arange(source_lengths.sum()) - np.repeat(starts, source_lengths)
    token = np.repeat(offsets[sources], source_lengths) + within  # every token of the sources
    verse = np.repeat(np.arange(sources.size), source_lengths)
    order = np.lexsort((rng.random(token.size), verse))  # by verse, random within a verse
    chosen = token[order][within < words_per_query]  # sorted blocks keep the verses' sizes
    query_offsets = np.arange(sources.size + 1) * words_per_query
    return sources, ids[chosen], query_offsets


def recall(top, sources, k):
    return float((top[:, :k] == sources[:, None]).any(axis=1).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every tenth verse, seconds")
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--words", type=int, default=4, help="words per query")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    verses = load_bible()
    keep = slice(None, None, 10) if args.quick else slice(None)
    texts, books = verses.texts[keep], np.array(verses.books[keep])
    n_queries = args.queries or (300 if args.quick else 2000)
    rng = np.random.default_rng(0)

    docs = [tokenize(t) for t in texts]
    vocab = Vocab(docs)
    ids, offsets = encode_documents(vocab, docs)
    tokens = np.array(vocab.itos, dtype=object)
    sources, query_ids, query_offsets = sample_queries(ids, offsets, n_queries, args.words, rng)
    print(f"{len(docs)} verses, {ids.size} words, vocabulary {len(vocab)}; {sources.size} "
          f"queries of {args.words} random words from one verse")

    counts = bag_of_words(ids, offsets, len(vocab))
    query_counts = bag_of_words(query_ids, query_offsets, len(vocab))
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    methods = {"bag of words": (counts, query_counts),
               "TF-IDF": (tfidf.transform(counts), tfidf.transform(query_counts))}
    for bits in (14, 8):
        methods[f"hashing (2^{bits})"] = (
            hashed_bag_of_words(tokens[ids], offsets, 2 ** bits),
            hashed_bag_of_words(tokens[query_ids], query_offsets, 2 ** bits))

    probe = rng.choice(len(docs), size=min(n_queries, len(docs)), replace=False)
    results = {}
    print(f"\n{'method':16s} {'recall@1':>9s} {'recall@10':>10s} {'same book@10':>13s}")
    for name, (documents, queries) in methods.items():
        top, _ = cosine_top_k(queries, documents, k=10)
        near, _ = cosine_top_k(documents[probe], documents, k=11)
        near = np.where(near[:, :1] == probe[:, None], near[:, 1:], near[:, :10])  # drop self
        same_book = float((books[near] == books[probe][:, None]).mean())
        results[name] = {"recall@1": recall(top, sources, 1),
                         "recall@10": recall(top, sources, 10), "same_book@10": same_book}
        r = results[name]
        print(f"{name:16s} {r['recall@1']:9.3f} {r['recall@10']:10.3f} {same_book:13.3f}")

    # reference points: a random ranking finds the source first with chance 1 / verses, and
    # puts a verse of the same book among the 10 nearest with the book's share of the verses
    same_book_chance = float(np.mean([(books == books[p]).sum() - 1 for p in probe])
                             / (len(docs) - 1))
    results.update(verses=len(docs), queries=int(sources.size),
                   recall1_chance=1 / len(docs), same_book_chance=same_book_chance)
    print(f"{'random ranking':16s} {1 / len(docs):9.5f} {10 / len(docs):10.5f} "
          f"{same_book_chance:13.3f}")

    example = "the lord is my shepherd"
    print(f"\nquery {example!r}: best verse by each method")
    example_ids = vocab.encode(tokenize(example))
    for name in ("bag of words", "TF-IDF"):
        documents = methods[name][0]
        query = bag_of_words(example_ids, [0, example_ids.size], len(vocab))
        if name == "TF-IDF":
            query = tfidf.transform(query)
        (best,), (score,) = cosine_top_k(query, documents, k=1)
        print(f"  {name:13s} cos {score[0]:.3f}  {texts[best[0]]}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(8, 4))
        measures = ["recall@1", "recall@10", "same_book@10"]
        width = 0.8 / len(methods)
        for i, name in enumerate(methods):
            r = results[name]
            bars = ax.bar(np.arange(len(measures)) + (i - (len(methods) - 1) / 2) * width,
                          [r[m] for m in measures], width, label=name)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.set_xticks(range(len(measures)), [f"{m} (query: {args.words} words)" if m != measures[2]
                                             else "same book among the\n10 nearest verses"
                                             for m in measures])
        ax.set(ylim=(0, 1), ylabel="share",
               title=f"{len(docs):,} KJV verses, {sources.size:,} queries")
        ax.plot([1.6, 2.4], [same_book_chance] * 2, "k--", label="random ranking")
        ax.legend(fontsize=8, loc="upper left")
        print("figure:", _plotting.save(fig, "text_retrieval"))
    return results


if __name__ == "__main__":
    main()

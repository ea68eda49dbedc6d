"""ELMo on the KJV: one vector per word use, not per word; and what a tagger gains from it.

A bidirectional LSTM language model (models/elmo.py: forward and backward LMs, 2 layers of 64
units each, a shared softmax over the 1,000 most frequent words) is trained on the lower-cased
training chapters of the proper-noun demo's split (every tenth chapter held out). Skip-gram
word2vec (models/word2vec.py) is trained on the same words, with the same vocabulary, at the
width of an ELMo vector (128). Then:

1. The same word in different contexts. ELMo's vector of a word use is a mix of the biLM's
   layers (here the plain mean, s = 0, gamma = 1); word2vec's is one vector per word. Measured
   on every use of some KJV words with distinct senses (or a sample of 150 uses per sense):

   - the mean cosine between the vectors of two uses of the same word (word2vec: exactly 1);
   - sense purity, where the KJV labels the sense itself by its capital letter, which the
     models never see (they read lower-cased text; uses right after punctuation are left out):
     "Spirit" (God's) / "spirit", "Ghost" (the Holy Ghost) / "ghost" ("gave up the ghost"),
     "Lot" (Abraham's nephew) / "lot" (the lot cast), "LORD" or "Lord" / "lord" (a master),
     "Lamb" / "lamb", "Son" / "son". Two numbers per word: the share of uses whose nearest
     other use (cosine) has the same sense, against chance (the probability that a random
     other use has it: all word2vec can do, its vectors being identical), and the purity of a
     2-means clustering of the vectors against the majority sense's share;
   - nearest-neighbour contexts: for "bear", "lie", "host", "lot", "spirit" the vectors (less
     the word's mean vector; uses with two words or more on each side) are split in two by
     2-means and the uses nearest each centre are printed; under word2vec
     every use is at cosine 1 from every other, so it has no nearest context to show.

   For "bear" (the animal / to carry), "lie" (a falsehood / to lie down), "host" (an army /
   the stars) no automatic label is honest (the obvious cue, the word before, is what the
   forward LM reads), so for them the demo shows contexts and no purity.

2. A probe: the proper-noun tagger of demos/proper_nouns.py (models/tagger.py, hidden 64, the
   same training budget and split) trained on frozen features: word2vec vectors, ELMo layers
   mixed by a ScalarMix learned with the tagger (the biLM stays frozen), or both side by side
   ([x_t; ELMo_t], the way the paper adds ELMo to a task's own word vectors). Each feature
   set (each ELMo layer) is divided by its root mean square over training tokens. Token F1 on
   the held-out chapters, overall and on the ambiguous words (capitalised in 10-90% of their
   uses), with the mix weights softmax(s) the tagger learned. The left-to-right LSTM tagger
   is probed too: on ELMo features it gets the right context from the backward LM, so it
   should lose less to the BiLSTM than it does on word2vec features.

What to expect of a biLM this small (2 x 64 units, one epoch on 700,000 words, a word-level
input): its token layer learns rare words (most names) from few gradient steps, where
word2vec gives each word 5 epochs of its own, and the paper's character CNN would spell them
out. Measured at full size (one seed; demos/RESULTS.md): alone, frozen ELMo features tag
worse than word2vec's (F1 0.939 vs 0.952, ambiguous words 0.802 vs 0.873; the tagger puts
0.70 of the mix on the token layer), but beside word2vec they add to it (0.968, ambiguous
0.888), the way the paper uses them; and the left-to-right tagger loses 0.009 / 0.022 to the
BiLSTM on word2vec and 0.002 / -0.002 on ELMo, whose backward LM supplies the right context.
The sense-labelled words' nearest use has the same sense 84% of the time against 56% by
chance (mean cosine between uses 0.90).
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from demos.proper_nouns import (
    WORD,
    ambiguous_words,
    encode,
    evaluate,
    label_verse,
    split_by_chapter,
    train,
)
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.elmo import BiLM, ScalarMix, contextual_layers, pad_batch, train_bilm
from tinygrad_course.models.tagger import SequenceTagger
from tinygrad_course.models.word2vec import Word2Vec, corpus_arrays
from tinygrad_course.nn import Module
from tinygrad_course.text import Vocab

# word -> (sense name, test on the original spelling) for words the KJV's capitals label
SENSES = {
    "spirit": (("Spirit (God's)", str.istitle), ("spirit", str.islower)),
    "ghost": (("Ghost (Holy)", str.istitle), ("ghost", str.islower)),
    "lot": (("Lot (the man)", str.istitle), ("lot (cast)", str.islower)),
    "lord": (("LORD / Lord (God)", lambda w: w[0].isupper()), ("lord (a master)", str.islower)),
    "lamb": (("Lamb (Christ)", str.istitle), ("lamb", str.islower)),
    "son": (("Son (of God, of man)", str.istitle), ("son", str.islower)),
}
CONTEXT_WORDS = ["bear", "lie", "host", "lot", "spirit"]
PER_SENSE = 150  # uses sampled per sense (all of them when fewer)


def occurrences(tokens, originals, scored, words):
    """{word: [(verse, position, original spelling, scored)]} over the given verses."""
    found = {word: [] for word in words}
    for verse, (toks, spelled, marks) in enumerate(zip(tokens, originals, scored)):
        for position, (token, original, mark) in enumerate(zip(toks, spelled, marks)):
            if token in found:
                found[token].append((verse, position, original, mark))
    return found


def use_vectors(model, sequences, uses):
    """The biLM's layers at each use: (num_layers + 1, n, 2H) host array."""
    verses = sorted({verse for verse, *_ in uses})
    where = {verse: k for k, verse in enumerate(verses)}
    layers = contextual_layers(model, [sequences[v] for v in verses])
    return np.stack([layers[where[v]][:, p] for v, p, *_ in uses], axis=1)


def unit(vectors):
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def mean_pair_cosine(vectors):
    """Mean cosine over all pairs of distinct rows."""
    u = unit(vectors)
    n = len(u)
    total = u.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


def nearest_same_sense(vectors, senses):
    """Share of rows whose nearest other row (cosine) has the same sense."""
    u = unit(vectors)
    similarity = u @ u.T
    np.fill_diagonal(similarity, -np.inf)
    return float(np.mean(senses[similarity.argmax(axis=1)] == senses))


def chance_same_sense(senses):
    """P(a random other use has the same sense) = sum_k n_k (n_k - 1) / (n (n - 1))."""
    counts = np.bincount(senses).astype(float)
    n = counts.sum()
    return float((counts * (counts - 1)).sum() / (n * (n - 1)))


def two_means(vectors, seed=0, iterations=50):
    """Spherical 2-means (cosine): (labels (n,), centres (2, d)), started from a random row
    and the row least similar to it."""
    u = unit(vectors)
    first = np.random.default_rng(seed).integers(len(u))
    centres = u[[first, int(np.argmin(u @ u[first]))]]
    labels = None
    for _ in range(iterations):
        new = np.argmax(u @ centres.T, axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centres = unit(np.stack([u[labels == k].mean(axis=0) if np.any(labels == k)
                                 else centres[k] for k in range(2)]))
    return labels, centres


def cluster_purity(labels, senses):
    """Share of uses whose cluster's majority sense is their own."""
    return float(sum(np.bincount(senses[labels == k]).max() for k in np.unique(labels))
                 / len(senses))


def context(tokens, position, width=5):
    left = " ".join(tokens[max(0, position - width):position])
    right = " ".join(tokens[position + 1:position + 1 + width])
    return f"... {left} [{tokens[position].upper()}] {right} ..."


class FrozenFeatureTagger(Module):
    """A SequenceTagger reading frozen features of the ids: static word vectors, the ScalarMix
    of frozen biLM layers (the mix learned with the tagger), or both side by side (the paper's
    way: [x_t; ELMo_t]); loss and predict as SequenceTagger's."""

    def __init__(self, tagger, static=None, layers=None):
        super().__init__()
        self.tagger = tagger
        self.mix = None if layers is None else ScalarMix(3)
        # functions, not Modules: neither the word vectors nor the biLM is trained here
        self._static, self._layers = static, layers

    def inputs(self, ids, mask):
        parts = [] if self._static is None else [self._static(ids)]
        if self.mix is not None:
            parts.append(self.mix(self._layers(ids, mask.sum(axis=1))))
        return parts[0] if len(parts) == 1 else tg.concatenate(parts, axis=2)

    def loss(self, ids, labels, mask, scored):
        return self.tagger.loss(self.inputs(ids, mask), labels, mask, scored)

    def predict(self, ids, mask):
        return self.tagger.predict(self.inputs(ids, mask), mask)


def probe(name, width, static, layers, data, settings):
    train_set, test_set, ambiguous = data
    epochs, hidden, bidirectional = settings
    tagger = SequenceTagger(2, input_size=width, hidden_size=hidden, bidirectional=bidirectional,
                            seed=0)
    model = FrozenFeatureTagger(tagger, static, layers)
    print(f"  probe: {'BiLSTM' if bidirectional else 'LSTM'} tagger on frozen {name} features "
          f"({width} wide), hidden {hidden}, {epochs} epochs")
    start = time.perf_counter()
    train(model, train_set, epochs, 32, 0.01, seed=0)
    result = evaluate(model, test_set, ambiguous)
    result["seconds"] = time.perf_counter() - start
    if model.mix is not None:
        result["mix_weights"] = [float(w) for w in model.mix.weights()]
        result["gamma"] = float(model.mix.gamma.item())
    print("    test token F1 {f1:.3f}; on ambiguous words F1 {ambiguous_f1:.3f}, accuracy "
          "{ambiguous_accuracy:.3f} ({seconds:.0f} s)".format(**result)
          + ("" if model.mix is None else "; learned softmax(s) "
             + ", ".join(f"{w:.2f}" for w in result["mix_weights"])
             + f", gamma {result['gamma']:.2f}"))
    return result


def word_senses(model, sequences, found, rng):
    """Part 1's measurements on the capital-labelled words."""
    results = {}
    print("\nsame word, different contexts: mean cosine between two uses' vectors, and sense "
          "purity\n(the sense from the KJV's capital, which the models never see; nearest use "
          "with the same sense vs chance;\n2-means cluster purity vs the majority sense)")
    for word, senses in SENSES.items():
        uses, labels = [], []
        for k, (_, test) in enumerate(senses):
            mine = [u for u in found[word] if u[3] and test(u[2])]
            if len(mine) > PER_SENSE:
                mine = [mine[i] for i in np.sort(rng.choice(len(mine), PER_SENSE, False))]
            uses += mine
            labels += [k] * len(mine)
        labels = np.array(labels)
        if min(np.bincount(labels, minlength=2)) < 2:
            continue
        layers = use_vectors(model, sequences, uses)
        mixed = layers.mean(axis=0)
        clusters, _ = two_means(mixed)
        entry = {
            "uses": [int(n) for n in np.bincount(labels)],
            "mean_cosine": {f"layer_{j}": mean_pair_cosine(layers[j])
                            for j in range(len(layers))} | {"elmo": mean_pair_cosine(mixed)},
            "nearest_same_sense": {f"layer_{j}": nearest_same_sense(layers[j], labels)
                                   for j in range(1, len(layers))}
            | {"elmo": nearest_same_sense(mixed, labels)},
            "chance_same_sense": chance_same_sense(labels),
            "cluster_purity": cluster_purity(clusters, labels),
            "majority_share": float(np.bincount(labels).max() / len(labels)),
        }
        results[word] = entry
        print(f"  {word:7s} {entry['uses'][0]:4d} {senses[0][0]} / {entry['uses'][1]:4d} "
              f"{senses[1][0]}: cosine {entry['mean_cosine']['elmo']:.2f} (word2vec 1); "
              f"nearest use same sense {entry['nearest_same_sense']['elmo']:.0%} vs chance "
              f"{entry['chance_same_sense']:.0%}; clusters {entry['cluster_purity']:.0%} vs "
              f"majority {entry['majority_share']:.0%}")
    return results


def nearest_contexts(model, sequences, tokens, found, rng, shown):
    """2-means on each word's ELMo vectors (less their mean: the part all uses share); the
    uses nearest each centre. Only uses with two words or more on each side: at a verse's
    first or last word one LM has read nothing but the word, and those uses cluster together."""
    out = {}
    print("\nnearest contexts (ELMo vectors less their mean, 2-means, the uses nearest each "
          "centre);\nunder word2vec every use is at cosine 1.000 from every other")
    for word in CONTEXT_WORDS:
        uses = [u for u in found[word] if 2 <= u[1] < len(tokens[u[0]]) - 2]
        if len(uses) < 4:
            continue
        if len(uses) > 2 * PER_SENSE:
            uses = [uses[i] for i in np.sort(rng.choice(len(uses), 2 * PER_SENSE, False))]
        mixed = use_vectors(model, sequences, uses).mean(axis=0)
        mixed = mixed - mixed.mean(axis=0)
        labels, centres = two_means(mixed)
        u = unit(mixed)
        out[word] = {"uses": len(uses), "cluster_sizes": [int(n) for n in np.bincount(labels)],
                     "contexts": []}
        print(f"  {word} ({len(uses)} uses; clusters of {out[word]['cluster_sizes']}):")
        for k in range(2):
            lines = []  # the nearest distinct contexts (the KJV repeats whole phrases)
            for i in np.argsort(-(u @ centres[k])):
                line = context(tokens[uses[i][0]], uses[i][1])
                if line not in lines:
                    lines.append(line)
                if len(lines) == shown:
                    break
            out[word]["contexts"].append(lines)
            for line in lines:
                print(f"    {k + 1}: {line}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="every 16th verse, a smaller biLM, seconds")
    args = parser.parse_args(argv)
    quick = args.quick
    started = time.perf_counter()
    verses = load_bible()
    train_idx, test_idx = split_by_chapter(verses, every=16 if quick else 1)
    labelled = [label_verse(text) for text in verses.texts]
    tokens = [t for t, _, _ in labelled]
    train_tokens = [tokens[i] for i in train_idx if tokens[i]]
    vocab = Vocab(train_tokens, min_count=2, specials=("</s>",))
    sequences = [vocab.encode(t) if t else np.zeros(0, np.int64) for t in tokens]
    hidden, output_size, lm_epochs = (32, 500, 3) if quick else (64, 1000, 1)
    print(f"KJV, lower-cased: {len(train_tokens)} training verses "
          f"({sum(map(len, train_tokens))} words), vocabulary {len(vocab)} (min count 2)")

    print(f"biLM: forward + backward LSTM LMs, 2 layers of {hidden}, shared embedding and "
          f"softmax over the {output_size} most frequent words, {lm_epochs} epoch(s)")
    model = BiLM(len(vocab), output_size, hidden_size=hidden, num_layers=2,
                 boundary_id=vocab["</s>"], seed=0)
    start = time.perf_counter()
    history = train_bilm(model, [sequences[i] for i in train_idx if len(sequences[i])],
                         epochs=lm_epochs, batch_size=64, lr=0.005, seed=0,
                         log=lambda line: print("    " + line))
    lm_seconds = time.perf_counter() - start
    held_out = held_out_nll(model, [sequences[i] for i in test_idx if len(sequences[i])])
    unigram = float(np.exp(unigram_nll(vocab, sequences, train_idx, test_idx, output_size)))
    print(f"  {lm_seconds:.0f} s; held-out perplexity (shortlist + <unk>): forward "
          f"{np.exp(held_out[0]):.1f}, backward {np.exp(held_out[1]):.1f} (a unigram model: "
          f"{unigram:.1f})")

    width = 2 * hidden
    w2v = Word2Vec(vocab, width, sg=True, window=5, negative=5, seed=0)
    ids, sentence_ids = corpus_arrays(vocab, train_tokens)
    w2v_history = w2v.fit(ids, sentence_ids, epochs=2 if quick else 5, lr=0.025, seed=0)
    table = w2v.in_embed.weight.numpy()
    print(f"word2vec: skip-gram, dim {width}, same words and vocabulary, "
          f"{w2v_history['seconds']:.0f} s")

    rng = np.random.default_rng(0)
    originals = [[m.group() for m in WORD.finditer(text)] for text in verses.texts]
    found = occurrences(tokens, originals, [s for _, _, s in labelled],
                        set(SENSES) | set(CONTEXT_WORDS))
    senses = word_senses(model, sequences, found, rng)
    contexts = nearest_contexts(model, sequences, tokens, found, rng, 2 if quick else 3)

    train_set, test_set = encode(vocab, verses, train_idx), encode(vocab, verses, test_idx)
    ambiguous = ambiguous_words(vocab, train_set)
    print(f"\nprobe: proper nouns, {len(train_set)} training and {len(test_set)} test verses "
          "(demos/proper_nouns.py's split and labels)")

    # each feature set (each ELMo layer) divided by its root mean square over training tokens,
    # so both probes start from inputs of one scale (the paper's optional layer norm, frozen)
    sample = [sequences[i] for i in train_idx[:2000] if len(sequences[i])]
    table = table / np.sqrt(np.mean(table[np.concatenate(sample)] ** 2))
    layer_scale = np.sqrt(np.mean(np.concatenate(contextual_layers(model, sample), axis=1) ** 2,
                                  axis=(1, 2)))
    scale = tg.tensor((1.0 / layer_scale).reshape(-1, 1, 1, 1))

    def word2vec_features(ids):
        return tg.tensor(table[ids])

    def elmo_layers(ids, lengths):
        with tg.no_grad():
            return model.layers(ids, lengths) * scale

    probes = {}
    data = (train_set, test_set, ambiguous)
    tagger_epochs, tagger_hidden = (3, 32) if quick else (2, 64)
    for bidirectional in ((True,) if quick else (True, False)):
        kind = "BiLSTM" if bidirectional else "LSTM"
        settings = (tagger_epochs, tagger_hidden, bidirectional)
        probes[f"word2vec_{kind}"] = probe("word2vec", width, word2vec_features, None, data,
                                           settings)
        probes[f"elmo_{kind}"] = probe("ELMo", width, None, elmo_layers, data, settings)
    probes["word2vec+elmo_BiLSTM"] = probe("word2vec + ELMo", 2 * width, word2vec_features,
                                           elmo_layers, data, (tagger_epochs, tagger_hidden, True))
    print("\nproper-noun F1 on frozen features (all scored tokens / ambiguous words): "
          + ", ".join(f"{name} {r['f1']:.3f} / {r['ambiguous_f1']:.3f}"
                      for name, r in probes.items()))
    results = {
        "vocab_size": len(vocab), "lm_seconds": lm_seconds, "lm_history": history,
        "held_out_perplexity": {"forward": float(np.exp(held_out[0])),
                                "backward": float(np.exp(held_out[1])),
                                "unigram": unigram},
        "senses": senses, "contexts": contexts, "probes": probes,
        "mean_cosine_elmo": float(np.mean([s["mean_cosine"]["elmo"] for s in senses.values()])),
        "mean_nearest_same_sense": float(np.mean([s["nearest_same_sense"]["elmo"]
                                                  for s in senses.values()])),
        "mean_chance_same_sense": float(np.mean([s["chance_same_sense"]
                                                 for s in senses.values()])),
        "seconds": time.perf_counter() - started,
    }
    if "word2vec_LSTM" in probes:  # what the right context adds: BiLSTM F1 - LSTM F1
        results["right_context_gain"] = {
            name: {key: probes[f"{name}_BiLSTM"][key] - probes[f"{name}_LSTM"][key]
                   for key in ("f1", "ambiguous_f1")} for name in ("word2vec", "elmo")}
        gain = results["right_context_gain"]
        print("the BiLSTM's gain over the left-to-right LSTM (F1 all / ambiguous): on word2vec "
              "{f1:+.3f} / {ambiguous_f1:+.3f}".format(**gain["word2vec"])
              + ", on ELMo {f1:+.3f} / {ambiguous_f1:+.3f}".format(**gain["elmo"]))
    print(f"over the {len(senses)} sense-labelled words: mean cosine "
          f"{results['mean_cosine_elmo']:.2f} (word2vec 1), nearest use has the same sense "
          f"{results['mean_nearest_same_sense']:.0%} (chance "
          f"{results['mean_chance_same_sense']:.0%})")
    _plot(senses, probes)
    return results


def held_out_nll(model, sequences):
    """Mean forward and backward NLL per token over the given sequences (no training)."""
    totals, count = np.zeros(2), 0
    with tg.no_grad():
        for start in range(0, len(sequences), 256):
            ids, lengths = pad_batch(sequences[start:start + 256])
            forward, backward = model.losses(ids, lengths)
            totals += lengths.sum() * np.array([forward.item(), backward.item()])
            count += lengths.sum()
    return totals / count


def unigram_nll(vocab, sequences, train_idx, test_idx, output_size):
    """The reference without context: each shortlist class's training frequency (rarer words
    as <unk>; the boundary once per verse), on the held-out verses."""
    def classes(indices):
        ids = np.concatenate([sequences[i] for i in indices if len(sequences[i])])
        ids = np.where(ids < output_size, ids, 0)
        boundary = np.full(sum(1 for i in indices if len(sequences[i])), vocab["</s>"])
        return np.concatenate([ids, boundary])
    counts = np.bincount(classes(train_idx), minlength=output_size) + 1.0
    test = classes(test_idx)
    return float(-np.mean(np.log(counts[test] / counts.sum())))


def _plot(senses, probes):
    plt = _plotting.pyplot()
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    words = list(senses)
    x = np.arange(len(words))
    for offset, key, label in ((-0.3, "chance", "chance (word2vec: all uses tie)"),
                               (0.0, "layer_2", "ELMo top layer"), (0.3, "elmo", "ELMo mix")):
        values = [senses[w]["chance_same_sense"] if key == "chance"
                  else senses[w]["nearest_same_sense"][key] for w in words]
        left.bar(x + offset, values, 0.3, label=label)
    left.set_xticks(x, words)
    left.set(ylim=(0, 1.1), ylabel="nearest other use has the same sense",
             title="sense from the KJV's capitals (never seen)")
    left.legend(fontsize=7, loc="lower right")
    names = list(probes)
    for i, (key, label) in enumerate((("f1", "all scored tokens"),
                                      ("ambiguous_f1", "ambiguous words"))):
        bars = right.bar(np.arange(len(names)) + (i - 0.5) * 0.4,
                         [probes[n][key] for n in names], 0.4, label=label)
        right.bar_label(bars, fmt="%.3f", fontsize=7)
    right.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=8)
    right.set(ylim=(0, 1.1), ylabel="proper-noun F1, test chapters",
              title="tagger on frozen features")
    right.legend(fontsize=7, loc="lower right")
    print("figure:", _plotting.save(fig, "elmo_contexts"))


if __name__ == "__main__":
    main()

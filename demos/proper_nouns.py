"""Proper-noun tagging of lower-cased KJV text: LSTM vs BiLSTM vs BiLSTM-CRF, by token F1.

The labels are real and free: the King James Bible capitalises names ("Moses", "Jordan",
"LORD"), so after lower-casing the text, "was this word capitalised?" is a tagging task whose
answer is in the original. Words whose capital says nothing are not scored: the first word of
a verse and every word right after a punctuation mark (sentence starts, and speech opened
after a comma: "God said, Let there be light"); "I" and "O" are always capitalised and are
labelled as ordinary words. Chapters are split as in the n-gram demo (every tenth chapter for
testing).

Three taggers on the same embeddings size and training budget:

    LSTM         reads left to right: the tag of w_t is decided from w_1 .. w_t
    BiLSTM       a second LSTM reads right to left: w_t's tag sees the whole verse
    BiLSTM-CRF   the BiLSTM's scores plus learned tag-to-tag transitions, decoded by Viterbi

The lesson is in the words a left-to-right reader cannot settle: "lord" is "LORD" (God) or
"lord" (a master), "god" is "God" or "a god", "spirit", "word", "son" are capitalised when
they name God; what follows often decides ("the lord of the house" vs "the LORD thy God").
The demo prints the F1 of each tagger and its F1 on these ambiguous words.
"""

import argparse
import re
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.tagger import SequenceTagger, token_f1
from tinygrad_course.text import Vocab

WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")
ALWAYS_CAPITAL = {"I", "O"}  # pronoun and vocative: capitalised everywhere, not names


def label_verse(text):
    """(lower-cased tokens, labels 1 = proper noun, scored) of one verse."""
    tokens, labels, scored = [], [], []
    previous_end = None
    for match in WORD.finditer(text):
        word = match.group()
        gap = text[previous_end:match.start()] if previous_end is not None else "."
        tokens.append(word.lower())
        labels.append(int(word[0].isupper() and word not in ALWAYS_CAPITAL))
        scored.append(not re.search(r"[^\w\s'-]", gap))  # no punctuation right before it
        previous_end = match.end()
    return tokens, labels, scored


def split_by_chapter(verses, every):
    """Verse indices of train / test: chapter number mod 10 == 9 is test."""
    chapter_of = {}
    chapter = np.array([chapter_of.setdefault(bc, len(chapter_of))
                        for bc in zip(verses.books, verses.chapters)])
    kept = np.arange(0, len(verses), every)
    return kept[chapter[kept] % 10 != 9], kept[chapter[kept] % 10 == 9]


def batches(examples, batch_size, rng=None):
    """Padded (ids, labels, mask, scored) batches of verses of similar length."""
    order = np.argsort([len(e[0]) for e in examples], kind="stable")
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(groups)
    for group in groups:
        steps = max(len(examples[i][0]) for i in group)
        out = [np.zeros((len(group), steps), dtype=dtype)
               for dtype in (np.int64, np.int64, bool, bool)]
        for row, i in enumerate(group):
            for array, values in zip(out, examples[i]):
                array[row, :len(values)] = values
            out[2][row, :len(examples[i][0])] = True
        yield out


def encode(vocab, verses, indices):
    examples = []
    for i in indices:
        tokens, labels, scored = label_verse(verses.texts[i])
        if tokens:
            examples.append((vocab.encode(tokens), labels, np.ones(len(tokens), bool), scored))
    return examples


def train(model, examples, epochs, batch_size, lr, seed):
    optimizer = tg.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        total, count = 0.0, 0
        for ids, labels, mask, scored in batches(examples, batch_size, rng):
            loss = model.loss(ids, labels, mask, scored)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item(), count + 1
        print(f"    epoch {epoch + 1}: loss {total / count:.4f}")


def evaluate(model, examples, ambiguous_ids):
    model.eval()
    predicted, gold, scored, ids = [], [], [], []
    with tg.no_grad():
        for batch_ids, labels, mask, batch_scored in batches(examples, 256):
            predicted.append(model.predict(batch_ids, mask)[mask])
            gold.append(labels[mask])
            scored.append(batch_scored[mask])
            ids.append(batch_ids[mask])
    model.train()
    predicted, gold, scored, ids = (np.concatenate(x) for x in (predicted, gold, scored, ids))
    _, _, f1 = token_f1(predicted, gold, scored)
    ambiguous = scored & np.isin(ids, ambiguous_ids)
    return {"f1": f1, "ambiguous_f1": token_f1(predicted, gold, ambiguous)[2],
            "ambiguous_accuracy": float(np.mean(predicted[ambiguous] == gold[ambiguous]))}


def lookup_baseline(vocab_size, train_examples, test_examples, ambiguous_ids):
    """The reference without context: tag each word with the label it had most often in
    training (words never capitalised there, or unseen, are not proper nouns)."""
    uses, capitals = np.zeros(vocab_size), np.zeros(vocab_size)
    for ids, labels, _, scored in train_examples:
        scored = np.asarray(scored)
        np.add.at(uses, ids[scored], 1)
        np.add.at(capitals, ids[scored], np.asarray(labels)[scored])
    majority = (capitals > uses / 2).astype(np.int64)
    ids = np.concatenate([e[0] for e in test_examples])
    gold = np.concatenate([np.asarray(e[1]) for e in test_examples])
    scored = np.concatenate([np.asarray(e[3]) for e in test_examples])
    predicted = majority[ids]
    ambiguous = scored & np.isin(ids, ambiguous_ids)
    return {"f1": token_f1(predicted, gold, scored)[2],
            "ambiguous_f1": token_f1(predicted, gold, ambiguous)[2],
            "ambiguous_accuracy": float(np.mean(predicted[ambiguous] == gold[ambiguous]))}


def ambiguous_words(vocab, examples, low=0.1, high=0.9):
    """Ids of words capitalised in between ``low`` and ``high`` of their scored training uses
    (at least 20 of them)."""
    size = len(vocab)
    uses, capitals = np.zeros(size), np.zeros(size)
    for ids, labels, _, scored in examples:
        scored = np.asarray(scored)
        np.add.at(uses, ids[scored], 1)
        np.add.at(capitals, ids[scored], np.asarray(labels)[scored])
    share = capitals / np.maximum(uses, 1)
    return np.flatnonzero((uses >= 20) & (share > low) & (share < high))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 16th verse, seconds")
    args = parser.parse_args(argv)
    quick = args.quick
    verses = load_bible()
    train_idx, test_idx = split_by_chapter(verses, every=16 if quick else 1)
    vocab = Vocab([label_verse(verses.texts[i])[0] for i in train_idx], min_count=2)
    train_set, test_set = encode(vocab, verses, train_idx), encode(vocab, verses, test_idx)
    ambiguous = ambiguous_words(vocab, train_set)
    n_scored = sum(int(np.sum(e[3])) for e in test_set)
    print(f"KJV proper nouns: {len(train_set)} training verses, {len(test_set)} test verses "
          f"({n_scored} scored test tokens), vocabulary {len(vocab)}; ambiguous words "
          f"(capitalised in 10-90% of uses): {', '.join(vocab.decode(ambiguous[:12]))}")
    epochs, hidden = (3, 32) if quick else (2, 64)
    batch_size, lr = 32, 0.01
    results = {"lookup": lookup_baseline(len(vocab), train_set, test_set, ambiguous)}
    print("  baseline, each word's majority label in training: test token F1 {f1:.3f}; on "
          "ambiguous words F1 {ambiguous_f1:.3f}, accuracy {ambiguous_accuracy:.3f}".format(
              **results["lookup"]))
    for name, bidirectional, crf in (("LSTM", False, False), ("BiLSTM", True, False),
                                     ("BiLSTM-CRF", True, True)):
        print(f"  {name}: embeddings 32, hidden {hidden} per direction, {epochs} epochs")
        model = SequenceTagger(2, vocab_size=len(vocab), embedding_dim=32, hidden_size=hidden,
                               bidirectional=bidirectional, crf=crf, seed=0)
        start = time.perf_counter()
        train(model, train_set, epochs, batch_size, lr, seed=0)
        results[name] = evaluate(model, test_set, ambiguous)
        results[name]["seconds"] = time.perf_counter() - start
        print("    test token F1 {f1:.3f}; on ambiguous words F1 {ambiguous_f1:.3f}, accuracy "
              "{ambiguous_accuracy:.3f} ({seconds:.0f} s)".format(**results[name]))
    print("\nproper-noun F1 (all scored tokens / ambiguous words): " + ", ".join(
        f"{name} {r['f1']:.3f} / {r['ambiguous_f1']:.3f}" for name, r in results.items()))
    results["ambiguous_words"] = vocab.decode(ambiguous)
    plt = _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        names = ["lookup", "LSTM", "BiLSTM", "BiLSTM-CRF"]
        for i, (key, label) in enumerate((("f1", "all scored tokens"),
                                          ("ambiguous_f1", "ambiguous words"))):
            bars = ax.bar(np.arange(len(names)) + (i - 0.5) * 0.4,
                          [results[n][key] for n in names], 0.4, label=label)
            ax.bar_label(bars, fmt="%.3f", fontsize=7)
        ax.set_xticks(range(len(names)), ["majority label\n(no context)"] + names[1:])
        ax.set(ylim=(0, 1.1), ylabel="proper-noun F1 on test chapters",
               title="which lower-cased KJV words are proper nouns")
        ax.legend(fontsize=8, loc="lower right")
        print("figure:", _plotting.save(fig, "proper_nouns"))
    return results


if __name__ == "__main__":
    main()

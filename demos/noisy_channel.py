"""Noisy-channel spelling correction of garbled KJV verses: W* = argmax_W P(O | W) P(W).

The speech-recognition framing of the lecture, on letters instead of sounds. Held-out verses
(every tenth chapter) are garbled by a channel this demo defines: each letter is kept with
probability 0.92, replaced by a neighbouring key of a QWERTY keyboard with 0.06, deleted with
0.02, and each of the len(w) + 1 gaps gets a random letter inserted with 0.02 (about one word
in three is changed). Then each word is decoded back:

    channel alone    argmax_w P(o | w): the most likely intended word for each garbled word
    channel + LM     beam search over the sentence for argmax log P(O | W) + lambda log P(W),
                     P(W) a Kneser-Ney trigram model of the training chapters

The channel used for decoding is not the true one: it is estimated by hard EM from 3,000
(word, garbled word) pairs of training text, starting from "every edit equally likely";
the demo prints what it learned. The candidates of each garbled word are the 10 vocabulary
words of highest P(o | w) (of length within 2 of it). Word error rate (WER) = share of words
decoded wrong, against the garbled input's own WER and the best possible (the right word is
among the candidates). The lesson: the channel alone cannot choose between real words
("hand" -> "band" or "land"?); the language model can, and a wider beam lets it revise.
"""

import argparse
import time
from collections import defaultdict

import numpy as np

from demos import _plotting
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.ngram_lm import KneserNeyLM, ngram_examples
from tinygrad_course.models.noisy_channel import ALPHABET, CharacterChannel, beam_search
from tinygrad_course.text import Vocab, encode_documents, tokenize

from .ngram_lm import split_by_chapter

KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
CANDIDATES = 10


def keyboard_channel(substitute=0.06, delete=0.02, insert=0.02):
    """The garbling process: substitutions go to keys adjacent on a QWERTY keyboard."""
    size = len(ALPHABET)
    emit = np.zeros((size, size))
    where = {c: (r, i) for r, row in enumerate(KEYBOARD) for i, c in enumerate(row)}
    for a, (r, i) in where.items():
        near = [c for c, (r2, i2) in where.items() if c != a and abs(r2 - r) <= 1
                and abs(i2 - i) <= 1]
        emit[ALPHABET.index(a), [ALPHABET.index(c) for c in near]] = substitute / len(near)
    for a in ALPHABET:
        k = ALPHABET.index(a)
        emit[k, k] = 1 - delete - (substitute if a in where else 0.0)  # "'" and "-" stay
    return CharacterChannel(emit, np.full(size, delete), np.full(size, insert / 26) *
                            np.array([c in where for c in ALPHABET]))


class Decoder:
    """Top candidates of a garbled word under a channel (cached), and sentence decoding."""

    def __init__(self, channel, vocab, lm, context_size):
        self.channel, self.vocab, self.lm, self.context_size = channel, vocab, lm, context_size
        self.by_length = defaultdict(list)
        for word in vocab.itos[3:]:  # not <unk>, <s>, </s>
            self.by_length[len(word)].append(word)
        self.cache = {}

    def candidates(self, observed):
        if observed not in self.cache:
            words = [w for n in range(max(1, len(observed) - 2), len(observed) + 3)
                     for w in self.by_length[n]]
            log_p = self.channel.log_prob(observed, words)
            best = np.argsort(-log_p, kind="stable")[:CANDIDATES]
            self.cache[observed] = (np.array([self.vocab[words[i]] for i in best]), log_p[best])
        return self.cache[observed]

    def decode(self, garbled, lm_weight, beam_width):
        ids = beam_search([self.candidates(o) for o in garbled], self.lm.log_prob, lm_weight,
                          beam_width, self.vocab["<s>"], self.vocab["</s>"], self.context_size)
        return self.vocab.decode(ids)


def word_error_rate(decoded, truth):
    wrong = sum(d != t for ds, ts in zip(decoded, truth) for d, t in zip(ds, ts))
    return wrong / sum(len(t) for t in truth)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 test verses, seconds")
    args = parser.parse_args(argv)
    quick = args.quick
    rng = np.random.default_rng(0)
    verses = load_bible()
    train_idx, _, test_idx = split_by_chapter(verses, every=1)
    train_docs = [tokenize(verses.texts[i]) for i in train_idx]
    vocab = Vocab(train_docs, min_count=1, specials=("<s>", "</s>"))
    context = 2
    lm = KneserNeyLM(context + 1, len(vocab)).fit(*ngram_examples(
        *encode_documents(vocab, train_docs), context, vocab["<s>"], vocab["</s>"]))

    truth_channel = keyboard_channel()
    train_words = [w for doc in train_docs for w in doc]
    pairs = [(w, truth_channel.sample(w, rng))
             for w in rng.choice(train_words, 1000 if quick else 3000)]
    start = time.perf_counter()
    channel = CharacterChannel.estimate(pairs, iterations=3)
    k, s, a = ALPHABET.index("k"), ALPHABET.index("s"), ALPHABET.index("a")
    print(f"channel by hard EM from {len(pairs)} pairs ({time.perf_counter() - start:.1f} s): "
          f"P(keep s) {channel.emit[s, s]:.3f} (true 0.920), P(s->a) {channel.emit[s, a]:.3f} "
          f"(true {truth_channel.emit[s, a]:.3f}, a neighbour key), P(s->k) "
          f"{channel.emit[s, k]:.4f} (true 0), P(delete s) {channel.delete[s]:.3f} (true 0.020)")

    test_idx = test_idx[rng.permutation(test_idx.size)[:40 if quick else 400]]
    truth = [tokenize(verses.texts[i]) for i in test_idx]
    garbled = [[truth_channel.sample(w, rng) for w in doc] for doc in truth]
    decoder = Decoder(channel, vocab, lm, context)
    reachable = np.mean([t in vocab.decode(decoder.candidates(o)[0])
                         for os_, ts in zip(garbled, truth) for o, t in zip(os_, ts)])
    results = {"garbled_wer": word_error_rate(garbled, truth), "oracle_wer": 1 - reachable}
    print(f"{len(truth)} held-out verses, {sum(map(len, truth))} words: WER of the garbled "
          f"text {results['garbled_wer']:.3f}; best possible with {CANDIDATES} candidates "
          f"{results['oracle_wer']:.3f}")
    start = time.perf_counter()
    results["channel_alone"] = word_error_rate(
        [decoder.decode(o, 0.0, 1) for o in garbled], truth)
    print(f"  channel alone (lambda 0)            WER {results['channel_alone']:.3f}")
    grid = {}
    for lm_weight in (0.5, 1.0, 2.0):
        for beam in (1, 4, 16):
            grid[(lm_weight, beam)] = word_error_rate(
                [decoder.decode(o, lm_weight, beam) for o in garbled], truth)
            print(f"  channel + trigram LM, lambda {lm_weight:.1f}, beam {beam:2d}  WER "
                  f"{grid[(lm_weight, beam)]:.3f}")
    results["with_lm"] = grid
    best = min(grid, key=grid.get)
    print(f"decoding took {time.perf_counter() - start:.0f} s; best: lambda {best[0]}, beam "
          f"{best[1]}: WER {grid[best]:.3f} vs {results['channel_alone']:.3f} for the channel "
          f"alone and {results['garbled_wer']:.3f} uncorrected")
    results.update(learned_channel=channel, best_wer=grid[best], best_lm_weight=best[0],
                   best_beam=best[1])
    plt = _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        beams = sorted({b for _, b in grid})
        for lm_weight in sorted({w for w, _ in grid}):
            ax.plot(beams, [grid[(lm_weight, b)] for b in beams], "o-",
                    label=f"channel + trigram LM, lambda {lm_weight}")
        for key, style, label in (("garbled_wer", "--", "garbled text, uncorrected"),
                                  ("channel_alone", "-.", "channel alone"),
                                  ("oracle_wer", ":", "best possible (right word a candidate)")):
            ax.axhline(results[key], color="grey", ls=style, label=label)
        ax.set(xscale="log", xticks=beams, xticklabels=[str(b) for b in beams],
               xlabel="beam width", ylabel="word error rate",
               title=f"{len(truth)} garbled held-out KJV verses")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the data
        print("figure:", _plotting.save(fig, "noisy_channel"))
    return results


if __name__ == "__main__":
    main()

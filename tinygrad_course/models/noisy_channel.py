"""Noisy-channel decoding: recover the words W a writer meant from the letters O we observe.

Speech recognition, spelling correction and OCR share one frame (Shannon; Jelinek): W went
through a noisy channel and came out as O, so the best guess is

    W* = argmax_W P(W | O) = argmax_W P(O | W) P(W)

with P(O | W) a *channel model* (how words get garbled) and P(W) a *language model* (which
word sequences are likely). Here the channel works on the letters of each word, and decoding
is a beam search over word sequences scored by log P(O | W) + lambda log P(W).

Channel model: a stochastic edit process over an alphabet of A symbols. Before the first
letter of w and after each of its letters there is an insertion slot that adds one symbol x
with probability insert[x] (nothing with 1 - sum_x insert[x]); each letter a of w is written
as x with probability emit[a, x] (emit[a, a]: kept) or deleted with probability delete[a];
sum_x emit[a, x] + delete[a] = 1. P(O | W) sums over every way (alignment) of producing O,
by dynamic programming over prefixes (i letters of w, j symbols of o):

    G[i][j] = F[i-1][j] delete[w_i] + F[i-1][j-1] emit[w_i, o_j]          (letter i handled)
    F[i][j] = G[i][j] (1 - sum insert) + G[i][j-1] insert[o_j]             (slot i handled)
    G[0][0] = 1, G[0][j > 0] = 0;    P(O | W) = F[|w|][|o|]

It is a distribution over all strings O for each W (the tests sum it over every string up
to the longest possible). Its parameters are estimated from (intended, observed) word pairs
by hard EM: align each pair by its most probable alignment (Viterbi over the same lattice),
count the edits, renormalise (with add-one smoothing), repeat.
"""

import numpy

from ..errors import ArgumentError, ShapeError

ALPHABET = "abcdefghijklmnopqrstuvwxyz'-"


class CharacterChannel:
    """P(observed word | intended word) by letter edits (module docstring).

    CharacterChannel(emit (A, A), delete (A,), insert (A,), alphabet=ALPHABET)
    log_prob(observed, words) -> float64 (N,) log P(observed | words[n]), all at once
    sample(word, rng) -> a garbled word drawn from the channel
    align(word, observed) -> the most probable edits, as (kind, letter, symbol) tuples
    CharacterChannel.estimate(pairs, iterations, start) -> a channel fitted by hard EM
    """

    def __init__(self, emit, delete, insert, alphabet=ALPHABET):
        size = len(alphabet)
        emit, delete, insert = (numpy.asarray(x, dtype=numpy.float64)
                                for x in (emit, delete, insert))
        if emit.shape != (size, size) or delete.shape != (size,) or insert.shape != (size,):
            raise ShapeError(f"CharacterChannel: expected emit ({size}, {size}), delete "
                             f"({size},), insert ({size},) for an alphabet of {size}, got "
                             f"{emit.shape}, {delete.shape}, {insert.shape}")
        rows = emit.sum(axis=1) + delete
        if (emit < 0).any() or (delete < 0).any() or (insert < 0).any() or \
                not numpy.allclose(rows, 1.0) or insert.sum() >= 1.0:
            raise ArgumentError("CharacterChannel: probabilities must be >= 0, each letter's "
                                f"emit row + delete must sum to 1 (got {rows.min():.4f} to "
                                f"{rows.max():.4f}), and sum(insert) must be < 1 (got "
                                f"{insert.sum():.4f})")
        self.alphabet, self.emit, self.delete, self.insert = alphabet, emit, delete, insert
        self.no_insert = 1.0 - insert.sum()
        self.index = {c: i for i, c in enumerate(alphabet)}

    @classmethod
    def uniform(cls, keep, alphabet=ALPHABET):
        """Every edit equally likely: a letter kept with ``keep``, the rest of its mass split
        evenly over the other symbols and deletion; insertion as likely as a substitution."""
        size = len(alphabet)
        other = (1.0 - keep) / size  # size - 1 substitutions + 1 deletion
        emit = numpy.full((size, size), other)
        numpy.fill_diagonal(emit, keep)
        return cls(emit, numpy.full(size, other), numpy.full(size, other), alphabet)

    def encode(self, word, op="CharacterChannel"):
        try:
            return numpy.array([self.index[c] for c in word], dtype=numpy.int64)
        except KeyError as missing:
            raise ArgumentError(f"{op}: {word!r} has a symbol outside the alphabet "
                                f"{self.alphabet!r}: {missing}") from None

    def log_prob(self, observed, words):
        """log P(observed | w) for each w of ``words`` (a list of str), one DP for all."""
        o = self.encode(observed, "CharacterChannel.log_prob")
        encoded = [self.encode(w, "CharacterChannel.log_prob") for w in words]
        lengths = numpy.array([len(w) for w in encoded], dtype=numpy.int64)
        longest = int(lengths.max()) if len(encoded) else 0
        letters = numpy.zeros((len(encoded), longest), dtype=numpy.int64)
        for n, w in enumerate(encoded):
            letters[n, :len(w)] = w
        m = o.size

        def insertion_slot(g):  # F[i][:] from G[i][:]
            f = g * self.no_insert
            f[:, 1:] += g[:, :-1] * self.insert[o]
            return f

        g = numpy.zeros((len(encoded), m + 1))
        g[:, 0] = 1.0
        f = insertion_slot(g)
        result = numpy.where(lengths == 0, f[:, m], 0.0)
        for i in range(longest):
            a = letters[:, i]
            g = f * self.delete[a][:, None]
            g[:, 1:] += f[:, :-1] * self.emit[a[:, None], o[None, :]]
            f = insertion_slot(g)
            result = numpy.where(lengths == i + 1, f[:, m], result)
        with numpy.errstate(divide="ignore"):
            return numpy.log(result)

    def sample(self, word, rng):
        """One draw of O given W = ``word`` from the edit process."""
        symbols = numpy.append(self.insert, self.no_insert)
        out = []
        for a in self.encode(word, "CharacterChannel.sample"):
            pick = rng.choice(symbols.size, p=symbols)
            if pick < len(self.alphabet):
                out.append(self.alphabet[pick])
            edit = rng.choice(len(self.alphabet) + 1, p=numpy.append(self.emit[a],
                                                                      self.delete[a]))
            if edit < len(self.alphabet):
                out.append(self.alphabet[edit])
        pick = rng.choice(symbols.size, p=symbols)
        if pick < len(self.alphabet):
            out.append(self.alphabet[pick])
        return "".join(out)

    def align(self, word, observed):
        """The most probable edits turning ``word`` into ``observed`` (Viterbi on the DP):
        a list of ("emit", a, x), ("delete", a, None), ("insert", None, x) and
        ("no_insert", None, None), one per letter and one per slot."""
        w = self.encode(word, "CharacterChannel.align")
        o = self.encode(observed, "CharacterChannel.align")
        n, m = w.size, o.size
        with numpy.errstate(divide="ignore"):
            log_emit, log_delete = numpy.log(self.emit), numpy.log(self.delete)
            log_insert, log_keep_slot = numpy.log(self.insert), numpy.log(self.no_insert)
        g = numpy.full((n + 1, m + 1), -numpy.inf)
        f = numpy.full((n + 1, m + 1), -numpy.inf)
        g[0, 0] = 0.0
        for i in range(n + 1):
            if i > 0:
                g[i] = f[i - 1] + log_delete[w[i - 1]]
                g[i, 1:] = numpy.maximum(g[i, 1:], f[i - 1, :-1] + log_emit[w[i - 1], o])
            f[i] = g[i] + log_keep_slot
            f[i, 1:] = numpy.maximum(f[i, 1:], g[i, :-1] + log_insert[o])
        edits, i, j = [], n, m
        while True:  # follow the best choices back from F[n][m]
            if j > 0 and g[i, j - 1] + log_insert[o[j - 1]] >= g[i, j] + log_keep_slot:
                edits.append(("insert", None, self.alphabet[o[j - 1]]))
                j -= 1
            else:
                edits.append(("no_insert", None, None))
            if i == 0:
                break
            a = w[i - 1]
            if j > 0 and f[i - 1, j - 1] + log_emit[a, o[j - 1]] >= f[i - 1, j] + log_delete[a]:
                edits.append(("emit", self.alphabet[a], self.alphabet[o[j - 1]]))
                j -= 1
            else:
                edits.append(("delete", self.alphabet[a], None))
            i -= 1
        return edits[::-1]

    @classmethod
    def estimate(cls, pairs, iterations=3, start=None, alphabet=ALPHABET):
        """Hard EM from (intended, observed) word pairs: align with the current channel,
        count every edit (plus one of each, so nothing unseen gets probability 0),
        renormalise; ``start`` defaults to CharacterChannel.uniform(0.9)."""
        channel = start or cls.uniform(0.9, alphabet)
        size = len(alphabet)
        index = {c: i for i, c in enumerate(alphabet)}
        for _ in range(iterations):
            emit, delete = numpy.ones((size, size)), numpy.ones(size)
            insert, slots = numpy.ones(size), float(size + 1)
            for word, observed in pairs:
                for kind, a, x in channel.align(word, observed):
                    if kind == "emit":
                        emit[index[a], index[x]] += 1
                    elif kind == "delete":
                        delete[index[a]] += 1
                    elif kind == "insert":
                        insert[index[x]] += 1
                    slots += kind in ("insert", "no_insert")
            totals = emit.sum(axis=1) + delete
            channel = cls(emit / totals[:, None], delete / totals, insert / slots, alphabet)
        return channel


def beam_search(candidates, lm_log_prob, lm_weight, beam_width, bos_id, eos_id, context_size):
    """argmax over word sequences of sum_t log P(o_t | w_t) + lm_weight log P(W), by beam.

    candidates    per position t: (ids int (k_t,), channel log-probs float (k_t,))
    lm_log_prob   function (contexts int (N, context_size), targets int (N,)) -> (N,) log P
    Each hypothesis is extended by every candidate of the next position; the beam_width best
    (by channel + weighted LM score so far) survive; the end-of-sentence probability is added
    last. Returns the best sequence of ids.
    """
    if beam_width < 1:
        raise ArgumentError(f"beam_search: beam_width must be >= 1, got {beam_width}")
    histories = numpy.full((1, context_size), bos_id, dtype=numpy.int64)  # last words
    paths = numpy.zeros((1, 0), dtype=numpy.int64)
    scores = numpy.zeros(1)
    for ids, channel in candidates:
        ids, channel = numpy.asarray(ids, dtype=numpy.int64), numpy.asarray(channel)
        h, k = len(scores), ids.size
        targets = numpy.tile(ids, h)
        lm = lm_log_prob(numpy.repeat(histories, k, axis=0), targets) if lm_weight else 0.0
        total = numpy.repeat(scores, k) + numpy.tile(channel, h) + lm_weight * lm
        keep = numpy.argsort(-total, kind="stable")[:beam_width]
        parent = keep // k
        paths = numpy.concatenate([paths[parent], targets[keep, None]], axis=1)
        histories = numpy.concatenate([histories[parent, 1:], targets[keep, None]], axis=1)
        scores = total[keep]
    if lm_weight:
        scores = scores + lm_weight * lm_log_prob(histories, numpy.full(len(scores), eos_id))
    return paths[int(numpy.argmax(scores))]

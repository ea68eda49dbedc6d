"""Seeded sequence tasks for the lecture-5 demos: each one tests one ability of a sequence model.

    make_adding_problem   long-range memory (Hochreiter & Schmidhuber 1997): add the two
                          numbers marked somewhere in a long sequence of noise.
    make_seq2seq_task     sequence transduction: reverse / copy / sort a string of symbols.
    make_negation_task    text classification where word ORDER matters: "not good" is
                          negative, "good" is positive, and a stray "not" elsewhere means
                          nothing. A bag of words cannot tell the cases apart.

Same seed, same data. Arrays are NumPy (the demos move them to tensors).
"""

import numpy

PAD, BOS, EOS = 0, 1, 2  # special ids of the seq2seq task (as in models/seq2seq.py)
FIRST_SYMBOL = 3


def make_adding_problem(n_samples, length, seed=0):
    """x (length, n, 2) float32, y (n,) float32.

    Channel 0 holds numbers ~ U(0, 1); channel 1 marks exactly two positions with 1: one in
    the first half, one in the second. The target is the sum of the two marked numbers, so
    the model must remember the first one across up to ``length`` steps. Always answering
    the mean 1.0 gives MSE = Var(u1 + u2) = 1/6: a model that beats it clearly has memory.
    """
    if length < 2:
        raise ValueError(f"make_adding_problem: length must be >= 2, got {length}")
    rng = numpy.random.default_rng(seed)
    values = rng.random((length, n_samples))
    half = length // 2
    first = rng.integers(0, half, size=n_samples)
    second = rng.integers(half, length, size=n_samples)
    markers = numpy.zeros((length, n_samples))
    columns = numpy.arange(n_samples)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    x = numpy.stack([values, markers], axis=2).astype(numpy.float32)
    y = (values[first, columns] + values[second, columns]).astype(numpy.float32)
    return x, y


def make_seq2seq_task(n_samples, min_len, max_len, n_symbols=10, task="reverse", seed=0):
    """Random strings of symbols (ids FIRST_SYMBOL..) and their transformation.

    task: "reverse", "copy" or "sort". Returns a dict of padded int64 arrays:
        src (n, max_len), src_lengths (n,),
        tgt_in (n, max_len + 1) = [BOS, y_1, ..., y_L, PAD...]   (decoder inputs)
        tgt_out (n, max_len + 1) = [y_1, ..., y_L, EOS, PAD...]  (what it must predict)
    and "targets": the list of each y + [EOS] (for exact-match scoring).
    """
    if task not in ("reverse", "copy", "sort"):
        raise ValueError(f"make_seq2seq_task: task must be reverse, copy or sort, got {task!r}")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"make_seq2seq_task: need 1 <= min_len <= max_len, got {min_len}, "
                         f"{max_len}")
    rng = numpy.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n_samples)
    src = numpy.full((n_samples, max_len), PAD, dtype=numpy.int64)
    tgt_in = numpy.full((n_samples, max_len + 1), PAD, dtype=numpy.int64)
    tgt_out = numpy.full((n_samples, max_len + 1), PAD, dtype=numpy.int64)
    targets = []
    for i, n in enumerate(lengths):  # building the data set, not a hot loop
        symbols = rng.integers(FIRST_SYMBOL, FIRST_SYMBOL + n_symbols, size=n)
        out = {"reverse": symbols[::-1], "copy": symbols, "sort": numpy.sort(symbols)}[task]
        src[i, :n] = symbols
        tgt_in[i, 0], tgt_in[i, 1:n + 1] = BOS, out
        tgt_out[i, :n], tgt_out[i, n] = out, EOS
        targets.append(list(out) + [EOS])
    return {"src": src, "src_lengths": lengths.astype(numpy.int64), "tgt_in": tgt_in,
            "tgt_out": tgt_out, "targets": targets, "vocab_size": FIRST_SYMBOL + n_symbols}


NEGATION_WORDS = {
    "positive": ["good", "great", "fine", "nice", "excellent", "pleasant"],
    "negative": ["bad", "awful", "poor", "terrible", "boring", "dull"],
    "filler": ["the", "movie", "was", "plot", "actor", "really", "story", "it", "and", "a",
               "film", "music", "ending", "scene", "quite", "very"],
}


def make_negation_task(n_samples, min_len=8, max_len=16, distractor_prob=0.5, seed=0):
    """Sentences of filler words with one opinion word, negated or not; label 1 = positive.

    The opinion word w is negated ("not w") with probability 1/2, and with probability
    ``distractor_prob`` the sentence also contains a stray "not" that is NOT in front of w.
    label = polarity(w) XOR negated.

    Why a bag of words fails: it sees the counts of "not" and of w, not where "not" stands.
    Zero or two "not"s settle the question; with exactly one (probability 1/2) the sentence
    is negated with probability 1 - distractor_prob, and an order-blind model can only bet.
    So no bag-of-words model, however clever, beats
        1/2 + 1/2 * max(distractor_prob, 1 - distractor_prob)    (= 3/4 for 1/2).
    A convolution over word pairs sees "not good" as one pattern.

    Returns (sentences: list of lists of words, labels: int64 (n,), best_bag_of_words_accuracy).
    """
    rng = numpy.random.default_rng(seed)
    words = NEGATION_WORDS
    sentences, labels = [], numpy.zeros(n_samples, dtype=numpy.int64)
    for i in range(n_samples):  # building the data set, not a hot loop
        length = int(rng.integers(min_len, max_len + 1))
        sentence = list(rng.choice(words["filler"], size=length))
        positive = rng.random() < 0.5
        opinion = str(rng.choice(words["positive" if positive else "negative"]))
        negated = rng.random() < 0.5
        stray = rng.random() < distractor_prob
        where = int(rng.integers(2, length))  # leave room in front for "not"
        sentence[where] = opinion
        if negated:
            sentence[where - 1] = "not"
        if stray:
            far = [p for p in range(length) if abs(p - where) > 1]
            sentence[int(rng.choice(far))] = "not"
        sentences.append([str(w) for w in sentence])
        labels[i] = int(positive != negated)
    return sentences, labels, 0.5 + 0.5 * max(distractor_prob, 1.0 - distractor_prob)


def build_vocabulary(sentences, specials=("<pad>", "<unk>")):
    """{word: id}, specials first (so "<pad>" is 0), then words by first appearance."""
    vocab = {w: i for i, w in enumerate(specials)}
    for sentence in sentences:
        for word in sentence:
            vocab.setdefault(word, len(vocab))
    return vocab


def encode_sentences(sentences, vocab):
    """(ids (n, max_len) int64 padded with 0, lengths (n,) int64); unknown words -> <unk>."""
    lengths = numpy.array([len(s) for s in sentences], dtype=numpy.int64)
    ids = numpy.zeros((len(sentences), int(lengths.max())), dtype=numpy.int64)
    unknown = vocab.get("<unk>", 0)
    for i, sentence in enumerate(sentences):
        ids[i, :len(sentence)] = [vocab.get(w, unknown) for w in sentence]
    return ids, lengths

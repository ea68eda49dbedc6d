"""From raw text to integer ids: a tokenizer and a vocabulary.

tokenize("And God said, Let there be light.")  ->  ['and', 'god', 'said', 'let', 'there', 'be',
                                                    'light']

A token is a run of letters, lower-cased, that may be joined by an apostrophe or a hyphen
("noah's", "ring-streaked"); punctuation and digits are dropped. It is the simplest tokenizer
that serves English prose; sub-word tokenizers (BPE) come later in the course.

A ``Vocab`` numbers the words seen often enough in the training text (``min_count``) and sends
every other word to one unknown token ``<unk>``, so a model has a fixed number of rows
(embeddings, output classes) and never meets an id it has no row for.
"""

import re
from collections import Counter

import numpy

TOKEN_PATTERN = re.compile(r"[a-z]+(?:['-][a-z]+)*")


def tokenize(text):
    """Lower-cased word tokens of one string (list of str)."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize: expected a string, got {type(text).__name__}")
    return TOKEN_PATTERN.findall(text.lower())


class Vocab:
    """A numbering of words: id 0 is ``unk_token``, then the kept words, most frequent first.

    Vocab(token_lists, min_count=1, max_size=None, specials=(), unk_token="<unk>")
      token_lists  iterable of token lists (documents, verses, sentences)
      min_count    words seen fewer times become ``<unk>``
      max_size     keep at most this many words (the most frequent; ties by first appearance)
      specials     extra tokens given the ids right after ``<unk>`` (e.g. "</s>")

    Attributes: ``itos`` (list: id -> word), ``stoi`` (dict: word -> id), ``counts`` (int64
    array: training count of each id; ``<unk>`` counts the dropped words, specials count 0).
    """

    def __init__(self, token_lists, min_count=1, max_size=None, specials=(), unk_token="<unk>"):
        if min_count < 1:
            raise ValueError(f"Vocab: min_count must be >= 1, got {min_count}")
        counter = Counter()
        for tokens in token_lists:
            counter.update(tokens)
        reserved = [unk_token, *specials]
        kept = [(w, c) for w, c in counter.most_common() if c >= min_count and w not in reserved]
        if max_size is not None:
            kept = kept[:max_size]
        self.unk_token = unk_token
        self.itos = reserved + [w for w, _ in kept]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        kept_total = sum(c for _, c in kept)
        counts = [sum(counter.values()) - kept_total] + [0] * len(specials) + [c for _, c in kept]
        self.counts = numpy.array(counts, dtype=numpy.int64)

    @property
    def unk_id(self):
        return 0

    def __len__(self):
        return len(self.itos)

    def __contains__(self, word):
        return word in self.stoi

    def __getitem__(self, word):
        """The id of ``word`` (``<unk>``'s id for words not in the vocabulary)."""
        return self.stoi.get(word, 0)

    def encode(self, tokens):
        """Token list -> int64 array of ids (unknown words -> 0)."""
        stoi = self.stoi
        return numpy.fromiter((stoi.get(w, 0) for w in tokens), dtype=numpy.int64,
                              count=len(tokens))

    def decode(self, ids):
        """Ids (any integer sequence or array) -> list of words."""
        ids = numpy.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.itos)):
            raise IndexError(f"Vocab.decode: ids must be in [0, {len(self.itos)}), got values "
                             f"from {ids.min()} to {ids.max()}")
        return [self.itos[i] for i in ids.tolist()]

    def __repr__(self):
        return f"Vocab({len(self)} tokens, unk_token={self.unk_token!r})"


def encode_documents(vocab, token_lists):
    """Many token lists -> (ids, offsets): all ids in one int64 array, document d being
    ``ids[offsets[d]:offsets[d + 1]]`` (the layout of a CSR row pointer)."""
    lengths = numpy.array([len(tokens) for tokens in token_lists], dtype=numpy.int64)
    offsets = numpy.concatenate([[0], numpy.cumsum(lengths)])
    flat = [w for tokens in token_lists for w in tokens]
    return vocab.encode(flat), offsets

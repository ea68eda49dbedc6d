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

import numbers
import re
from collections import Counter

import numpy

from ..errors import ArgumentError, DTypeError, ShapeError

TOKEN_PATTERN = re.compile(r"[a-z]+(?:['-][a-z]+)*")


def tokenize(text):
    """Lower-cased word tokens of one string (list of str)."""
    if not isinstance(text, str):
        raise DTypeError(f"tokenize: expected a string, got {type(text).__name__}")
    return TOKEN_PATTERN.findall(text.lower())


def check_tokens(tokens, op, what="tokens"):
    """``tokens`` as a list of str, or an error naming ``op``. A string is refused:
    iterating it would give its characters, and every character would silently become a
    token."""
    if isinstance(tokens, (str, bytes)):
        raise DTypeError(f"{op}: {what} is a string ({tokens!r:.40}), expected a list of tokens; "
                         "pass a list of tokens, e.g. text.split() or tokenize(text)")
    if isinstance(tokens, dict) or not hasattr(tokens, "__iter__"):
        raise DTypeError(f"{op}: {what} must be a list of tokens, got "
                         f"{type(tokens).__name__}")
    tokens = tokens if isinstance(tokens, (list, tuple)) else list(tokens)
    odd = next((t for t in tokens if not isinstance(t, str)), None)
    if odd is not None:
        raise DTypeError(f"{op}: {what} must hold str tokens, got a {type(odd).__name__} "
                         f"({odd!r:.40})")
    return tokens


def check_token_lists(token_lists, op):
    """A list of token lists (one per document), each checked by ``check_tokens``."""
    if isinstance(token_lists, (str, bytes)) or not hasattr(token_lists, "__iter__"):
        raise DTypeError(f"{op}: expected a list of token lists (one per document), got "
                         f"{type(token_lists).__name__}; e.g. [tokenize(t) for t in texts]")
    return [check_tokens(tokens, op, f"document {i}") for i, tokens in enumerate(token_lists)]


def _check_count(op, name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DTypeError(f"{op}: {name} must be an int, got {value!r}")
    if value < low:
        raise ArgumentError(f"{op}: {name} must be >= {low}, got {value}")


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
        _check_count("Vocab", "min_count", min_count, 1)
        if max_size is not None:  # None keeps every word; max_size=-1 would drop one silently
            _check_count("Vocab", "max_size (None or a positive int)", max_size, 1)
        specials = check_tokens(specials, "Vocab", "specials")
        if not isinstance(unk_token, str):
            raise DTypeError(f"Vocab: unk_token must be a str, got {type(unk_token).__name__}")
        counter = Counter()
        for tokens in check_token_lists(token_lists, "Vocab"):
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
        tokens = check_tokens(tokens, "Vocab.encode")
        stoi = self.stoi
        return numpy.fromiter((stoi.get(w, 0) for w in tokens), dtype=numpy.int64,
                              count=len(tokens))

    def decode(self, ids):
        """Ids (any integer sequence or array) -> list of words."""
        ids = numpy.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise DTypeError(f"Vocab.decode: ids must be integers, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.itos)):
            raise ShapeError(f"Vocab.decode: ids must be in [0, {len(self.itos)}), got values "
                             f"from {ids.min()} to {ids.max()}")
        return [self.itos[i] for i in ids.tolist()]

    def __repr__(self):
        return f"Vocab({len(self)} tokens, unk_token={self.unk_token!r})"


def encode_documents(vocab, token_lists):
    """Many token lists -> (ids, offsets): all ids in one int64 array, document d being
    ``ids[offsets[d]:offsets[d + 1]]`` (the layout of a CSR row pointer)."""
    token_lists = check_token_lists(token_lists, "encode_documents")
    lengths = numpy.array([len(tokens) for tokens in token_lists], dtype=numpy.int64)
    offsets = numpy.concatenate([[0], numpy.cumsum(lengths)])
    flat = [w for tokens in token_lists for w in tokens]
    return vocab.encode(flat), offsets

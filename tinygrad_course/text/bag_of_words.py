"""Bag of words and the hashing trick: a document as a sparse vector of word counts.

Bag of words: document d -> x_d in R^V with x_d[w] = number of times word w occurs in d.
Word order is thrown away; only counts are kept. With a vocabulary of V words nearly every
entry is zero, so the matrix of all documents (n_docs, V) is stored sparse (scipy CSR).

Encoded documents already have the CSR layout: ``ids`` (all token ids, document after
document) are the column indices and ``offsets`` the row pointer, with a 1 for each token.
Adding up repeated columns (``sum_duplicates``) turns that into counts.

The hashing trick (Weinberger et al. 2009) needs no vocabulary at all: word w goes to column
h(w) mod n_features for a fixed hash function h, so unseen words still get a column and the
memory is fixed in advance. Different words may share a column (a collision); with
``alternate_sign`` a second bit of the hash gives each word a sign +-1, so colliding words
cancel on average instead of adding up, and inner products stay unbiased:
E[<phi(x), phi(y)>] = <x, y>.

The hash is 32-bit FNV-1a over the word's UTF-8 bytes (h = (h XOR byte) * 16777619 mod 2^32,
starting from 2166136261), computed for all tokens at once: one vectorised step per character
position. It is the same on every run and machine, unlike Python's salted ``hash``.
"""

import numpy
import scipy.sparse

from ..errors import ArgumentError, ShapeError
from .tokenizer import check_tokens

FNV_OFFSET = numpy.uint32(2166136261)
FNV_PRIME = numpy.uint32(16777619)


def bag_of_words(ids, offsets, vocab_size):
    """Count matrix (n_docs, vocab_size), float32 CSR, from ``encode_documents``' output.

    ids       int (n_tokens,)   token ids, document after document
    offsets   int (n_docs + 1,) document d is ids[offsets[d]:offsets[d + 1]]
    """
    ids, offsets = numpy.asarray(ids), numpy.asarray(offsets)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ShapeError(f"bag_of_words: ids must be in [0, {vocab_size}), got values from "
                         f"{ids.min()} to {ids.max()}")
    if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != ids.size:
        raise ShapeError(f"bag_of_words: offsets must start at 0 and end at len(ids) = "
                         f"{ids.size}, got {offsets[:1]}...{offsets[-1:]}")
    ones = numpy.ones(ids.size, dtype=numpy.float32)
    counts = scipy.sparse.csr_matrix((ones, ids, offsets), shape=(offsets.size - 1, vocab_size))
    counts.sum_duplicates()
    return counts


def fnv1a_32(words):
    """32-bit FNV-1a hash of each word (uint32 array), vectorised over the words.

    The words become rows of a byte matrix (shorter words padded with zero bytes); the hash
    loops over character positions, never over words, and skips the padding.
    """
    words = check_tokens(words, "fnv1a_32", "words")
    data = numpy.array([w.encode("utf-8") for w in words], dtype=bytes)
    byte_rows = data.view(numpy.uint8).reshape(len(words), data.dtype.itemsize)
    h = numpy.full(len(words), FNV_OFFSET, dtype=numpy.uint32)
    for position in range(byte_rows.shape[1]):
        byte = byte_rows[:, position].astype(numpy.uint32)
        h = numpy.where(byte != 0, (h ^ byte) * FNV_PRIME, h)
    return h


def hashed_bag_of_words(tokens, offsets, n_features=2 ** 18, alternate_sign=True):
    """Hashed count matrix (n_docs, n_features), float32 CSR, with no vocabulary.

    tokens    list of str (n_tokens,), documents one after another
    offsets   int (n_docs + 1,), document d is tokens[offsets[d]:offsets[d + 1]]
    Column of word w: h(w) mod n_features; sign: +1 or -1 from the hash's top bit
    (``alternate_sign``), else +1.
    """
    tokens = check_tokens(tokens, "hashed_bag_of_words")
    offsets = numpy.asarray(offsets)
    if n_features < 1:
        raise ArgumentError(f"hashed_bag_of_words: n_features must be >= 1, got {n_features}")
    if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != len(tokens):
        raise ShapeError(f"hashed_bag_of_words: offsets must start at 0 and end at len(tokens) "
                         f"= {len(tokens)}, got {offsets[:1]}...{offsets[-1:]}")
    h = fnv1a_32(tokens)
    columns = (h % numpy.uint32(n_features)).astype(numpy.int64)
    if alternate_sign:
        values = numpy.where(h >> numpy.uint32(31), -1.0, 1.0).astype(numpy.float32)
    else:
        values = numpy.ones(len(tokens), dtype=numpy.float32)
    matrix = scipy.sparse.csr_matrix((values, columns, offsets),
                                     shape=(offsets.size - 1, n_features))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix

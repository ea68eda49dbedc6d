"""The vision-language demos in --quick mode (tens of steps): what such a short run can show.

At this size no model has learned word order yet, so the quick tests check the measurement
itself (the swap test's size and interval, the noise rate, the parameter counts) and what is
learned in seconds (retrieval of the right objects). The full-size numbers are in the
README's demo table.
"""

import numpy as np
import pytest

from tinygrad_course.data import scenes


def _check_swap(result, n):
    low, high = result["ci"]
    assert result["n"] == n
    assert low <= result["accuracy"] <= high and high - low < 0.25
    # one trial per image, half relation and half attribute swaps
    assert result["accuracy"] == pytest.approx((result["relation"] + result["attribute"]) / 2)
    assert (low, high) == pytest.approx(scenes.wilson_interval(round(result["accuracy"] * n), n))


def test_quick_clip_vs_fusion_measures_the_swap_test_and_retrieves_objects():
    from demos import clip_vs_fusion

    r = clip_vs_fusion.main(["--quick"])
    n = r["swap_images"]
    assert n == 120
    for split in ("seen", "held_out"):
        for model in ("clip", "albef_itc", "albef_itm"):
            _check_swap(r[f"swap_{split}_{model}"], n)
    assert r["verdict"].startswith("ALBEF ITM") and f"on {n} images" in r["verdict"]
    assert (r["clip_swap_low"], r["clip_swap_high"]) == tuple(r["swap_seen_clip"]["ci"])
    # measured after 60 steps: CLIP 41.7%, ALBEF ITC 52.5%: a dual encoder's score is about
    # chance on captions with the same words
    for model in ("clip", "albef_itc"):
        assert 0.3 < r[f"swap_seen_{model}"]["accuracy"] < 0.7
    # but it already retrieves the right objects: R@5 23% (CLIP), 18% (ALBEF ITC); chance
    # 5/120 = 4%
    chance = 5 / r["retrieval_clip"]["n"]
    assert r["retrieval_clip"]["i2t"][5] > 2.5 * chance
    assert r["retrieval_clip"]["t2i"][5] > 2.5 * chance
    assert r["retrieval_albef"]["i2t"][5] > 2 * chance


def test_quick_albef_ablation_sets_the_noise_rate_and_measures_every_arm():
    from demos import albef_ablation

    r = albef_ablation.main(["--quick", "--swap-steps", "20"])  # the swap arm's own length
    assert r["noise_rate"] == 0.3 and abs(r["noisy_captions"] - 0.3) < 0.06
    for arm in ("random", "hard", "hard_swaps", "no_mod", "mod"):
        _check_swap(r[f"swap_{arm}"], 120)
    for key in ("mlm_image", "mlm_blank"):
        assert 0.0 <= r[key] <= 1.0


def test_quick_vilt_vs_albef_counts_parameters_and_step_costs():
    from demos import vilt_vs_albef

    r = vilt_vs_albef.main(["--quick"])
    # one shared stack has fewer weights than three encoders of the same width
    assert r["vilt_parameters"] < r["albef_parameters"]
    assert r["vilt_ms_per_step"] > 0 and r["albef_ms_per_step"] > 0
    for key in ("vilt_swap", "albef_swap"):
        _check_swap(r[key], 120)


def test_quick_vlmo_modes_measures_one_model_both_ways():
    from demos import vlmo_modes

    r = vlmo_modes.main(["--quick"])
    for key in ("vlmo", "albef", "clip"):
        _check_swap(r[f"swap_{key}"], 120)
        retrieval = r[f"retrieval_{key}"]
        assert retrieval["n"] == 120
        assert 0.0 <= retrieval["i2t"][1] <= retrieval["i2t"][5] <= 1.0


def test_compare_swap_says_a_difference_is_shown_only_when_the_intervals_are_disjoint():
    from demos import _vision_language as vl

    def result(correct, n=1000):
        return {"accuracy": correct / n, "n": n, "ci": scenes.wilson_interval(correct, n)}

    # 55% vs 49% on 1000 images: [51.9%, 58.1%] and [45.9%, 52.1%] overlap
    assert "overlap, no difference shown" in vl.compare_swap("A", result(550), "B", result(490))
    # 60% vs 49%: disjoint, in either order
    assert "A is above B" in vl.compare_swap("A", result(600), "B", result(490))
    assert "B is below A" in vl.compare_swap("B", result(490), "A", result(600))


def test_swap_negatives_of_the_training_data_are_false_captions_with_the_same_words():
    from demos import _vision_language as vl

    data = vl.make_data(quick=True, noise_rate=0.3)
    swapped = vl.swap_negative_ids(data)
    ids = data["ids"]
    for kind in scenes.SWAP_KINDS:
        assert swapped[kind].shape == ids.shape
        # the same multiset of token ids as image i's caption, in another order
        np.testing.assert_array_equal(np.sort(swapped[kind], axis=1), np.sort(ids, axis=1))
        assert (swapped[kind] != ids).any(axis=1).all()

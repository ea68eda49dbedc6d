"""Lectures 2 and 3 as demos: each --quick run must show the claim its lecture makes."""

import math

import pytest

from demos import (
    discriminative_generative,
    linear_scaling,
    losses,
    multiclass_strategies,
    perceptron,
    regression_as_classification,
    schedules,
    sigmoid_temperature,
)


def test_perceptron_converges_on_separable_data_not_on_xor_and_an_mlp_fits_xor():
    results = perceptron.main(["--quick", "--no-plot"])
    assert results["separable_converged"]
    assert results["separable_updates"] <= results["novikoff_bound"]
    assert results["worst_updates_over_bound"] <= 1.0
    assert results["xor_perceptron_best_accuracy"] <= 0.8   # no line does much better than 3/4
    assert results["xor_mlp_test_accuracy"] >= 0.95


def test_sigmoid_with_small_temperature_approaches_the_step():
    results = sigmoid_temperature.main(["--quick", "--no-plot"])
    assert results["gap_shrinks_monotonically"]
    assert results["max_gap_vs_closed_form"] < 1e-9          # gap = sigma(-delta / tau)
    assert results["gap_tau_1"] > 0.4 and results["gap_tau_0.01"] < 1e-4
    assert results["slope_at_0_tau_0.01"] == pytest.approx(25.0, rel=1e-6)   # 1 / (4 tau)
    assert results["slope_band_tau_0.01"] < 0.1


def test_losses_cross_entropy_is_entropy_plus_kl_and_mse_mae_pick_mean_and_median():
    results = losses.main(["--quick", "--no-plot"])
    assert results["entropy_uniform4"] == pytest.approx(math.log(4), rel=1e-12)
    assert results["entropy_one_hot"] == 0.0
    assert results["ce_minus_h_plus_kl"] < 1e-10
    assert results["kl_min"] >= 0.0 and results["kl_self_max"] < 1e-12
    assert results["entropy_soft"] > 0.5                        # CE's floor is H(p), not 0
    assert results["ce_final"] == pytest.approx(results["entropy_soft"], abs=1e-6)
    assert abs(results["kl_final"]) < 1e-6                       # KL's floor is 0
    assert results["mse_example"] == pytest.approx(1.3125) and results["mae_example"] == 0.875
    assert results["mse_constant"] == pytest.approx(22.0, abs=1e-3)   # the mean
    assert results["mae_constant"] == pytest.approx(3.0, abs=0.05)    # the median
    assert results["bce_right"] == pytest.approx(-math.log(0.9), rel=1e-5)
    assert results["bce_wrong"] == pytest.approx(-math.log(0.1), rel=1e-5)


def test_schedules_shapes_and_decay_beats_a_constant_rate():
    results = schedules.main(["--quick", "--no-plot"])
    assert results["linear_drop_first_quarter"] == pytest.approx(0.25)
    assert results["cosine_drop_first_quarter"] < 0.25 < results["cosine_drop_second_quarter"]
    assert results["warmup_lr_at_start"] < 0.01
    for name in ["linear", "cosine", "warmup+cosine"]:
        assert results[f"{name}_final_loss"] < 0.5 * results["constant_final_loss"]
        assert results[f"{name}_test_accuracy"] > results["constant_test_accuracy"]


def test_linear_scaling_rule_keeps_the_loss_per_epoch_curve():
    results = linear_scaling.main(["--quick", "--no-plot"])
    assert results["k4_scaled_distance"] < 0.1                      # within ~10% per epoch
    assert results["k4_scaled_distance"] < 0.5 * results["k4_unscaled_distance"]
    assert results["base_final_loss"] < 0.9                          # it did learn


def test_one_vs_rest_and_one_vs_one_leave_the_plane_undefined_softmax_does_not():
    results = multiclass_strategies.main(["--quick", "--no-plot"])
    assert results["ovr_undefined_fraction"] > 0.2
    assert 0.0 < results["ovo_undefined_fraction"] < results["ovr_undefined_fraction"]
    assert results["softmax_undefined_fraction"] == 0.0
    assert results["softmax_test_accuracy"] >= 0.95
    assert results["ovr_test_accuracy"] < results["softmax_test_accuracy"]


def test_byte_classification_head_beats_mse_head_on_a_two_valued_target():
    results = regression_as_classification.main(["--quick", "--no-plot"])
    # y = +-sqrt(x): MSE averages the two answers (~0, wrong by |y| >= 0.5); bytes pick one
    assert results["pm_mse_head_median_error"] > 0.5
    assert results["pm_byte_head_median_error"] < 0.1 * results["pm_mse_head_median_error"]
    # y = sqrt(x): both heads learn it; the top byte is learnt, the lowest stays near chance
    assert results["sqrt_mse_head_median_error"] < 0.05
    assert results["sqrt_byte_head_median_error"] < 0.06
    assert results["sqrt_byte_head_far_off"] < 0.1
    assert results["sqrt_top_byte_accuracy"] > 0.99
    assert results["sqrt_lowest_byte_accuracy"] < 0.03


def test_generative_needs_its_assumptions_discriminative_gets_there_with_data():
    results = discriminative_generative.main(["--quick", "--no-plot"])
    # assumptions right: generative ahead with few examples, both reach Bayes with many
    assert results["independent_generative_at_20"] > results["independent_logistic_at_20"]
    for model in ["generative", "logistic"]:
        assert results[f"independent_{model}_largest"] > results["independent_bayes"] - 0.02
    # assumptions wrong: logistic ahead at every size, generative stuck well below Bayes
    assert results["correlated_logistic_minus_generative_min"] > 0.0
    assert results["correlated_logistic_largest"] > results["correlated_bayes"] - 0.03
    assert results["correlated_generative_largest"] < results["correlated_bayes"] - 0.08
    # samples from the generative model: right class means, none of the correlations
    assert results["samples_mean_error"] < 0.15
    assert results["data_max_correlation"] > 0.4 > 0.15 > results["samples_max_correlation"]

"""Lectures 2 and 3 as demos: each --quick run must show the claim its lecture makes."""

from demos import perceptron


def test_perceptron_converges_on_separable_data_not_on_xor_and_an_mlp_fits_xor():
    results = perceptron.main(["--quick", "--no-plot"])
    assert results["separable_converged"]
    assert results["separable_updates"] <= results["novikoff_bound"]
    assert results["worst_updates_over_bound"] <= 1.0
    assert results["xor_perceptron_best_accuracy"] <= 0.8   # no line does much better than 3/4
    assert results["xor_mlp_test_accuracy"] >= 0.95

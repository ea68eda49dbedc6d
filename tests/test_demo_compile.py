"""The compile_fusion demo's claims, from its --quick run: the compiled steps give the eager
losses bit for bit, fusion leaves fewer kernels than nodes, memory planning leaves fewer bytes
allocated per step, and the printed lines are the fused Adam update and the GELU's erf.

tg.compile generates NumPy code, so it runs on the "cpu" device only: skipped on the strict
pass (TINYGRAD_DEVICE=strict), as tests/test_compile.py is."""

import os

import pytest

ON_STRICT = os.environ.get("TINYGRAD_DEVICE", "cpu").lower().startswith("strict")
pytestmark = pytest.mark.skipif(ON_STRICT,
                                reason="tg.compile generates NumPy code: cpu only")


@pytest.fixture(scope="module")
def quick():
    from demos import compile_fusion

    return compile_fusion.main(["--quick"])


@pytest.mark.parametrize("model", ["mlp", "block"])
def test_compiled_losses_equal_eager_bit_for_bit(quick, model):
    assert quick[f"{model}_losses_equal"] is True
    assert quick[f"{model}_max_loss_difference"] == 0.0
    assert quick[f"{model}_losses_checked"] >= 6  # two traces, replays after them


@pytest.mark.parametrize("model", ["mlp", "block"])
def test_each_pass_removes_what_it_claims(quick, model):
    assert quick[f"{model}_nodes_after_dce"] < quick[f"{model}_nodes_traced"]
    assert quick[f"{model}_fused_kernels"] > 0
    assert quick[f"{model}_kernels_after_fusion"] < quick[f"{model}_kernels_before_fusion"]
    # planning: the pool is allocated once, and a step allocates less than a tenth as before
    assert quick[f"{model}_pool_bytes"] > 0
    assert quick[f"{model}_bytes_after_plan"] * 10 < quick[f"{model}_bytes_before_plan"]


def test_printed_kernels_are_the_fused_adam_update_and_the_gelu(quick):
    adam = quick["adam_line"]
    assert "sqrt(" in adam and adam.endswith("out=v0)") and adam.count("out=") >= 4
    assert "erf(" in quick["gelu_line"]


def test_speedups_are_measured(quick):
    for model in ("mlp", "block"):
        assert quick[f"{model}_eager_ms"] > 0 and quick[f"{model}_compiled_ms"] > 0
        assert quick[f"{model}_speedup"] > 0

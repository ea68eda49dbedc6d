"""Smoke test of the benchmark runner: it runs, it refuses implementations whose losses differ.

No timing is asserted (speed is measured in benchmarks/, never in tests).
"""

import pytest

from benchmarks import bench_mlp, run

TINY = ["--quick", "--blocks", "1", "--block-time", "0.001", "--warmup", "1"]


def test_quick_run_of_the_mlp_workload_prints_a_table(capsys):
    results = run.main(TINY + ["mlp_b8"])
    assert [r["name"] for r in results] == ["mlp_b8"]
    (result,) = results
    assert result["error"] is None
    assert {"tinygrad_course", "numpy"} <= set(result["times"])
    assert all(t > 0 for t in result["times"].values())
    out = capsys.readouterr().out
    assert "| mlp_b8" in out and "tg/numpy" in out


def test_mlp_implementations_agree_on_the_first_two_losses():
    steps = bench_mlp.setup_for(8)
    losses = {name: [step(), step()] for name, step in steps.items()}
    run.check_losses(losses, run.DEFAULT_RTOL)
    numpy_losses = losses["numpy"]
    assert numpy_losses[1] < numpy_losses[0]  # the SGD step lowered the loss on this batch


def test_check_losses_flags_the_call_that_differs():
    run.check_losses({"numpy": [2.0, 1.5], "other": [2.0 * (1 + 5e-5), 1.5]}, 1e-4)
    with pytest.raises(run.LossMismatch, match="other call 2"):
        run.check_losses({"numpy": [2.0, 1.5], "other": [2.0, 1.4]}, 1e-4)
    # None = no comparable loss (e.g. a library that does not report one): skipped
    run.check_losses({"numpy": [2.0, 1.5], "gensim": [None, None]}, 1e-4)


def test_a_wrong_update_is_reported_and_not_timed():
    """Same forward, different learning rate: call 1 agrees, call 2 must not."""
    weights = bench_mlp.initial_weights()
    x, y = bench_mlp.batch(8)

    def setup():
        return {"tinygrad_course": bench_mlp.make_tinygrad(weights, x, y, lr=0.5),
                "numpy": bench_mlp.make_numpy(weights, x, y)}

    result = run.run_workload("wrong_lr", setup, warmup=1, blocks=1, block_time=0.001)
    assert result["error"] is not None and "call 2" in result["error"]
    assert result["times"] == {}
    table = run.format_table([result])
    assert "wrong_lr" in table and "losses disagree" in table


def test_workload_selection_by_name_and_module():
    found = run.discover()
    assert {"mlp_b128", "mlp_b8"} <= set(found)
    assert run.select(found, ["mlp"]) == ["mlp_b128", "mlp_b8"]
    with pytest.raises(SystemExit, match="no workload"):
        run.select(found, ["no_such_workload"])


def test_compiled_column_is_timed_and_reports_its_compile_time(capsys):
    """tg.compile of the eager step, with its own weights: its losses pass the same check."""
    (result,) = run.main(TINY + ["mlp_b8"])
    assert run.COMPILED in result["times"] and result["times"][run.COMPILED] > 0
    assert result["losses"][run.COMPILED] == pytest.approx(result["losses"]["numpy"],
                                                           rel=run.DEFAULT_RTOL)
    assert result["compile_seconds"] > 0 and result["compile_stats"]["traces"] == 2
    assert "compiled/numpy" in capsys.readouterr().out
    (plain,) = run.main(TINY + ["--no-compiled", "mlp_b8"])
    assert run.COMPILED not in plain["times"]


def test_a_step_the_compiler_refuses_is_reported_and_the_others_timed():
    """A branch on an array's value cannot be traced: the row says why, eager is timed."""
    import tinygrad_course as tg

    weights = bench_mlp.initial_weights()
    x, y = bench_mlp.batch(8)

    def setup():
        eager = bench_mlp.make_tinygrad(weights, x, y)
        probe = tg.tensor(x, device="cpu")

        def branching_step():
            return eager() if float(probe.data.sum()) != 0.0 else 0.0
        return {"tinygrad_course": branching_step, "numpy": bench_mlp.make_numpy(weights, x, y)}

    result = run.run_workload("branching", setup, warmup=1, blocks=1, block_time=0.001)
    assert result["error"] is None and run.COMPILED not in result["times"]
    assert "ValueDependentError" in result["compile_error"]
    assert {"tinygrad_course", "numpy"} <= set(result["times"])
    assert "not compiled: ValueDependentError" in run.format_table([result])

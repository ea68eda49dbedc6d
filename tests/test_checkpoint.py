"""Checkpoints: exact resume of training, strict all-or-nothing loading, atomic writes."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import checkpoint, nn, optim
from tinygrad_course import functional as F
from tinygrad_course.checkpoint import CheckpointError
from tinygrad_course.errors import ArgumentError
from tinygrad_course.optim.lr_scheduler import CosineAnnealingLR


def make_model(hidden=5, seed=0):
    return nn.Sequential(nn.Linear(3, hidden, seed=seed), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, 2, seed=seed + 1))


X = np.random.default_rng(0).standard_normal((8, 3))
Y = np.array([0, 1, 1, 0, 1, 0, 0, 1])


def train_steps(model, optimizer, steps, scheduler=None):
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(tg.tensor(X)), Y).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()


def snapshot(model, optimizer=None):
    state = {f"model/{k}": v.copy() for k, v in model.state_dict().items()}
    if optimizer is not None:
        for i, s in optimizer.state_dict()["state"].items():
            state.update({f"opt/{i}/{k}": np.array(v) for k, v in s.items()})
        state["opt/lr"] = np.array([g["lr"] for g in optimizer.param_groups])
    return state


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("make_optimizer", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: optim.AdamW(p, lr=0.01)], ids=["SGD", "AdamW"])
def test_resuming_from_a_checkpoint_continues_training_exactly(tmp_path, make_optimizer):
    model = make_model()
    opt = make_optimizer(model.parameters())
    sched = CosineAnnealingLR(opt, T_max=6)
    train_steps(model, opt, 3, sched)
    path = checkpoint.save(tmp_path / "run.npz", model, opt, epoch=3,
                           scheduler=sched.state_dict())
    train_steps(model, opt, 3, sched)  # the uninterrupted run

    resumed = make_model(seed=7)
    resumed_opt = make_optimizer(resumed.parameters())
    extra = checkpoint.load(path, resumed, resumed_opt)
    assert extra["epoch"] == 3
    resumed_sched = CosineAnnealingLR(resumed_opt, T_max=6)
    resumed_sched.load_state_dict(extra["scheduler"])
    train_steps(resumed, resumed_opt, 3, resumed_sched)
    assert_same(snapshot(resumed), snapshot(model))


def test_the_file_is_a_plain_npz_and_extras_come_back(tmp_path):
    model = make_model()
    path = checkpoint.save(str(tmp_path / "weights.ckpt"), model, note="hello", steps=[1, 2],
                           curve=np.arange(4.0), lr=np.float32(0.5))
    assert path.endswith("weights.ckpt") and os.listdir(tmp_path) == ["weights.ckpt"]
    with np.load(path, allow_pickle=False) as archive:
        assert "model/0.weight" in archive.files and "model/1.running_var" in archive.files
        np.testing.assert_array_equal(archive["model/3.bias"], model[3].bias.numpy())
    extra = checkpoint.load(path, make_model(seed=3))
    assert extra["note"] == "hello" and extra["steps"] == [1, 2] and extra["lr"] == 0.5
    np.testing.assert_array_equal(extra["curve"], np.arange(4.0))


@pytest.mark.parametrize("change, message", [
    (lambda: make_model(hidden=6), r"'0.weight' has shape \(5, 3\), the model expects \(6, 3\)"),
    (lambda: nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5)),
     r"unexpected keys \['3.weight', '3.bias'\]"),
    (lambda: nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2),
                           nn.LayerNorm(2)), r"missing keys \['4.weight', '4.bias'\]"),
], ids=["wrong shape", "extra keys", "missing keys"])
def test_a_checkpoint_that_does_not_fit_raises_and_changes_nothing(tmp_path, change, message):
    path = checkpoint.save(tmp_path / "c.npz", make_model())
    model = change()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    (model(tg.tensor(X)) ** 2).mean().backward()  # give the optimiser some state to keep
    opt.step()
    before = snapshot(model, opt)
    with pytest.raises(CheckpointError, match=message) as info:
        checkpoint.load(path, model, opt)
    assert "nothing was changed" in str(info.value)
    assert_same(snapshot(model, opt), before)


def test_an_optimiser_state_that_does_not_fit_raises_before_the_model_changes(tmp_path):
    model = make_model()
    opt = optim.Adam(model.parameters())
    train_steps(model, opt, 1)
    path = checkpoint.save(tmp_path / "c.npz", model, opt)
    target = make_model(seed=4)
    before = snapshot(target)
    with pytest.raises(CheckpointError, match="type Adam, not SGD"):
        checkpoint.load(path, target, optim.SGD(target.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match=r"groups of sizes \[6\], this one \[4\]"):
        checkpoint.load(path, target, optim.Adam(list(target.parameters())[:4]))
    no_optimizer = checkpoint.save(tmp_path / "no_opt.npz", model)
    with pytest.raises(CheckpointError, match="holds no optimiser state"):
        checkpoint.load(no_optimizer, target, optim.Adam(target.parameters()))
    assert_same(snapshot(target), before)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    not_npz = tmp_path / "notes.txt"
    not_npz.write_text("hello")
    with pytest.raises(CheckpointError, match="cannot read"):
        checkpoint.load(not_npz, make_model())
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="is not a tinygrad_course checkpoint"):
        checkpoint.load(other, make_model())


def test_a_failed_save_leaves_the_old_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    old = make_model(seed=0)
    checkpoint.save(path, old)
    original_bytes = path.read_bytes()

    def crash_midway(file, **arrays):
        file.write(b"half a zip archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, make_model(seed=1))
    monkeypatch.undo()
    assert path.read_bytes() == original_bytes
    assert os.listdir(tmp_path) == ["run.npz"]

    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("rename")))
    with pytest.raises(OSError, match="rename"):
        checkpoint.save(path, make_model(seed=1))
    monkeypatch.undo()
    assert path.read_bytes() == original_bytes and os.listdir(tmp_path) == ["run.npz"]
    restored = make_model(seed=5)
    checkpoint.load(path, restored)
    assert_same(snapshot(restored), snapshot(old))


def test_extras_that_cannot_be_stored_raise_before_writing(tmp_path):
    with pytest.raises(CheckpointError, match="an extra value cannot be stored"):
        checkpoint.save(tmp_path / "c.npz", make_model(), callback=print)
    assert os.listdir(tmp_path) == []


# ----- loading refuses, before changing anything, whatever would break the model or step() ---
def trained(optimizer=lambda p: optim.Adam(p, lr=0.01)):
    model = make_model()
    opt = optimizer(model.parameters())
    train_steps(model, opt, 2)
    return model, opt


def rewrite(path, change):
    """A copy of the checkpoint at ``path`` with its arrays passed through ``change``."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)
    changed = pathlib.Path(path).with_name("changed.npz")
    np.savez(changed, **arrays)
    return changed


def set_optimizer_json(key, value):
    def change(arrays):
        meta = json.loads(str(arrays["optimizer_json"]))
        if key == "lr":
            meta["param_groups"][0]["lr"] = value
        else:
            meta["scalar_state"]["0"][key] = value
        arrays["optimizer_json"] = np.array(json.dumps(meta))
    return change


def set_array(name, value):
    def change(arrays):
        arrays[name] = value
    return change


LAST_WEIGHT = "model/3.bias"  # the last entry of the model: the old loader had changed the rest
DAMAGED_STATES = [
    (set_array(LAST_WEIGHT, np.array(["a", "b"])), r"'3.bias' has dtype <U1 \(string\), which a "
                                                   r"float32 tensor cannot take"),
    (set_array(LAST_WEIGHT, np.array([1, 2])), r"'3.bias' has dtype int64 \(integer\)"),
    (set_array(LAST_WEIGHT, np.array([1 + 2j, 0j])), r"'3.bias' has dtype complex128 \(complex\)"),
    (set_array(LAST_WEIGHT, np.array([np.nan, 1.0], dtype=np.float32)),
     r"'3.bias' holds 1 NaN or infinite value\(s\) \(of 2\) as float32; pass allow_nonfinite"),
    (set_array(LAST_WEIGHT, np.array([1e39, 1.0])), r"'3.bias' holds 1 NaN or infinite"),
    (set_array("model/1.num_batches_tracked", np.array(2.5)),
     r"'1.num_batches_tracked' holds values that are not whole numbers or do not fit int64"),
    (set_array("optimizer/state/5/exp_avg", np.array(["x", "y"])),
     r"state 'exp_avg' of parameter 5 has dtype <U1"),
    (set_array("optimizer/state/5/exp_avg", np.zeros(3, dtype=np.float32)),
     r"state 'exp_avg' of parameter 5 has shape \(3,\), the parameter has \(2,\)"),
    (set_array("optimizer/state/2/exp_avg_sq", np.full(5, np.inf, dtype=np.float32)),
     r"state 'exp_avg_sq' of parameter 2 holds 5 NaN or infinite value\(s\)"),
    (lambda arrays: arrays.pop("optimizer/state/4/exp_avg_sq"),
     r"the state of parameter 4 lacks \['exp_avg_sq'\], which Adam.step\(\) needs"),
    (set_array("optimizer/state/1/velocity", np.zeros(5, dtype=np.float32)),
     r"the state of parameter 1 has keys Adam does not keep: \['velocity'\]"),
    (set_optimizer_json("lr", "0.01"), r"group 0 'lr' is '0.01', expected a number"),
    (set_optimizer_json("lr", float("nan")), r"group 0 'lr' is nan, expected a finite number"),
    (set_optimizer_json("step", "2"), r"state 'step' of parameter 0 is '2', expected a whole "
                                      r"number >= 0"),
    (lambda arrays: arrays.pop("extra_json"), r"'extra_json' is missing"),
    (set_array("extra_json", np.array("{'epoch': 3")), r"'extra_json' is not valid JSON"),
    (set_array("extra_json", np.array("[3]")), r"'extra_json' holds a list, not a JSON object"),
    (set_array("optimizer_json", np.array("{")), r"'optimizer_json' is not valid JSON"),
]


@pytest.mark.parametrize("change, message", DAMAGED_STATES, ids=[
    "str weight", "int weight", "complex weight", "NaN weight", "float32 overflow",
    "fractional count", "str moment", "moment shape", "inf moment", "no exp_avg_sq",
    "unknown state key", "str lr", "NaN lr", "str step", "no extra_json", "bad extra_json",
    "extra_json list", "bad optimizer_json"])
def test_a_state_that_would_break_the_model_or_step_is_refused_and_changes_nothing(
        tmp_path, change, message):
    path = checkpoint.save(tmp_path / "c.npz", *trained(), epoch=2)
    changed = rewrite(path, change)
    model, opt = trained(lambda p: optim.Adam(p, lr=0.01))
    model[3].bias.data = model[3].bias.data + 1  # differs from the file everywhere
    before = snapshot(model, opt)
    with pytest.raises(CheckpointError, match=message) as info:
        checkpoint.load(changed, model, opt)
    assert str(changed) in str(info.value) and "nothing was changed" in str(info.value)
    assert_same(snapshot(model, opt), before)
    train_steps(model, opt, 1)  # the optimiser still steps


def test_every_problem_is_listed_at_once(tmp_path):
    path = checkpoint.save(tmp_path / "c.npz", *trained())
    changed = rewrite(path, lambda arrays: arrays.update({
        "model/0.weight": np.zeros((2, 2), dtype=np.float32), LAST_WEIGHT: np.array(["a", "b"]),
        "extra_json": np.array("not json")}))
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(changed, *trained())
    lines = str(info.value).splitlines()[1:]
    assert len(lines) == 3 and "'0.weight' has shape (2, 2)" in lines[0]
    assert "'3.bias' has dtype <U1" in lines[1] and "'extra_json' is not valid JSON" in lines[2]


def test_nonfinite_weights_load_only_when_asked_for(tmp_path):
    model, opt = trained()
    model[0].weight.data[0, 0] = np.nan
    opt.state[model[0].weight]["exp_avg"][1, 1] = np.inf
    path = checkpoint.save(tmp_path / "diverged.npz", model, opt)
    target, target_opt = make_model(seed=3), optim.Adam(make_model().parameters(), lr=0.01)
    with pytest.raises(CheckpointError, match="holds 1 NaN or infinite"):
        checkpoint.load(path, target)
    target_opt = optim.Adam(target.parameters(), lr=0.01)
    checkpoint.load(path, target, target_opt, allow_nonfinite=True)
    assert_same(snapshot(target, target_opt), snapshot(model, opt))


def test_an_integer_buffer_takes_whole_floats_and_a_float_weight_takes_float64(tmp_path):
    path = checkpoint.save(tmp_path / "c.npz", make_model())
    changed = rewrite(path, lambda arrays: arrays.update({
        "model/1.num_batches_tracked": np.array(7.0),
        "model/0.weight": arrays["model/0.weight"].astype(np.float64)}))
    model = make_model(seed=2)
    checkpoint.load(changed, model)
    assert model[1].num_batches_tracked.numpy() == 7
    assert model[1].num_batches_tracked.dtype == np.int64 and model[0].weight.dtype == np.float32


# ----- the same rules hold for Module.load_state_dict and Optimizer.load_state_dict called
# directly (their own error classes: DTypeError, ShapeError, KeyError, CheckpointError) -------
@pytest.mark.parametrize("value, error, message", [
    (np.array(["a", "b"]), tg.DTypeError, r"'3.bias' has dtype <U1 \(string\)"),
    (np.array([1, 2]), tg.DTypeError, r"'3.bias' has dtype int64"),
    (np.array([1j, 2j]), tg.DTypeError, r"'3.bias' has dtype complex128"),
    ([[1.0], [2.0, 3.0]], tg.DTypeError, r"'3.bias' is not an array"),
    (np.array([np.inf, 0.0]), CheckpointError, r"'3.bias' holds 1 NaN or infinite"),
], ids=["str", "int", "complex", "ragged", "inf"])
def test_module_load_state_dict_checks_every_value_first(value, error, message):
    model = make_model()
    before = snapshot(model)
    state = make_model(seed=4).state_dict()
    state["3.bias"] = value
    with pytest.raises(error, match=message):
        model.load_state_dict(state)
    assert_same(snapshot(model), before)


def test_module_load_state_dict_can_take_nonfinite_values_when_asked():
    model, state = make_model(), make_model(seed=4).state_dict()
    state["3.bias"][0] = np.nan
    model.load_state_dict(state, allow_nonfinite=True)
    np.testing.assert_array_equal(model[3].bias.numpy(), state["3.bias"])


def broken(key, value):
    def change(state_dict):
        if key in ("lr", "betas"):
            state_dict["param_groups"][0][key] = value
        elif value is None:
            del state_dict["state"][0][key]
        else:
            state_dict["state"][0][key] = value
    return change


@pytest.mark.parametrize("change, error, message", [
    (broken("exp_avg_sq", None), CheckpointError, r"lacks \['exp_avg_sq'\]"),
    (broken("step", 1.5), tg.DTypeError, r"'step' of parameter 0 is 1.5"),
    (broken("step", True), tg.DTypeError, r"'step' of parameter 0 is True"),
    (broken("exp_avg", np.ones((5, 3), dtype=np.int32)), tg.DTypeError, r"has dtype int32"),
    (broken("exp_avg", np.full((5, 3), np.nan)), CheckpointError, r"holds 15 NaN"),
    (broken("lr", "0.1"), tg.DTypeError, r"group 0 'lr' is '0.1', expected a number"),
    (broken("lr", float("inf")), CheckpointError, r"'lr' is inf, expected a finite number"),
    (broken("betas", (0.9,)), tg.DTypeError, r"'betas' is \(0.9,\), expected a sequence of 2"),
    (broken("betas", (0.9, "0.999")), tg.DTypeError, r"'betas'\[1\] is '0.999'"),
    (broken("lr", -0.1), ArgumentError, r"group 0: Adam: invalid learning rate lr=-0.1"),
    (broken("betas", (0.9, 1.5)), ArgumentError, r"invalid beta betas\[1\]=1.5"),
], ids=["no exp_avg_sq", "float step", "bool step", "int moment", "NaN moment", "str lr",
        "inf lr", "short betas", "str beta", "negative lr", "beta above 1"])
def test_optimizer_load_state_dict_refuses_what_would_break_step(change, error, message):
    model, opt = trained()
    before = snapshot(model, opt)
    state_dict = opt.state_dict()
    change(state_dict)
    with pytest.raises(error, match=message):
        opt.load_state_dict(state_dict)
    assert_same(snapshot(model, opt), before)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_sgd_with_momentum_needs_its_buffer_and_plain_sgd_keeps_none():
    model, opt = trained(lambda p: optim.SGD(p, lr=0.1, momentum=0.9))
    state_dict = opt.state_dict()
    del state_dict["state"][3]["momentum_buffer"]
    state_dict["state"][3]["other"] = 1
    with pytest.raises(CheckpointError, match=r"parameter 3 lacks \['momentum_buffer'\]"):
        opt.load_state_dict(state_dict)
    plain_model, plain = trained(lambda p: optim.SGD(p, lr=0.1))
    plain.load_state_dict(plain.state_dict())  # no momentum: empty states are fine
    train_steps(plain_model, plain, 1)


# ----- temporary files of killed saves ---------------------------------------------------------
def finished_pid():
    """The pid of a process that has exited (so no process runs with it)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


@pytest.mark.skipif(os.name != "posix", reason="writer pids are checked on POSIX only")
def test_save_removes_stale_temporary_files_of_the_same_target_only(tmp_path):
    dead, alive = finished_pid(), os.getppid()
    stale = tmp_path / f".run.npz.{dead}.a1b2c3_z.tmp"
    kept = {
        "young": tmp_path / f".run.npz.{dead}.youngxyz.tmp",       # may still be written
        "live writer": tmp_path / f".run.npz.{alive}.livexyzw.tmp",
        "this process": tmp_path / f".run.npz.{os.getpid()}.mineabcd.tmp",
        "other target": tmp_path / f".other.npz.{dead}.a1b2c3_z.tmp",
        "other pattern": tmp_path / f".run.npz.{dead}.a1b2c3_z.tmp.bak",
        "no pid": tmp_path / ".run.npz.a1b2c3_z.tmp",
        "user file": tmp_path / "notes.txt",
    }
    for file in [stale, *kept.values()]:
        file.write_bytes(b"half an archive")
        if file != kept["young"]:
            age(file, 2 * checkpoint.STALE_AFTER_SECONDS)
    checkpoint.save(tmp_path / "run.npz", make_model())
    assert not stale.exists()
    assert {name: file.exists() for name, file in kept.items()} == dict.fromkeys(kept, True)
    assert (tmp_path / "run.npz").exists()


KILLED_SAVE = """
import sys, time
import numpy
from tinygrad_course import checkpoint, nn

def stall(file, **arrays):  # write part of the archive, then hang until killed
    file.write(b"PK half an archive")
    file.flush()
    print("writing", flush=True)
    time.sleep(60)

numpy.savez = stall
checkpoint.save(sys.argv[1], nn.Linear(3, 2))
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and writer pids are POSIX")
def test_a_save_killed_midway_leaves_the_old_file_and_its_leftover_goes_next_time(tmp_path):
    path = tmp_path / "run.npz"
    old = make_model(seed=0)
    checkpoint.save(path, old)
    original = path.read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        leftovers = [name for name in os.listdir(tmp_path) if name != "run.npz"]
        checkpoint.save(tmp_path / "run.npz", old)  # the writer runs: its file must stay
        assert sorted(os.listdir(tmp_path)) == sorted(["run.npz", *leftovers])
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    assert path.read_bytes() == original and len(leftovers) == 1
    assert leftovers[0].startswith(f".run.npz.{writer.pid}.") and leftovers[0].endswith(".tmp")
    age(tmp_path / leftovers[0], 2 * checkpoint.STALE_AFTER_SECONDS)
    checkpoint.save(path, make_model(seed=1))
    assert os.listdir(tmp_path) == ["run.npz"]
    restored = make_model(seed=5)
    checkpoint.load(path, restored)
    assert_same(snapshot(restored), snapshot(make_model(seed=1)))

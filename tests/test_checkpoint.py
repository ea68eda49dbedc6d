"""Checkpoints: exact resume of training, strict all-or-nothing loading, atomic writes."""

import os

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import checkpoint, nn, optim
from tinygrad_course import functional as F
from tinygrad_course.checkpoint import CheckpointError
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
    (lambda: make_model(hidden=6), r"'0.weight' has shape \(5, 3\) in the file, \(6, 3\) in "
                                   r"the model"),
    (lambda: nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5)),
     r"in the file but not in the model: \['3.weight', '3.bias'\]"),
    (lambda: nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2),
                           nn.LayerNorm(2)), r"missing from the file: \['4.weight', '4.bias'\]"),
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

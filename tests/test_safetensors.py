"""The safetensors format: tg.save/tg.load and checkpoint.save/load, atomic and checked, and
state dicts that PyTorch reads and writes (the interop extra; skipped, with the reason, when
the safetensors package or torch is not installed)."""

import os
import sys

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import checkpoint, nn, optim
from tinygrad_course.errors import CheckpointError

safetensors_numpy = pytest.importorskip(
    "safetensors.numpy", reason="the safetensors package is not installed (pip install -e "
    "'.[interop]')")


def _state():
    rng = np.random.default_rng(0)
    return {"w": tg.Tensor(rng.standard_normal((3, 2)).astype(np.float32)),
            "counts": np.arange(4, dtype=np.int64),
            "b": tg.Tensor(rng.standard_normal(5)),  # float64
            "mask": np.array([True, False]),
            "scalar": np.array(2.5, dtype=np.float32)}


def test_save_load_round_trip_keeps_types_dtypes_and_order(tmp_path):
    state = _state()
    path = tg.save(state, tmp_path / "s.safetensors")
    loaded = tg.load(path)
    assert list(loaded) == list(state)
    for key, value in state.items():
        expected = value.numpy() if isinstance(value, tg.Tensor) else value
        got = loaded[key]
        assert isinstance(got, type(value)), key
        got = got.numpy() if isinstance(got, tg.Tensor) else got
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def test_single_tensor_and_explicit_format(tmp_path):
    x = tg.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    path = tg.save(x, tmp_path / "x.bin", format="safetensors")  # the suffix does not matter
    y = tg.load(path)
    assert isinstance(y, tg.Tensor) and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    with pytest.raises(CheckpointError, match="format must be one of"):
        tg.save(x, tmp_path / "x.npz", format="pickle")


def test_npz_stays_the_default(tmp_path):
    path = tg.save({"a": tg.Tensor([1.0])}, tmp_path / "a.npz")
    with open(path, "rb") as file:
        assert file.read(2) == b"PK"


def test_keys_are_stored_as_given_so_other_programs_read_them(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    path = tg.save(model.state_dict(), tmp_path / "m.safetensors")
    raw = safetensors_numpy.load_file(str(path))
    assert sorted(raw) == sorted(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(raw[key], value)


def test_foreign_file_loads_as_a_dict_of_tensors(tmp_path):
    arrays = {"encoder.weight": np.ones((2, 2), np.float32), "step": np.array(3, np.int64)}
    safetensors_numpy.save_file(arrays, str(tmp_path / "f.safetensors"))
    loaded = tg.load(tmp_path / "f.safetensors")
    assert set(loaded) == set(arrays)
    assert all(isinstance(v, tg.Tensor) for v in loaded.values())
    assert loaded["step"].dtype == np.int64


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "s.safetensors"
    tg.save({"a": tg.Tensor([1.0, 2.0])}, path)
    before = path.read_bytes()
    model = nn.Linear(2, 2)
    # an extra value that safetensors cannot hold: refused before any file is made
    with pytest.raises(CheckpointError, match="numeric arrays only"):
        checkpoint.save(path, model, note=np.array(["a", "b"]))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["s.safetensors"]


@pytest.mark.parametrize("damage", ["truncate", "header", "metadata"])
def test_damaged_files_raise_checkpoint_error(tmp_path, damage):
    path = tmp_path / "d.safetensors"
    tg.save({"a": tg.Tensor(np.ones(8, np.float32))}, path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-3]
    elif damage == "header":
        data[8] = ord("[")  # the header is no longer a JSON object
    else:  # the metadata lists an entry the file does not hold
        safetensors_numpy.save_file({"a": np.ones(2, np.float32)}, str(path), metadata={
            "__format__": tg.serialization.FORMAT,
            "__kinds__": '{"kind": "dict", "entries": {"b": "tensor"}}'})
        data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="d.safetensors"):
        tg.load(path)


def _trained(seed):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        model(tg.Tensor(rng.standard_normal((5, 3)).astype(np.float32))).tanh().mean().backward()
        opt.step()
    return model, opt


def test_checkpoint_round_trip_with_optimizer_and_extras(tmp_path):
    model, opt = _trained(0)
    path = checkpoint.save(tmp_path / "run.safetensors", model, opt, epoch=3,
                           curve=np.array([0.5, 0.25]))
    fresh, fresh_opt = _trained(1)
    extra = checkpoint.load(path, fresh, fresh_opt)
    assert extra["epoch"] == 3
    np.testing.assert_array_equal(extra["curve"], [0.5, 0.25])
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    saved, restored = opt.state_dict(), fresh_opt.state_dict()
    for i, state in saved["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(value, restored["state"][i][key])


def test_checkpoint_load_checks_everything_before_changing_anything(tmp_path):
    model, _ = _trained(0)
    path = checkpoint.save(tmp_path / "run.safetensors", model)
    other = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))  # last layer differs
    before = other.state_dict()
    with pytest.raises(CheckpointError, match="shape"):
        checkpoint.load(path, other)
    for key, value in before.items():
        np.testing.assert_array_equal(other.state_dict()[key], value)


def test_checkpoint_refuses_a_plain_safetensors_file(tmp_path):
    safetensors_numpy.save_file({"0.weight": np.ones((4, 3), np.float32)},
                                str(tmp_path / "w.safetensors"))
    with pytest.raises(CheckpointError, match="not a tinygrad_course checkpoint"):
        checkpoint.load(tmp_path / "w.safetensors", nn.Linear(3, 4))


def test_missing_package_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)  # import raises ImportError
    with pytest.raises(CheckpointError, match=r"interop"):
        tg.save(tg.Tensor([1.0]), tmp_path / "x.safetensors")


# ----- PyTorch reads what this framework saved, and the other way round ---------------------
def _torch():
    return pytest.importorskip("torch", reason="torch is not installed (pip install -e "
                               "'.[interop]')")


def _pairs(torch):
    """(our module, PyTorch's module of the same architecture, input array)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 8)).astype(np.float32)
    return [
        (nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, seed=0),
         torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), x),
        (nn.LSTM(8, 6, num_layers=2, batch_first=True, seed=0),
         torch.nn.LSTM(8, 6, num_layers=2, batch_first=True), x),
        (nn.Conv1d(5, 3, kernel_size=3, seed=0), torch.nn.Conv1d(5, 3, kernel_size=3), x),
    ]


def _output(module, x):
    out = module(x)
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("index", [0, 1, 2], ids=["transformer_layer", "lstm", "conv1d"])
def test_state_dict_round_trip_through_pytorch(tmp_path, index):
    torch = _torch()
    from safetensors.torch import load_file, save_file
    torch.manual_seed(index)
    ours, theirs, x = _pairs(torch)[index]
    ours.eval()
    theirs.eval()
    # ours -> file -> PyTorch: the same outputs
    tg.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(load_file(str(tmp_path / "ours.safetensors")))
    with torch.no_grad():
        expected = _output(theirs, torch.tensor(x)).numpy()
    np.testing.assert_allclose(_output(ours, tg.Tensor(x)).numpy(), expected, atol=1e-5)
    # PyTorch (re-initialised) -> file -> ours
    for p in theirs.parameters():
        torch.nn.init.normal_(p, std=0.3)
    save_file({k: v.contiguous() for k, v in theirs.state_dict().items()},
              str(tmp_path / "theirs.safetensors"))
    ours.load_state_dict(tg.load(tmp_path / "theirs.safetensors"))
    with torch.no_grad():
        expected = _output(theirs, torch.tensor(x)).numpy()
    np.testing.assert_allclose(_output(ours, tg.Tensor(x)).numpy(), expected, atol=1e-5)

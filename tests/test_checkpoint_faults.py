"""Fault injection: damaged checkpoint files raise CheckpointError and change nothing.

A real checkpoint (a model with BatchNorm, Adam's state, extras) is damaged in many seeded
ways: single bit flips at random offsets, truncation at random lengths, an empty file, a
.npy file, members missing, not a zip at all, a member that is not an array, a member whose
header promises more data than it holds. Each load must either raise CheckpointError naming
the file and what is wrong, with the model and the optimiser exactly as before, or (a flip
in a byte the format does not use, such as a timestamp) load exactly the original values.
"""

import io
import re
import zipfile

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import checkpoint, nn, optim
from tinygrad_course import functional as F
from tinygrad_course.errors import CheckpointError

X = np.random.default_rng(0).standard_normal((8, 3))
Y = np.array([0, 1, 1, 0, 1, 0, 0, 1])


def trained(seed, steps=2):
    model = nn.Sequential(nn.Linear(3, 5, seed=seed), nn.BatchNorm1d(5), nn.ReLU(),
                          nn.Linear(5, 2, seed=seed + 1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(tg.tensor(X)), Y).backward()
        opt.step()
    return model, opt


def snapshot(model, opt):
    state = {f"model/{k}": v.copy() for k, v in model.state_dict().items()}
    for i, s in opt.state_dict()["state"].items():
        state.update({f"opt/{i}/{k}": np.array(v) for k, v in s.items()})
    state["opt/groups"] = np.array(repr(opt.state_dict()["param_groups"]))
    return state


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The checkpoint's bytes, and what loading it gives (values and extras)."""
    path = tmp_path_factory.mktemp("original") / "run.npz"
    checkpoint.save(path, *trained(seed=0), epoch=2, curve=np.arange(4.0))
    model, opt = trained(seed=9, steps=1)
    extra = checkpoint.load(path, model, opt)
    return path.read_bytes(), snapshot(model, opt), extra


# A message names the file, then what is wrong with it.
PROBLEM = (r"checkpoint\.load: (cannot read '{path}' as a \.npz archive \(\w+: .+\)"
           r"|'{path}' (is damaged:\n  .+|is not a tinygrad_course checkpoint .+"
           r"|cannot be loaded into Sequential and Adam \(nothing was changed\):\n  .+))")


def load_or_refuse(path, original):
    """Load ``path``; True if it loaded the original exactly, False if it was refused as
    it should be (CheckpointError naming the file and the problem, nothing changed)."""
    _, loaded, extra = original
    model, opt = trained(seed=9, steps=1)
    before = snapshot(model, opt)
    try:
        got = checkpoint.load(path, model, opt)
    except CheckpointError as err:
        message = str(err)
        assert re.fullmatch(PROBLEM.format(path=re.escape(str(path))), message, re.DOTALL), \
            message
        assert_same(snapshot(model, opt), before)
        return False
    assert_same(snapshot(model, opt), loaded)
    assert got.keys() == extra.keys() and got["epoch"] == extra["epoch"]
    np.testing.assert_array_equal(got["curve"], extra["curve"])
    return True


def test_random_bit_flips_are_refused_or_harmless(tmp_path, original):
    data = original[0]
    rng = np.random.default_rng(2026)
    outcomes = []
    for i, offset in enumerate(rng.integers(0, len(data), size=150)):
        damaged = bytearray(data)
        damaged[offset] ^= 1 << int(rng.integers(0, 8))
        path = tmp_path / f"flip{i}.npz"
        path.write_bytes(bytes(damaged))
        outcomes.append(load_or_refuse(path, original))
    assert outcomes.count(False) > 0  # the flips reached the data, not only unused bytes


def test_truncated_files_are_refused(tmp_path, original):
    data = original[0]
    rng = np.random.default_rng(7)
    for i, length in enumerate([0, 1, 21, 22, len(data) - 1,
                                *rng.integers(0, len(data), size=60)]):
        path = tmp_path / f"cut{i}.npz"
        path.write_bytes(data[:length])
        assert load_or_refuse(path, original) is False, length


def rezipped(data, change):
    """The archive ``data`` rewritten member by member through change(name, bytes), which
    returns the new bytes or None to leave the member out (CRCs are recomputed: only the
    change itself is wrong)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = change(info.filename, source.read(info))
            if content is not None:
                target.writestr(info.filename, content)
    return out.getvalue()


def npy_bytes(array, **options):
    buffer = io.BytesIO()
    np.save(buffer, array, **options)
    return buffer.getvalue()


def without(member):
    return lambda name, content: None if name == member else content


def replaced(member, content):
    return lambda name, old: content if name == member else old


def renamed_to_txt(data):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename.replace("extra_json.npy", "notes.txt"),
                            source.read(info))
    return out.getvalue()


DAMAGE = {
    "empty file": lambda data: b"",
    "a .npy file": lambda data: npy_bytes(np.arange(6.0)),
    "not a zip": lambda data: b"epoch 3, loss 0.25\n" * 20,
    "zip of nothing": lambda data: rezipped(data, lambda name, content: None),
    "no __format__": lambda data: rezipped(data, without("__format__.npy")),
    "no weight": lambda data: rezipped(data, without("model/3.bias.npy")),
    "no moment": lambda data: rezipped(data, without("optimizer/state/2/exp_avg.npy")),
    "no optimizer_json": lambda data: rezipped(data, without("optimizer_json.npy")),
    "no extra_json": lambda data: rezipped(data, without("extra_json.npy")),
    "member not .npy": renamed_to_txt,
    "short data": lambda data: rezipped(data, replaced(
        "model/0.weight.npy", npy_bytes(np.zeros((5, 3), np.float32))[:-8])),
    "object array": lambda data: rezipped(data, replaced(
        "model/0.bias.npy", npy_bytes(np.array([{"a": 1}] * 5, dtype=object),
                                      allow_pickle=True))),
    "not npy at all": lambda data: rezipped(data, replaced("model/0.bias.npy", b"\x00" * 40)),
    "wrong __format__": lambda data: rezipped(data, replaced(
        "__format__.npy", npy_bytes(np.array("tinygrad_course.checkpoint/0")))),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_structurally_damaged_files_are_refused(tmp_path, original, damage):
    path = tmp_path / "damaged.npz"
    path.write_bytes(damage(original[0]))
    assert load_or_refuse(path, original) is False


def test_a_file_that_is_not_there_or_a_directory_is_refused(tmp_path, original):
    assert load_or_refuse(tmp_path / "missing.npz", original) is False
    (tmp_path / "folder.npz").mkdir()
    assert load_or_refuse(tmp_path / "folder.npz", original) is False


def test_the_rewriting_helper_keeps_a_loadable_checkpoint(tmp_path, original):
    """The damage above is the change alone: rewritten unchanged, the file loads."""
    path = tmp_path / "same.npz"
    path.write_bytes(rezipped(original[0], lambda name, content: content))
    assert load_or_refuse(path, original) is True

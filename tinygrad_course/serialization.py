"""tg.save / tg.load: one tensor, or a flat dict of tensors and arrays (a state dict), in a
.npz file that numpy.load opens without pickle.

    tg.save(x, "x.npz");                      x = tg.load("x.npz")
    tg.save(model.state_dict(), "w.npz");     model.load_state_dict(tg.load("w.npz"))

The archive holds ``__format__`` ("tinygrad_course.save/1"), ``__kinds__`` (JSON: what was
saved, and for a dict whether each entry was a Tensor or an array, so load gives back the
same types, in the same order) and the arrays: ``tensor``, or ``entries/<key>``. Saving is
atomic (written to a temporary file and renamed, as checkpoint.save does). Only flat dicts
with string keys and numeric values are taken: a nested dict, e.g. an optimiser's
state_dict, is refused with a pointer to checkpoint.save, which stores model and optimiser
together. Loading reads with allow_pickle=False; a damaged or foreign file raises
CheckpointError naming it. Tensors come back on the default device (or ``device=``), with
their saved dtype and requires_grad=False.
"""

import json
import os
import zipfile

import numpy

from . import backend
from .checkpoint import write_npz_atomically
from .errors import CheckpointError, DTypeError
from .tensor import NUMERIC_KINDS, Tensor

FORMAT = "tinygrad_course.save/1"


def _host(value, what):
    if isinstance(value, Tensor):
        return value.numpy(), "tensor"
    if backend.is_device_array(value) and value.dtype.kind in NUMERIC_KINDS:
        return backend.to_numpy(value), "array"
    raise DTypeError(f"save: {what} is a {type(value).__name__}; save() takes a Tensor or a "
                     "flat dict of Tensors and arrays (for a model with its optimiser use "
                     "checkpoint.save)")


def save(obj, path):
    """Write a Tensor, or a flat dict {str: Tensor or array}, to ``path`` (.npz); returns the
    path (used as given: no suffix is added)."""
    if isinstance(obj, dict):
        arrays, kinds = {}, {}
        for key, value in obj.items():
            if not isinstance(key, str) or not key:
                raise DTypeError(f"save: dict keys must be non-empty strings, got {key!r}")
            arrays[f"entries/{key}"], kinds[key] = _host(value, f"the entry {key!r}")
        layout = {"kind": "dict", "entries": kinds}
    else:
        array, kind = _host(obj, "the object")
        arrays, layout = {"tensor": array}, {"kind": kind}
    arrays["__format__"] = numpy.array(FORMAT)
    arrays["__kinds__"] = numpy.array(json.dumps(layout))
    return write_npz_atomically(path, arrays)


def _restore(array, kind, device):
    return Tensor(array, dtype=array.dtype, device=device) if kind == "tensor" else array


def load(path, device=None):
    """What save() wrote to ``path``: a Tensor (or array), or a dict of them in saved order."""
    try:
        with numpy.load(os.fspath(path), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        layout = json.loads(str(arrays.pop("__kinds__")))
        marker = str(arrays.pop("__format__"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"load: cannot read {os.fspath(path)!r} as a file save() wrote "
                              f"({type(err).__name__}: {err})") from err
    if marker != FORMAT:
        raise CheckpointError(f"load: {os.fspath(path)!r} is not a tg.save file (format "
                              f"{marker!r}); a checkpoint is read by checkpoint.load")
    if layout.get("kind") == "dict":
        return {key: _restore(arrays[f"entries/{key}"], kind, device)
                for key, kind in layout["entries"].items()}
    return _restore(arrays["tensor"], layout["kind"], device)

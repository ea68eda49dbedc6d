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

The safetensors format (``format="safetensors"``, or a path ending in ".safetensors"; the
``interop`` extra) is what Hugging Face and PyTorch exchange weights in: a dict is stored
under its own keys, so ``safetensors.torch.load_file`` gives PyTorch the same state dict
(and a PyTorch state dict saved with ``safetensors.torch.save_file`` loads here); a single
tensor is stored as ``tensor``. ``__format__`` and ``__kinds__`` go into the file's string
metadata. load() tells the formats apart by the file's first bytes. A safetensors file
written by another program (no ``__format__``) loads as a dict of Tensors in file order,
since such a file can only hold named arrays. Values are checked when the dict is given to
load_state_dict, as for npz.
"""

import json
import os
import zipfile

import numpy

from . import backend, safetensors_io
from .checkpoint import write_npz_atomically, write_safetensors_atomically
from .errors import CheckpointError, DTypeError
from .tensor import NUMERIC_KINDS, Tensor

FORMAT = "tinygrad_course.save/1"
FORMATS = ("npz", "safetensors")


def _host(value, what):
    if isinstance(value, Tensor):
        return value.numpy(), "tensor"
    if backend.is_device_array(value) and value.dtype.kind in NUMERIC_KINDS:
        return backend.to_numpy(value), "array"
    raise DTypeError(f"save: {what} is a {type(value).__name__}; save() takes a Tensor or a "
                     "flat dict of Tensors and arrays (for a model with its optimiser use "
                     "checkpoint.save)")


def save(obj, path, format=None):
    """Write a Tensor, or a flat dict {str: Tensor or array}, to ``path``; returns the path
    (used as given: no suffix is added). ``format``: "npz" or "safetensors"; None picks
    safetensors for a path ending in ".safetensors", npz otherwise."""
    if format is None:
        format = "safetensors" if os.fspath(path).endswith(".safetensors") else "npz"
    if format not in FORMATS:
        raise CheckpointError(f"save: format must be one of {FORMATS}, got {format!r}")
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
    if format == "safetensors":  # keys as they are: PyTorch reads the same names
        arrays = {name.removeprefix("entries/"): array for name, array in arrays.items()}
    arrays["__format__"] = numpy.array(FORMAT)
    arrays["__kinds__"] = numpy.array(json.dumps(layout))
    if format == "safetensors":
        return write_safetensors_atomically(path, arrays, "save")
    return write_npz_atomically(path, arrays)


def _restore(array, kind, device):
    return Tensor(array, dtype=array.dtype, device=device) if kind == "tensor" else array


def load(path, device=None):
    """What save() wrote to ``path``: a Tensor (or array), or a dict of them in saved order
    (a foreign .safetensors file: a dict of Tensors)."""
    if safetensors_io.looks_like_safetensors(path):
        return _load_safetensors(path, device)
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


def _load_safetensors(path, device):
    tensors, metadata = safetensors_io.read(path, "load")
    if "__format__" not in metadata:  # written elsewhere: a state dict of tensors
        return {name: _restore(array, "tensor", device) for name, array in tensors.items()}
    try:
        marker, layout = metadata["__format__"], json.loads(metadata["__kinds__"])
        if marker != FORMAT:
            raise ValueError(f"format {marker!r}, expected {FORMAT!r}")
        if layout.get("kind") == "dict":
            entries = layout["entries"]
            if set(entries) != set(tensors):
                raise ValueError(f"its tensors {sorted(tensors)} are not the entries "
                                 f"{sorted(entries)} its metadata lists")
            return {key: _restore(tensors[key], kind, device) for key, kind in entries.items()}
        if set(tensors) != {"tensor"}:
            raise ValueError(f"it holds {sorted(tensors)}, expected one 'tensor'")
        return _restore(tensors["tensor"], layout["kind"], device)
    except (KeyError, ValueError, AttributeError, TypeError) as err:
        raise CheckpointError(f"load: {os.fspath(path)!r} is not a tg.save file "
                              f"({type(err).__name__}: {err})") from err

"""Checkpoints: a model's weights (and optionally its optimiser's state) in one .npz file.

    checkpoint.save("run.npz", model, optimizer, epoch=3, scheduler=sched.state_dict())
    extra = checkpoint.load("run.npz", model, optimizer)       # -> {"epoch": 3, ...}

The file is a plain NumPy archive (``numpy.load`` opens it, no pickle):

    __format__                  "tinygrad_course.checkpoint/1"
    model/<name>                every entry of model.state_dict() ("0.weight", ...)
    optimizer_json              JSON: the optimiser's class, hyper-parameters per group, and
                                the scalar state (e.g. Adam's step count)
    optimizer/state/<i>/<key>   array state of parameter i (momentum buffers, Adam moments)
    extra_json, extra/<key>     the keyword arguments of save(): JSON values, and arrays

A path ending in ".safetensors" is written in the safetensors format instead (the
``interop`` extra): the same names, the arrays as tensors and the three strings
(``__format__``, ``optimizer_json``, ``extra_json``) in the file's metadata; load() tells
the two formats apart by their first bytes. Everything below holds for both, except that
safetensors has no checksums: a flipped bit in the data goes unnoticed (a damaged header,
size or offset does not).

Saving is atomic. The archive is written to a temporary file ``.NAME.<pid>.<random>.tmp`` in
the target's directory, flushed to disk (fsync) and moved over the target with os.replace,
so a crash or a kill mid-save leaves the old checkpoint intact, never half a file.

Temporary files a killed save left behind are removed by the next save of the same target:
those whose name has exactly that pattern for this NAME, in the same directory, whose writer
(the pid in the name) no longer runs on this machine, and that nobody has written for at
least STALE_AFTER_SECONDS. The pid test keeps the temporary file of a save still running in
another process (or another thread of this one: files with our own pid are never removed);
the age test keeps one being written from another machine that shares the directory, where
the pid means nothing. Everything else in the directory is left alone.

Loading checks everything before changing anything, and raises CheckpointError naming the
file and listing every problem, with the model and the optimiser left exactly as they were:

- a damaged file (truncated, bits flipped, not a zip, a member missing or not an array):
  every member is read whole and its CRC checked before anything is used;
- names (missing or unexpected), shapes, and dtype kinds (a float weight or moment takes
  only floats: integers, complex numbers, strings and objects are refused);
- values: NaN or inf in a weight, a buffer or a moment is refused unless
  ``allow_nonfinite=True`` (then the run's NaNs load as saved, e.g. to inspect them);
- the optimiser: its type, the sizes of its parameter groups, each hyper-parameter (the type
  of the value it replaces, finite: an ``lr`` stored as a string is refused) and the state
  keys its step() needs (Adam: step, exp_avg, exp_avg_sq; SGD with momentum: the buffer);
- the extras: ``extra_json`` must be there and hold a JSON object.

See tinygrad_course.state for the rules, which Module.load_state_dict and
Optimizer.load_state_dict apply as well.
"""

import io
import json
import math
import os
import re
import struct
import tempfile
import time
import zipfile
import zlib

import numpy

from . import safetensors_io
from .errors import CheckpointError

__all__ = ["save", "load", "CheckpointError", "FORMAT", "STALE_AFTER_SECONDS"]

FORMAT = "tinygrad_course.checkpoint/1"
STALE_AFTER_SECONDS = 30  # a leftover temporary file untouched this long (and writer gone) goes


# ----- saving ----------------------------------------------------------------------------------
def _json_value(value):
    """json.dumps fallback: NumPy scalars become Python numbers; anything else is refused."""
    if isinstance(value, numpy.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _to_json(what, value):
    try:
        return json.dumps(value, default=_json_value)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint.save: {what} cannot be stored ({err}); use numbers, "
                              "strings, lists, dicts or NumPy arrays") from err


def _optimizer_arrays(optimizer):
    state_dict = optimizer.state_dict()
    arrays, scalars = {}, {}
    for i, state in state_dict["state"].items():
        for key, value in state.items():
            if isinstance(value, numpy.ndarray):
                arrays[f"optimizer/state/{i}/{key}"] = value
            else:
                scalars.setdefault(str(i), {})[key] = value
    meta = {"type": type(optimizer).__name__, "param_groups": state_dict["param_groups"],
            "scalar_state": scalars}
    arrays["optimizer_json"] = numpy.array(_to_json("the optimiser's hyper-parameters", meta))
    return arrays


def _extra_arrays(extra):
    arrays, plain = {}, {}
    for key, value in extra.items():
        if isinstance(value, numpy.ndarray):
            arrays[f"extra/{key}"] = value
        else:
            plain[key] = value
    arrays["extra_json"] = numpy.array(_to_json("an extra value", plain))
    return arrays


def _temporary_name_pattern(name):
    """What tempfile.mkstemp(prefix=f".{name}.{pid}.", suffix=".tmp") creates: 8 random
    characters from [a-z0-9_] between them; group 1 is the writer's pid."""
    return re.compile(rf"\.{re.escape(name)}\.([1-9][0-9]*)\.[a-z0-9_]{{8}}\.tmp")


def _process_is_running(pid):
    if os.name != "posix":
        return True  # no harmless probe: os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, and belongs to another user
    return True


def _remove_stale_temporaries(directory, name):
    """Delete what killed saves of ``name`` left in ``directory`` (rule: module docstring)."""
    pattern, now = _temporary_name_pattern(name), time.time()
    with os.scandir(directory) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None or int(match.group(1)) == os.getpid():
                continue
            try:
                if (entry.is_file(follow_symlinks=False)
                        and now - entry.stat(follow_symlinks=False).st_mtime
                        >= STALE_AFTER_SECONDS
                        and not _process_is_running(int(match.group(1)))):
                    os.unlink(entry.path)
            except OSError:  # removed by someone else meanwhile, or not ours to remove:
                continue     # cleaning up is a courtesy, the save does not depend on it


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); some filesystems cannot fsync a directory."""
    if os.name != "posix":
        return
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # e.g. EINVAL on filesystems without directory fsync: the rename stands anyway
    finally:
        os.close(handle)


def save(path, model, optimizer=None, **extra):
    """Write model.state_dict() (and the optimiser's state, and ``extra``) to ``path`` atomically.

    ``path`` is used as given (no ".npz" is appended); one ending in ".safetensors" is
    written in that format (see the module docstring). Stale temporary files of earlier,
    killed saves of the same path are removed first (see the module docstring). Returns the
    path.
    """
    arrays = {"__format__": numpy.array(FORMAT)}
    arrays.update({f"model/{name}": value for name, value in model.state_dict().items()})
    if optimizer is not None:
        arrays.update(_optimizer_arrays(optimizer))
    arrays.update(_extra_arrays(extra))
    if os.fspath(path).endswith(".safetensors"):
        return write_safetensors_atomically(path, arrays, "checkpoint.save")
    return write_npz_atomically(path, arrays)


def write_npz_atomically(path, arrays):
    """numpy.savez(path, **arrays), atomically (see the module docstring); returns the path."""
    return write_atomically(path, lambda file: numpy.savez(file, **arrays))


def write_safetensors_atomically(path, arrays, what):
    """``arrays`` as a .safetensors file, atomically: 0-d string arrays go into its metadata,
    numeric arrays are its tensors (anything else raises CheckpointError)."""
    tensors = {name: value for name, value in arrays.items() if value.dtype.kind != "U"}
    metadata = {}
    for name, value in arrays.items():
        if value.dtype.kind == "U":
            if value.shape != ():
                raise CheckpointError(f"{what}: {name!r} is an array of strings; the "
                                      "safetensors format holds numeric arrays only")
            metadata[name] = str(value)
    data = safetensors_io.encode(tensors, metadata, what)  # encoded before the file is made
    return write_atomically(path, lambda file: file.write(data))


def write_atomically(path, write):
    """Call write(file) on a temporary file next to ``path``, then move it over ``path`` (see
    the module docstring); returns the path."""
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    _remove_stale_temporaries(directory, name)
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp",
                                         prefix=f".{name}.{os.getpid()}.")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _sync_directory(directory)
    return path


# ----- reading the archive ---------------------------------------------------------------------
# What open, zipfile and zlib raise on a missing, damaged or foreign file (EOFError: a
# member cut short; NotImplementedError: an unknown compression method; RuntimeError: an
# "encrypted" flag; KeyError, IndexError, struct.error, OverflowError: nonsense in the zip's
# directory).
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                KeyError, IndexError, OverflowError, struct.error, zlib.error,
                NotImplementedError, RuntimeError)


def _npy_array(data):
    """The array in the bytes of one .npy file; ValueError unless they are exactly one."""
    stream = io.BytesIO(data)
    version = numpy.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = numpy.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, _, dtype = numpy.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f".npy format version {version} is not one that save() writes")
    if dtype.hasobject:
        raise ValueError(f"it holds Python objects ({dtype}), which only pickle could read")
    size, promised = len(data) - stream.tell(), math.prod(shape) * dtype.itemsize
    if size != promised:
        raise ValueError(f"it holds {size} bytes of data, its header promises {promised}")
    return numpy.lib.format.read_array(io.BytesIO(data), allow_pickle=False)


_END_RECORD = struct.Struct("<4s4H2LH")  # the zip's "end of central directory" record


def _announced_members(file):
    """How many members the zip's end record announces; None where it does not say (zip64)."""
    file.seek(0, os.SEEK_END)
    file.seek(max(0, file.tell() - _END_RECORD.size - 0xFFFF))  # after it: a comment < 64 KiB
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD.size:
        return None
    total = _END_RECORD.unpack_from(tail, at)[4]
    return None if total == 0xFFFF else total


def _read_safetensors(path):
    """Every array of a .safetensors checkpoint, its metadata strings as 0-d string arrays."""
    tensors, metadata = safetensors_io.read(path, "checkpoint.load")
    arrays = dict(tensors)
    arrays.update({name: numpy.array(text) for name, text in metadata.items()})
    return arrays


def _read(path):
    """Every array in the archive by name, each member read whole and its CRC checked."""
    if safetensors_io.looks_like_safetensors(path):
        arrays = _read_safetensors(path)
        return _checked_marker(path, arrays)
    try:
        with open(path, "rb") as file, zipfile.ZipFile(file) as archive:
            members = [(info.filename, archive.read(info)) for info in archive.infolist()]
            announced = _announced_members(file)
    except _READ_ERRORS as err:
        detail = str(err) or ("the data ends early" if isinstance(err, EOFError) else "")
        raise CheckpointError(f"checkpoint.load: cannot read {path!r} as a .npz archive "
                              f"({type(err).__name__}: {detail})") from err
    arrays, problems = {}, []
    # a damaged length in the zip's directory can end the list of members early, silently
    if announced is not None and announced != len(members):
        problems.append(f"its directory lists {len(members)} members, its end record "
                        f"announces {announced}")
    for filename, data in members:
        name = filename.removesuffix(".npy")
        if name == filename:
            problems.append(f"member {filename!r} is not a .npy array")
        elif name in arrays:
            problems.append(f"member {filename!r} appears twice")
        else:
            try:
                arrays[name] = _npy_array(data)
            except (ValueError, TypeError, EOFError) as err:
                problems.append(f"member {filename!r} is not a valid .npy array ({err})")
    if problems:
        raise CheckpointError(f"checkpoint.load: {path!r} is damaged:\n  "
                              + "\n  ".join(problems))
    return _checked_marker(path, arrays)


def _checked_marker(path, arrays):
    marker = arrays.get("__format__")
    if marker is None or marker.dtype.kind != "U" or marker.shape != () or str(marker) != FORMAT:
        raise CheckpointError(f"checkpoint.load: {path!r} is not a tinygrad_course checkpoint "
                              f"(no '__format__' = {FORMAT!r} entry)")
    return arrays


def _section(arrays, prefix):
    return {name[len(prefix):]: value for name, value in arrays.items()
            if name.startswith(prefix)}


def _json(arrays, name):
    """(the decoded JSON entry ``name``, None) or (None, problem)."""
    if name not in arrays:
        return None, f"'{name}' is missing"
    value = arrays[name]
    if value.dtype.kind != "U" or value.shape != ():
        return None, f"'{name}' is a {value.dtype} array of shape {value.shape}, not a string"
    try:
        return json.loads(str(value)), None
    except ValueError as err:
        return None, f"'{name}' is not valid JSON ({err})"


# ----- loading: phase one checks and converts everything, phase two assigns -------------------
def _stage_optimizer(arrays, optimizer, allow_nonfinite):
    """(new state, new settings per group, problems) for ``optimizer``, or (None, None, ...)."""
    name = type(optimizer).__name__
    if "optimizer_json" not in arrays:
        return None, None, [f"it holds no optimiser state, but an optimiser ({name}) was given"]
    meta, problem = _json(arrays, "optimizer_json")
    if problem:
        return None, None, [problem]
    if (not isinstance(meta, dict) or not isinstance(meta.get("type"), str)
            or not isinstance(meta.get("scalar_state"), dict) or "param_groups" not in meta):
        return None, None, ["'optimizer_json' does not describe an optimiser (type, "
                            "param_groups, scalar_state)"]
    if meta["type"] != name:
        return None, None, [f"it holds the state of an optimiser of type {meta['type']}, "
                            f"not {name}"]
    state, problems = {}, []
    for index, values in meta["scalar_state"].items():
        if isinstance(values, dict):
            state[index] = dict(values)
        else:
            problems.append(f"the scalar state of parameter {index} is not a JSON object")
    for key, value in _section(arrays, "optimizer/state/").items():
        index, _, field = key.partition("/")
        state.setdefault(index, {})[field] = value
    new_state, settings, found = optimizer._stage_state_dict(
        {"state": state, "param_groups": meta["param_groups"]}, allow_nonfinite)
    return new_state, settings, problems + [message for _, message in found]


def _extras(arrays):
    extra, problem = _json(arrays, "extra_json")
    if problem:
        return None, [problem]
    if not isinstance(extra, dict):
        return None, [f"'extra_json' holds a {type(extra).__name__}, not a JSON object"]
    extra.update(_section(arrays, "extra/"))
    return extra, []


def load(path, model, optimizer=None, allow_nonfinite=False):
    """Load a checkpoint written by save() into ``model`` (and ``optimizer``).

    Every check runs before anything is changed (see the module docstring); any problem
    raises CheckpointError naming the file and listing them all. ``allow_nonfinite=True``
    admits NaN and inf in weights and moments. Returns the extra values given to save() (a
    dict; arrays come back as NumPy arrays).
    """
    path = os.fspath(path)
    arrays = _read(path)
    assignments, _, _, found = model._stage_state_dict(_section(arrays, "model/"),
                                                       allow_nonfinite=allow_nonfinite)
    problems = [message for _, message in found]
    if optimizer is not None:
        optimizer_state, settings, found = _stage_optimizer(arrays, optimizer, allow_nonfinite)
        problems += found
    extra, found = _extras(arrays)
    problems += found
    if problems:
        into = type(model).__name__ + ("" if optimizer is None
                                       else f" and {type(optimizer).__name__}")
        raise CheckpointError(f"checkpoint.load: {path!r} cannot be loaded into {into} "
                              "(nothing was changed):\n  " + "\n  ".join(problems))
    for tensor, data in assignments:
        tensor.data = data
    if optimizer is not None:
        optimizer._assign_staged(optimizer_state, settings)
    return extra

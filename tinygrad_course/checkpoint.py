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

Saving is atomic: the archive is written to a temporary file in the same directory and moved
over the target with os.replace, so a crash mid-save leaves the old checkpoint intact, never
half a file. Loading checks everything first (missing or unexpected names, shapes, the kind
of optimiser) and raises CheckpointError listing every problem, with the model and the
optimiser left exactly as they were.
"""

import json
import os
import tempfile

import numpy

from .errors import TensorError

FORMAT = "tinygrad_course.checkpoint/1"


class CheckpointError(TensorError, ValueError):
    """A checkpoint that does not fit the model or optimiser it is loaded into."""


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


def save(path, model, optimizer=None, **extra):
    """Write model.state_dict() (and the optimiser's state, and ``extra``) to ``path`` atomically.

    ``path`` is used as given (no ".npz" is appended). Returns the path.
    """
    arrays = {"__format__": numpy.array(FORMAT)}
    arrays.update({f"model/{name}": value for name, value in model.state_dict().items()})
    if optimizer is not None:
        arrays.update(_optimizer_arrays(optimizer))
    arrays.update(_extra_arrays(extra))
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp",
                                         prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(handle, "wb") as file:
            numpy.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


# ----- loading ---------------------------------------------------------------------------------
def _read(path):
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as err:
        raise CheckpointError(f"checkpoint.load: cannot read {path!r} as a .npz archive "
                              f"({err})") from err
    if "__format__" not in arrays or str(arrays["__format__"]) != FORMAT:
        raise CheckpointError(f"checkpoint.load: {path!r} is not a tinygrad_course checkpoint "
                              f"(no '__format__' = {FORMAT!r} entry)")
    return arrays


def _section(arrays, prefix):
    return {name[len(prefix):]: value for name, value in arrays.items()
            if name.startswith(prefix)}


def _check_model(path, model, saved):
    targets = dict(model.named_parameters())
    targets.update(model.named_buffers())
    problems = []
    missing = [name for name in targets if name not in saved]
    unexpected = [name for name in saved if name not in targets]
    if missing:
        problems.append(f"missing from the file: {missing}")
    if unexpected:
        problems.append(f"in the file but not in the model: {unexpected}")
    for name, target in targets.items():
        if name in saved and tuple(saved[name].shape) != target.shape:
            problems.append(f"'{name}' has shape {tuple(saved[name].shape)} in the file, "
                            f"{target.shape} in the model")
    if problems:
        raise CheckpointError(f"checkpoint.load: {path!r} does not fit {type(model).__name__} "
                              "(nothing was changed):\n  " + "\n  ".join(problems))


def _optimizer_state_dict(path, arrays, optimizer):
    """Rebuild the saved optimizer.state_dict() and check it fits ``optimizer``."""
    name = type(optimizer).__name__
    if "optimizer_json" not in arrays:
        raise CheckpointError(f"checkpoint.load: {path!r} holds no optimiser state, but an "
                              f"optimiser ({name}) was given (nothing was changed)")
    meta = json.loads(str(arrays["optimizer_json"]))
    if meta["type"] != name:
        raise CheckpointError(f"checkpoint.load: {path!r} holds the state of an optimiser of "
                              f"type {meta['type']}, not {name} (nothing was changed)")
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_sizes = [len(g["params"]) for g in meta["param_groups"]]
    own_sizes = [len(g["params"]) for g in optimizer.param_groups]
    if saved_sizes != own_sizes:
        raise CheckpointError(f"checkpoint.load: the saved {name} has parameter groups of sizes "
                              f"{saved_sizes}, this one {own_sizes} (nothing was changed)")
    state = {int(i): dict(values) for i, values in meta["scalar_state"].items()}
    problems = []
    for key, value in _section(arrays, "optimizer/state/").items():
        index, _, field = key.partition("/")
        i = int(index)
        if i >= len(params):
            problems.append(f"state for parameter {i}, but the optimiser has {len(params)}")
        elif value.shape != params[i].shape:
            problems.append(f"state '{field}' of parameter {i} has shape {value.shape}, the "
                            f"parameter {params[i].shape}")
        state.setdefault(i, {})[field] = value
    if problems:
        raise CheckpointError(f"checkpoint.load: the optimiser state in {path!r} does not fit "
                              f"(nothing was changed):\n  " + "\n  ".join(problems))
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v
               for k, v in group.items()} for group in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def load(path, model, optimizer=None):
    """Load a checkpoint written by save() into ``model`` (and ``optimizer``).

    Every check runs before anything is changed. Returns the extra values given to save()
    (a dict; arrays come back as NumPy arrays).
    """
    path = os.fspath(path)
    arrays = _read(path)
    model_state = _section(arrays, "model/")
    _check_model(path, model, model_state)
    optimizer_state = (_optimizer_state_dict(path, arrays, optimizer)
                       if optimizer is not None else None)
    model.load_state_dict(model_state)
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    extra = json.loads(str(arrays["extra_json"]))
    extra.update(_section(arrays, "extra/"))
    return extra

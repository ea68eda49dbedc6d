"""Checking saved state before it replaces anything: the rules that Module.load_state_dict,
Optimizer.load_state_dict and checkpoint.load share.

Loading is two-phase. Phase one converts every new value (a weight as a host array of the
target's dtype, a hyper-parameter as a Python number) into a staging structure and collects
every problem; nothing is changed. Only when there is no problem at all does phase two
assign, and it only stores ready values into attributes and dicts, which cannot fail halfway.

A value may replace a tensor (a weight, a buffer, an optimiser moment) when

- it is an array (NumPy, device, Tensor or nested lists) of the tensor's shape;
- its kind fits the tensor's dtype: a floating tensor takes floating values only (integers,
  booleans, complex numbers, strings and objects are refused, since converting them would
  truncate or fail in the next step); an integer tensor (a counter such as BatchNorm's
  num_batches_tracked) takes integers, or floats that are whole numbers and fit;
- it is finite once converted (NaN, inf, or a float64 that overflows float32) unless the
  caller passes allow_nonfinite=True: weights of a diverged run load only when asked for,
  e.g. to inspect them, because the next step() would turn everything into NaN.

A hyper-parameter (lr, betas, momentum, ...) must have the type of the value it replaces (a
number for a number, a bool for a bool, a tuple of as many numbers for betas) and be finite.

A problem is a pair (error class, message); raise_problems raises the class of the first one
with every message listed.
"""

import math
from collections.abc import Mapping

import numpy

from . import backend
from .errors import CheckpointError, DTypeError, ShapeError
from .tensor import Tensor

_KIND_NAMES = {"f": "floating", "i": "integer", "u": "unsigned integer", "b": "boolean",
               "c": "complex", "U": "string", "S": "bytes", "O": "object", "V": "raw bytes"}


def raise_problems(header, problems):
    """Raise the error class of the first problem, its message listing all of them."""
    if problems:
        error_class = problems[0][0]
        raise error_class(f"{header} (nothing was changed):\n  "
                          + "\n  ".join(message for _, message in problems))


def require_mapping(header, value, what):
    if not isinstance(value, Mapping):
        raise CheckpointError(f"{header}: expected {what} (a dict), got {type(value).__name__}")


def _host_array(value):
    if isinstance(value, Tensor):
        return value.numpy()
    if backend.is_device_array(value):
        return backend.to_numpy(value)
    return numpy.asarray(value)


def checked_array(what, value, shape, dtype, allow_nonfinite=False, expected="expected"):
    """``value`` as a new host array of ``dtype`` if it may replace a tensor of ``shape`` and
    ``dtype``: returns (array, None), or (None, problem). ``expected`` ends the shape message
    ("'w' has shape (3, 2), <expected> (2, 3)")."""
    dtype = numpy.dtype(dtype)
    try:
        array = _host_array(value)
    except (ValueError, TypeError) as err:  # ragged nested lists, objects NumPy cannot hold
        return None, (DTypeError, f"{what} is not an array ({err})")
    if array.dtype.kind not in _accepted_kinds(dtype):
        return None, (DTypeError, f"{what} has dtype {array.dtype} "
                                  f"({_KIND_NAMES.get(array.dtype.kind, array.dtype.kind)}), "
                                  f"which a {dtype} tensor cannot take")
    if tuple(array.shape) != tuple(shape):
        return None, (ShapeError, f"{what} has shape {tuple(array.shape)}, {expected} "
                                  f"{tuple(shape)}")
    with numpy.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(dtype, copy=True)
    if dtype.kind in "iu" and not numpy.array_equal(converted, array):
        return None, (CheckpointError, f"{what} holds values that are not whole numbers or do "
                                       f"not fit {dtype}")
    if dtype.kind == "f" and not allow_nonfinite:
        bad = converted.size - int(numpy.count_nonzero(numpy.isfinite(converted)))
        if bad:
            return None, (CheckpointError, f"{what} holds {bad} NaN or infinite value(s) (of "
                                           f"{converted.size}) as {dtype}; pass "
                                           "allow_nonfinite=True to load it anyway")
    return converted, None


def _accepted_kinds(dtype):
    if dtype.kind == "f":
        return "f"
    if dtype.kind in "iu":
        return "iuf"  # floats only when whole numbers (checked after the conversion)
    return dtype.kind


def is_real_number(value):
    """True for int, float and NumPy numbers; False for bools (which are ints in Python)."""
    return (isinstance(value, (int, float, numpy.integer, numpy.floating))
            and not isinstance(value, (bool, numpy.bool_)))


def checked_count(what, value):
    """A step counter: a whole number >= 0. Returns (int, None) or (None, problem)."""
    if (not isinstance(value, (int, numpy.integer)) or isinstance(value, (bool, numpy.bool_))
            or value < 0):
        return None, (DTypeError, f"{what} is {value!r}, expected a whole number >= 0")
    return int(value), None


def checked_setting(what, value, current=None):
    """A hyper-parameter ``value`` that replaces ``current``: the same type (a number, a bool,
    or a tuple of as many), finite. With ``current`` None (a setting new to the group, or one
    that may be None) the value is checked by its own type. Returns (value as Python objects,
    None) or (None, problem)."""
    if isinstance(current, (bool, numpy.bool_)):
        if isinstance(value, (bool, numpy.bool_)):
            return bool(value), None
        return None, (DTypeError, f"{what} is {value!r}, expected True or False")
    if is_real_number(current) and not is_real_number(value):
        return None, (DTypeError, f"{what} is {value!r}, expected a number")
    if isinstance(current, (tuple, list)) and (not isinstance(value, (tuple, list))
                                               or len(value) != len(current)):
        return None, (DTypeError, f"{what} is {value!r}, expected a sequence of "
                                  f"{len(current)} values")
    if is_real_number(value):
        if not math.isfinite(value):
            return None, (CheckpointError, f"{what} is {value!r}, expected a finite number")
        return value.item() if isinstance(value, numpy.generic) else value, None
    if isinstance(value, (tuple, list)):
        items = []
        for i, item in enumerate(value):
            inner = current[i] if isinstance(current, (tuple, list)) else None
            item, problem = checked_setting(f"{what}[{i}]", item, inner)
            if problem:
                return None, problem
            items.append(item)
        return tuple(items), None
    if value is None or isinstance(value, (str, bool, numpy.bool_)):
        return (bool(value) if isinstance(value, numpy.bool_) else value), None
    return None, (DTypeError, f"{what} is a {type(value).__name__}, expected a number, a bool, "
                              "a string, None or a tuple of them")

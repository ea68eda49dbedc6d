"""Which array module runs the math.

Every op gets its array module from here (``xp``) and never calls ``numpy`` on tensor data
directly, so the same code runs on three devices:

- ``"cpu"``    NumPy (the default).
- ``"cuda"``   CuPy on an NVIDIA GPU (the optional ``gpu`` extra).
- ``"strict"`` a stand-in device for machines without a GPU (see ``strict.py``): arrays of
               their own type that refuse to mix with NumPy arrays, as CuPy's do, so a test
               run on it catches every place where host and device data would meet.

The default device is ``"cpu"`` unless the environment variable ``TINYGRAD_DEVICE`` names
another. Asking for ``"cuda"`` when CuPy or a GPU is missing raises ``DeviceError``; it never
falls back to the CPU silently.
"""

import os

import numpy

from . import strict
from .errors import DeviceError

DEVICES = ("cpu", "cuda", "strict")
DEFAULT_FLOAT = numpy.float32

_cupy_module = None
_cupy_problem = None


def _load_cupy():
    """Import CuPy and run one tiny kernel; remember why not if anything fails."""
    global _cupy_module, _cupy_problem
    if _cupy_module is not None or _cupy_problem is not None:
        return _cupy_module
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device found")
        if float((cupy.arange(4, dtype=cupy.float32) * 2).sum()) != 12.0:
            raise RuntimeError("a smoke-test kernel gave a wrong answer")
        _cupy_module = cupy
    except Exception as err:  # ImportError, CUDA driver errors, ...: report, never crash import
        _cupy_problem = f"{type(err).__name__}: {err}"
    return _cupy_module


def cuda_available():
    """True when CuPy imports, sees a GPU and runs a tiny kernel correctly."""
    return _load_cupy() is not None


def normalize_device(device):
    """Map None / 'cuda:0' / 'CPU' to one of DEVICES, or raise DeviceError."""
    if device is None:
        device = os.environ.get("TINYGRAD_DEVICE", "cpu")
    name = str(device).lower().split(":")[0]
    if name not in DEVICES:
        raise DeviceError(f"device: got {device!r}, expected one of {DEVICES}")
    return name


def get_array_module(device):
    """The array module (numpy, cupy or the strict stand-in) that runs ``device``'s math."""
    if device == "cpu":
        return numpy
    if device == "strict":
        return strict.xp
    if device == "cuda":
        cupy = _load_cupy()
        if cupy is None:
            raise DeviceError(
                f"device 'cuda' was asked for but is not available ({_cupy_problem}); "
                "install the gpu extra (pip install -e '.[gpu]') on a machine with an NVIDIA GPU"
            )
        return cupy
    raise DeviceError(f"device: got {device!r}, expected one of {DEVICES}")


def device_of(array):
    """The device an array lives on, from its type ("cpu" for anything that is not on a device)."""
    if isinstance(array, numpy.ndarray):
        return "cpu"
    if isinstance(array, strict.StrictArray):
        return "strict"
    if _cupy_module is not None and isinstance(array, _cupy_module.ndarray):
        return "cuda"
    return "cpu"


def is_device_array(value):
    """True for an array of any device (numpy, cupy or strict), False for lists and scalars."""
    if isinstance(value, (numpy.ndarray, strict.StrictArray)):
        return True
    return _cupy_module is not None and isinstance(value, _cupy_module.ndarray)


def to_numpy(array):
    """The data of an array of any device as a NumPy array on the host (CuPy's explicit .get())."""
    if isinstance(array, numpy.ndarray):
        return array
    if isinstance(array, strict.StrictArray) or device_of(array) == "cuda":
        return array.get()
    return numpy.asarray(array)


def from_numpy(array, device):
    """Move a host (NumPy) array to ``device``."""
    if device == "cpu":
        return array
    if device == "strict":
        return strict.to_device(array)
    return get_array_module(device).asarray(array)


def scatter_add(xp, target, index, values):
    """target[index] += values, adding repeated indices up (unlike plain ``target[index] += v``)."""
    if xp is numpy:
        numpy.add.at(target, index, values)
    elif getattr(xp, "__name__", "") == "cupy":
        import cupyx

        cupyx.scatter_add(target, index, values)
    else:
        xp.scatter_add(target, index, values)


def erf(xp, x):
    """The error function, elementwise, on the array's own device."""
    if xp is numpy:
        from scipy.special import erf as scipy_erf

        return scipy_erf(x)
    if getattr(xp, "__name__", "") == "cupy":
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    return xp.erf(x)

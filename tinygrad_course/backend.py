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


# Array types that stand in for CPU arrays while tg.compile traces a step (compile/trace.py).
tracing_array_types = ()


def is_device_array(value):
    """True for an array of any device (numpy, cupy or strict), False for lists and scalars."""
    if isinstance(value, (numpy.ndarray, strict.StrictArray, *tracing_array_types)):
        return True
    return _cupy_module is not None and isinstance(value, _cupy_module.ndarray)


def to_numpy(array):
    """The data of an array of any device as a NumPy array on the host (CuPy's explicit .get())."""
    if isinstance(array, (numpy.ndarray, *tracing_array_types)):  # (traced: stays traced)
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
    """target[index] += values, adding repeated indices up (unlike plain ``target[index] += v``).

    On NumPy, ``numpy.add.at`` handles one element at a time and is slow for many rows
    (4,096 rows of 100 floats: ~5 ms). The common case, an integer array picking rows of
    ``target`` (embedding lookups, word2vec), is summed by one sparse matrix product instead
    (~0.4 ms); see _add_rows_by_sparse_product.
    """
    if xp is numpy:
        if not _add_rows_by_sparse_product(target, index, values):
            numpy.add.at(target, index, values)
    elif getattr(xp, "__name__", "") == "cupy":
        import cupyx

        cupyx.scatter_add(target, index, values)
    else:
        xp.scatter_add(target, index, values)


# Below these sizes numpy.add.at is faster than building the sparse matrix (measured on
# 5,000 x {1, 16, 100} tables: the crossover is near 16k added values), and when the table
# is much bigger than what is added, the product's dense (rows, ...) result costs too much.
_SPARSE_MIN_VALUES = 16384
_SPARSE_MAX_TABLE_RATIO = 8


def _add_rows_by_sparse_product(target, index, values):
    """target[rows] += values for an integer index array ``rows`` along axis 0, if worthwhile.

    With S the (n, R) matrix with S[i, rows_i] = 1 (n picked rows, R rows in target),
        target += S^T V        (V: the n value rows, flattened to (n, rest))
    row r of S^T V is the sum of the value rows whose index is r, repeats included.
    Returns False (and does nothing) when the case does not apply; the caller then uses
    numpy.add.at, which also raises the IndexError for out-of-range indices.
    """
    if isinstance(index, tuple):
        if len(index) != 1:
            return False
        index = index[0]
    if not (isinstance(index, numpy.ndarray) and index.dtype.kind in "iu" and index.size
            and target.ndim >= 1 and target.dtype.kind == "f"
            and values.shape == index.shape + target.shape[1:]
            and values.size >= _SPARSE_MIN_VALUES
            and target.size <= _SPARSE_MAX_TABLE_RATIO * values.size):
        return False
    rows, count = index.reshape(-1), target.shape[0]
    low, high = rows.min(), rows.max()
    if low < -count or high >= count:
        return False
    if low < 0:
        rows = numpy.where(rows < 0, rows + count, rows)
    import scipy.sparse

    picks = scipy.sparse.csr_matrix(
        (numpy.ones(rows.size, dtype=target.dtype), rows, numpy.arange(rows.size + 1)),
        shape=(rows.size, count))
    target += (picks.T @ values.reshape(rows.size, -1)).reshape(target.shape)
    return True


_ERF = {}  # array module -> its erf, found on first use (GELU calls it every step)


def erf(xp, x):
    """The error function, elementwise, on the array's own device."""
    function = _ERF.get(xp)
    if function is None:
        if xp is numpy:
            from scipy.special import erf as function
        elif getattr(xp, "__name__", "") == "cupy":
            from cupyx.scipy.special import erf as function
        else:
            function = xp.erf
        _ERF[xp] = function
    return function(x)


def sliding_window_view(xp, x, window_shape, axis):
    """A read-only view of every window of ``window_shape`` along ``axis`` (no copy): the
    window axes are appended, e.g. (N, C, H, W) with windows (kH, kW) on axes (2, 3) ->
    (N, C, H - kH + 1, W - kW + 1, kH, kW). numpy.lib.stride_tricks.sliding_window_view on
    the CPU, its CuPy twin on a GPU, and the same NumPy view behind the strict device's wall."""
    if xp is numpy:
        return numpy.lib.stride_tricks.sliding_window_view(x, window_shape, axis)
    if getattr(xp, "__name__", "") == "cupy":
        from cupy.lib.stride_tricks import sliding_window_view as cupy_windows

        return cupy_windows(x, window_shape, axis)
    return strict._on_device(numpy.lib.stride_tricks.sliding_window_view,
                             "xp.sliding_window_view")(x, window_shape, axis)

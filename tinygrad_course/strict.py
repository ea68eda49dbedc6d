"""A strict stand-in for a GPU device, so that machines without one can still test device code.

On a GPU, CuPy keeps arrays in device memory and refuses to mix them with NumPy arrays on the
host: ``cupy_array + numpy_array`` raises, ``numpy.asarray(cupy_array)`` raises, and data moves
only when asked (``cupy.asarray(host)``, ``device_array.get()``). Code that forgets this works on
the CPU and breaks on the GPU. The "strict" device makes the same mistakes fail on any machine:

- ``StrictArray`` holds a NumPy array privately and is NOT a NumPy array. Arithmetic,
  indexing and methods work as on CuPy, but any operand that is a host NumPy array raises
  ``TypeError``, and so does implicit conversion (``numpy.asarray(a)``, ``numpy.exp(a)``).
  Python numbers and NumPy scalars mix freely, as they do with CuPy.
- ``xp`` is the array module of the device (the stand-in for ``cupy``): ``xp.exp``,
  ``xp.zeros``... take and return StrictArrays. ``xp.asarray(host_array)`` is the explicit
  host-to-device copy and is allowed; ``array.get()`` is the explicit way back.
- Results that NumPy gives as scalars (``a.sum()``, ``a[0, 0]``) are 0-d StrictArrays, as
  CuPy returns 0-d device arrays; ``float(a)`` and ``int(a)`` work on them, as on CuPy.

Random numbers: draw them on the host with a seeded ``numpy.random.Generator`` and move them
(``backend.from_numpy``), so a seed gives the same numbers on every device.
"""

import numbers

import numpy

_MIXING = ("strict device: got a host NumPy array where a device array is needed ({where}); "
           "move it explicitly with backend.from_numpy(array, device) or "
           "tensor(array, device=...) — CuPy refuses this mix too")


def _unwrap(value, where):
    """StrictArray -> its NumPy array; lists/tuples recursively; host arrays are refused."""
    if isinstance(value, StrictArray):
        return value._array
    if isinstance(value, numpy.ndarray):
        raise TypeError(_MIXING.format(where=where))
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, where) for v in value)
    return value


def _wrap(value):
    """NumPy arrays and scalars -> StrictArray; lists/tuples recursively; others unchanged."""
    if isinstance(value, numpy.ndarray):
        return StrictArray(value)
    if isinstance(value, numpy.generic):
        return StrictArray(numpy.asarray(value))
    if isinstance(value, (list, tuple)):
        return type(value)(_wrap(v) for v in value)
    return value


def _on_device(function, name):
    """``function`` taking and returning device arrays (host arrays refused)."""
    def device_function(*args, **kwargs):
        args = _unwrap(args, name)
        kwargs = {k: _unwrap(v, name) for k, v in kwargs.items()}
        return _wrap(function(*args, **kwargs))

    device_function.__name__ = name
    return device_function


class StrictArray:
    """A device array: a NumPy array behind a wall that host arrays cannot cross implicitly."""

    __slots__ = ("_array", "__weakref__")  # weak references work on CuPy arrays too
    __array_priority__ = 10000

    def __init__(self, array):
        self._array = array

    # The explicit ways to the host.
    def get(self):
        """A host NumPy copy (CuPy's ``.get()``)."""
        return self._array.copy()

    to_host = get

    # Implicit conversion and NumPy functions are refused, as CuPy refuses implicit conversion.
    def __array__(self, dtype=None, copy=None):
        raise TypeError("strict device: implicit conversion to a NumPy array is not allowed; "
                        "use .get() (CuPy raises here too)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(f"strict device: numpy.{ufunc.__name__} called on a device array; call "
                        "it through the tensor's array module (xp) instead")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"strict device: numpy.{func.__name__} called on a device array; call "
                        "it through the tensor's array module (xp) instead")

    # Attributes and methods (shape, dtype, reshape, astype, sum, copy, ...) pass through.
    def __getattr__(self, name):
        if name.startswith("__"):  # e.g. __array_interface__: NumPy would read the data through it
            raise AttributeError(name)
        attribute = getattr(self._array, name)
        if callable(attribute):
            return _on_device(attribute, f"array.{name}")
        return _wrap(attribute) if isinstance(attribute, numpy.ndarray) else attribute

    def __repr__(self):
        return f"StrictArray({self._array!r})"

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (_wrap(row) for row in self._array)

    def __bool__(self):
        return bool(self._array)

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __index__(self):
        return self._array.__index__()

    def __getitem__(self, index):
        return _wrap(self._array[_unwrap(index, "indexing")])

    def __setitem__(self, index, value):
        self._array[_unwrap(index, "indexing")] = _unwrap(value, "item assignment")

    def _binary(self, other, operator):
        return _wrap(getattr(self._array, operator)(_unwrap(other, operator)))

    def __add__(self, other):
        return self._binary(other, "__add__")

    def __radd__(self, other):
        return self._binary(other, "__radd__")

    def __iadd__(self, other):
        self._array += _unwrap(other, "+=")
        return self

    def __sub__(self, other):
        return self._binary(other, "__sub__")

    def __rsub__(self, other):
        return self._binary(other, "__rsub__")

    def __isub__(self, other):
        self._array -= _unwrap(other, "-=")
        return self

    def __mul__(self, other):
        return self._binary(other, "__mul__")

    def __rmul__(self, other):
        return self._binary(other, "__rmul__")

    def __imul__(self, other):
        self._array *= _unwrap(other, "*=")
        return self

    def __truediv__(self, other):
        return self._binary(other, "__truediv__")

    def __rtruediv__(self, other):
        return self._binary(other, "__rtruediv__")

    def __itruediv__(self, other):
        self._array /= _unwrap(other, "/=")
        return self

    def __floordiv__(self, other):
        return self._binary(other, "__floordiv__")

    def __mod__(self, other):
        return self._binary(other, "__mod__")

    def __pow__(self, other):
        return self._binary(other, "__pow__")

    def __rpow__(self, other):
        return self._binary(other, "__rpow__")

    def __matmul__(self, other):
        return self._binary(other, "__matmul__")

    def __rmatmul__(self, other):
        return self._binary(other, "__rmatmul__")

    def __and__(self, other):
        return self._binary(other, "__and__")

    def __iand__(self, other):
        self._array &= _unwrap(other, "&=")
        return self

    def __or__(self, other):
        return self._binary(other, "__or__")

    def __ior__(self, other):
        self._array |= _unwrap(other, "|=")
        return self

    def __xor__(self, other):
        return self._binary(other, "__xor__")

    def __eq__(self, other):
        return self._binary(other, "__eq__")

    def __ne__(self, other):
        return self._binary(other, "__ne__")

    def __lt__(self, other):
        return self._binary(other, "__lt__")

    def __le__(self, other):
        return self._binary(other, "__le__")

    def __gt__(self, other):
        return self._binary(other, "__gt__")

    def __ge__(self, other):
        return self._binary(other, "__ge__")

    def __neg__(self):
        return _wrap(-self._array)

    def __pos__(self):
        return self

    def __abs__(self):
        return _wrap(abs(self._array))

    def __invert__(self):
        return _wrap(~self._array)

    __hash__ = None


def to_device(host_array):
    """Copy a host NumPy array to the device (the stand-in for ``cupy.asarray``)."""
    return StrictArray(numpy.array(host_array, copy=True))


class _StrictModule:
    """The array module of the strict device: NumPy's functions behind the device wall."""

    __name__ = "tinygrad_course.strict.xp"

    ndarray = StrictArray

    def __getattr__(self, name):
        attribute = getattr(numpy, name)
        if isinstance(attribute, type) or not callable(attribute):
            return attribute  # dtypes (xp.float32), constants (xp.pi), submodules
        return _on_device(attribute, f"xp.{name}")

    def asarray(self, value, dtype=None):
        """Host data -> device copy (explicit, allowed); device arrays pass through."""
        if isinstance(value, StrictArray):
            return value if dtype is None else _wrap(value._array.astype(dtype, copy=False))
        return to_device(numpy.asarray(value, dtype=dtype))

    array = asarray

    def scatter_add(self, target, index, values):
        """target[index] += values, repeated indices adding up (CuPy: cupyx.scatter_add)."""
        numpy.add.at(_unwrap(target, "scatter_add"), _unwrap(index, "scatter_add"),
                     _unwrap(values, "scatter_add"))

    def erf(self, x):
        from scipy.special import erf

        return _wrap(erf(_unwrap(x, "erf")))

    def isscalar(self, value):
        return isinstance(value, numbers.Number)


xp = _StrictModule()

"""Tensor: an n-d array, the gradient that flows back into it, and the op that made it.

A ``Tensor`` wraps a backend array (``.data``: NumPy on the CPU, CuPy on a GPU). When it is
made by a differentiable op from tensors that require gradients, it remembers that op
(``._ctx``, a ``Function`` holding its inputs). ``loss.backward()`` walks those links back
from the loss in reverse topological order and fills ``.grad`` of every leaf tensor with
d loss / d leaf (see ``autograd.py``).

Floating data is float32 unless a dtype is asked for; integer and bool data keep their type.
The math of every op lives in ``ops/``: the methods here only call it.
"""

import math
import numbers
import operator

import numpy

from . import backend
from .errors import ArgumentError, DeviceError, DTypeError, ShapeError


def _is_floating(dtype):
    return numpy.issubdtype(dtype, numpy.floating)


# ----- what a tensor can hold, and turning user input into it ----------------------------------
NUMERIC_KINDS = "biuf"  # NumPy dtype kinds a tensor holds: bool, signed, unsigned, floating

_EXPECTED = "expected a Tensor, a real number or a (nested) list or array of real numbers"


def _refuse(op, value, dtype=None):
    """Raise the DTypeError for data no op computes with, saying what it was."""
    kind = None if dtype is None else dtype.kind
    if kind == "c":
        got = (f"complex data ({dtype}); the imaginary part would be lost, so take .real, .imag "
               "or abs() of it first")
    elif isinstance(value, (str, bytes)):
        got = f"text ({type(value).__name__} {value!r:.40})"
    elif kind in ("O", "U", "S") and isinstance(value, (list, tuple)):
        got = (f"a {type(value).__name__} whose items are not all numbers (it holds "
               f"{', '.join(sorted({type(v).__name__ for v in value}))})")
    elif kind == "O" and isinstance(value, numpy.ndarray):
        got = "a NumPy array of dtype object"
    elif kind is None or kind == "O":
        got = type(value).__name__
    else:
        got = f"dtype {dtype}"
    raise DTypeError(f"{op}: cannot compute with {got}; {_EXPECTED}")


def host_array(value, op):
    """``numpy.asarray(value)`` for the op named ``op``, refusing what no op computes with:
    None, text, dicts and other objects, complex numbers (whose imaginary part would be
    silently dropped) and ragged nested lists, each with an error naming the op."""
    if value is None or isinstance(value, (str, bytes, dict, set, frozenset)):
        _refuse(op, value)
    try:
        host = numpy.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists, objects NumPy cannot take
        if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
            raise DTypeError(f"{op}: got a {type(value).__name__} of Tensors; join them with "
                             "stack() or concatenate()") from None
        raise ShapeError(f"{op}: cannot make an array of this {type(value).__name__} (nested "
                         f"lists of different lengths?): {err}") from None
    if host.dtype.kind not in NUMERIC_KINDS:
        _refuse(op, value, host.dtype)
    return host


def as_dtype(dtype, op):
    """numpy.dtype(dtype), or a DTypeError naming the op when it is none a tensor can hold."""
    try:
        dtype = numpy.dtype(dtype)
    except TypeError:
        raise DTypeError(f"{op}: dtype {dtype!r} is not a NumPy dtype; expected e.g. "
                         "'float32', 'int64' or 'bool'") from None
    if dtype.kind not in NUMERIC_KINDS:
        raise DTypeError(f"{op}: a tensor cannot hold dtype {dtype}; expected a bool, integer "
                         "or floating dtype")
    return dtype


def as_tensor(value, op):
    """``value`` as a Tensor for the op named ``op``: a Tensor as it is; a number, a (nested)
    list or an array as a constant tensor, as ``tensor(value)`` makes it (numbers given to
    an op are taken as PyTorch takes them); None, text, dicts, objects and complex data
    raise DTypeError naming the op (see ``host_array``)."""
    if isinstance(value, Tensor):
        return value
    if not backend.is_device_array(value) or value.dtype.kind not in NUMERIC_KINDS:
        value = host_array(value, op)
    return Tensor(value)


def require_floating(x, op):
    """Refuse a non-floating tensor for an op that only means something on real values
    (normalisation: the mean and variance of integers would be truncated)."""
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating tensor, got dtype {x.dtype} (shape {x.shape}); "
                         "convert with .float() first (PyTorch refuses integer input too)")


class TensorAsArrayError(DTypeError):
    """A Tensor handed to NumPy where an array is expected (numpy.exp(t), or inside a forward,
    whose inputs are arrays); Function.apply names the Function when it comes from forward."""


class Tensor:
    """An n-d array with an optional gradient.

    Tensor(data, requires_grad=False, dtype=None, device=None)
      data           a number, nested list, NumPy/CuPy array or Tensor
      requires_grad  track the ops applied to it so backward() can fill ``.grad``
      dtype          NumPy dtype; floating data defaults to float32
      device         "cpu" (default), "cuda" or "strict" (see backend.py)
    """

    __slots__ = ("data", "device", "requires_grad", "grad", "_ctx", "_retains_grad", "name",
                 "_modified_at", "__weakref__")
    __array_priority__ = 1000  # numpy_array + tensor calls Tensor.__radd__, not NumPy

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        if isinstance(data, Tensor):
            data = data.data
        if backend.is_device_array(data) and not isinstance(data, numpy.ndarray):
            source = backend.device_of(data)  # already on a device: stay unless told to move
            target = source if device is None else backend.normalize_device(device)
            if target != source:
                data = backend.from_numpy(backend.to_numpy(data), target)
        else:  # host data (numbers, lists, NumPy arrays) goes to the default device
            target = backend.normalize_device(device)
            data = backend.from_numpy(host_array(data, "tensor"), target)
        xp = backend.get_array_module(target)
        if dtype is not None:
            data = data.astype(as_dtype(dtype, "tensor"), copy=False)
        elif _is_floating(data.dtype) and data.dtype != backend.DEFAULT_FLOAT:
            data = data.astype(backend.DEFAULT_FLOAT)
        elif data.dtype == numpy.int32 and xp is numpy and data.ndim == 0:
            data = data.astype(numpy.int64)
        if data.dtype.kind not in NUMERIC_KINDS:  # a complex device array, or dtype=complex
            _refuse("tensor", data, data.dtype)
        if requires_grad and not _is_floating(data.dtype):
            raise DTypeError(
                f"Tensor: requires_grad=True needs a floating dtype, got {data.dtype}; "
                "pass dtype='float32' (gradients of integers are not defined)"
            )
        self.data = data
        self.device = target
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._ctx = None
        self._retains_grad = False
        self.name = None
        self._modified_at = 0  # when an in-place op last overwrote it (see autograd)

    @classmethod
    def _from_op(cls, data, device, requires_grad):
        """Fast constructor for op outputs: ``data`` is already a backend array of the device."""
        out = object.__new__(cls)
        out.data = data
        out.device = device
        out.requires_grad = requires_grad
        out.grad = None
        out._ctx = None
        out._retains_grad = False
        out.name = None
        out._modified_at = 0
        return out

    # ----- what it is ---------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape  # a tuple on every backend (numpy, cupy, strict)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return int(self.data.size)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def xp(self):
        """The array module (numpy / cupy / strict) that holds this tensor's data."""
        return backend.get_array_module(self.device)

    @property
    def is_leaf(self):
        return self._ctx is None

    def __len__(self):
        if self.ndim == 0:
            raise DTypeError("len: a 0-d tensor has no length (it is one number)")
        return self.shape[0]

    def __repr__(self):
        body = numpy.array2string(backend.to_numpy(self.data), precision=4, separator=", ",
                                  prefix="tensor(")
        extras = []
        if self.dtype != backend.DEFAULT_FLOAT:
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._ctx is not None:
            extras.append(f"grad_fn={type(self._ctx).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ----- leaving the graph and the device -----------------------------------------------
    def numpy(self):
        """A NumPy copy (or view on the CPU) of the data, detached from the graph."""
        return backend.to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        if self.size != 1:
            raise ShapeError(f"item: needs a tensor of one element, got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.size != 1:
            raise ShapeError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all() on .numpy()"
            )
        return bool(self.item())

    __hash__ = object.__hash__  # == is elementwise (as in PyTorch), so hash by identity

    def __array__(self, dtype=None, copy=None):
        # Without this, NumPy would read a Tensor as a sequence, element by element, and fail
        # in getitem with a message about indices. Refuse clearly instead (PyTorch converts
        # tensors that need no gradient; here an array is always asked for by name).
        raise TensorAsArrayError(
            f"numpy: a Tensor of shape {self.shape} was given where an array is expected; use "
            "t.numpy() for a NumPy copy outside the graph, or the Tensor's own ops (t.exp())")

    def detach(self):
        """The same data, cut from the graph: no gradient flows through the result."""
        return Tensor._from_op(self.data, self.device, False)

    def to(self, device):
        """A copy on ``device`` (the same tensor if it is already there); gradients flow back."""
        device = backend.normalize_device(device)
        if device == self.device:
            return self
        return ops.movement.ToDevice.apply(self, device=device)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not _is_floating(self.dtype):
            raise DTypeError(f"requires_grad_: needs a floating dtype, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep theirs)."""
        self._retains_grad = True
        return self

    def backward(self, grad=None, create_graph=False, retain_graph=None):
        """Fill ``.grad`` of every leaf that requires it with d self / d leaf (times ``grad``).

        grad          upstream gradient, same shape as self; may be omitted for a scalar
        create_graph  build a graph of the backward pass itself, for second derivatives
        retain_graph  keep the graph for another backward through it (default: create_graph).
                      Otherwise, as in PyTorch, the ops free what they saved once the
                      backward is done, and a second backward through them raises
                      BackwardError.
        """
        autograd.backward(self, grad, create_graph, retain_graph)

    # ----- elementwise arithmetic ----------------------------------------------------------
    def __add__(self, other):
        return ops.elementwise.add(self, other)

    def __radd__(self, other):
        return ops.elementwise.add(other, self, like=self)

    def __sub__(self, other):
        return ops.elementwise.sub(self, other)

    def __rsub__(self, other):
        return ops.elementwise.sub(other, self, like=self)

    def __mul__(self, other):
        return ops.elementwise.mul(self, other)

    def __rmul__(self, other):
        return ops.elementwise.mul(other, self, like=self)

    def __truediv__(self, other):
        return ops.elementwise.div(self, other)

    def __rtruediv__(self, other):
        return ops.elementwise.div(other, self, like=self)

    def __pow__(self, exponent):
        return ops.elementwise.pow(self, exponent)

    def __rpow__(self, base):
        return ops.elementwise.pow(base, self, like=self)

    def __neg__(self):
        return ops.elementwise.neg(self)

    def __matmul__(self, other):
        return ops.linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.linalg.matmul(other, self, like=self)

    # ----- comparisons (not differentiable: they return bool tensors) ---------------------
    def __eq__(self, other):
        return ops.elementwise.compare("eq", self, other)

    def __ne__(self, other):
        return ops.elementwise.compare("ne", self, other)

    def __lt__(self, other):
        return ops.elementwise.compare("lt", self, other)

    def __le__(self, other):
        return ops.elementwise.compare("le", self, other)

    def __gt__(self, other):
        return ops.elementwise.compare("gt", self, other)

    def __ge__(self, other):
        return ops.elementwise.compare("ge", self, other)

    # ----- elementwise functions -----------------------------------------------------------
    def exp(self):
        return ops.elementwise.exp(self)

    def log(self):
        return ops.elementwise.log(self)

    def sqrt(self):
        return ops.elementwise.sqrt(self)

    def abs(self):
        return ops.elementwise.abs(self)

    def tanh(self):
        return ops.elementwise.tanh(self)

    def sigmoid(self):
        return ops.elementwise.sigmoid(self)

    def relu(self):
        return ops.elementwise.relu(self)

    def clip(self, min=None, max=None):
        return ops.elementwise.clip(self, min, max)

    def astype(self, dtype):
        return ops.elementwise.astype(self, dtype)

    def float(self):
        return self.astype(backend.DEFAULT_FLOAT)

    # ----- reductions ----------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return ops.reduce.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.reduce.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.reduce.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.reduce.min(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return ops.reduce.var(self, axis, keepdims, ddof)

    def logsumexp(self, axis=None, keepdims=False):
        return ops.reduce.logsumexp(self, axis, keepdims)

    def softmax(self, axis=-1):
        return ops.nn.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return ops.nn.log_softmax(self, axis)

    def argmax(self, axis=None, keepdims=False):
        return ops.reduce.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        return ops.reduce.argmin(self, axis, keepdims)

    # ----- movement ------------------------------------------------------------------------
    def reshape(self, *shape):
        return ops.movement.reshape(self, *shape)

    def transpose(self, *axes):
        return ops.movement.transpose(self, *axes)

    def permute(self, *axes):
        return ops.movement.transpose(self, *axes)

    def swapaxes(self, axis1, axis2):
        return ops.movement.swapaxes(self, axis1, axis2)

    @property
    def T(self):
        return ops.movement.transpose(self)

    def expand(self, *shape):
        return ops.movement.broadcast_to(self, *shape)

    def broadcast_to(self, *shape):
        return ops.movement.broadcast_to(self, *shape)

    def squeeze(self, axis=None):
        return ops.movement.squeeze(self, axis)

    def unsqueeze(self, axis):
        return ops.movement.unsqueeze(self, axis)

    def flatten(self, start_axis=0, end_axis=-1):
        return ops.movement.flatten(self, start_axis, end_axis)

    def __getitem__(self, index):
        return ops.movement.getitem(self, index)


# ----- creation helpers ---------------------------------------------------------------------
def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new tensor from a number, a (nested) list or an array; floats become float32."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def _shape_of(shape, op):
    """The sizes given as zeros(2, 3) or zeros((2, 3)), checked: non-negative integers."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        shape = tuple(operator.index(n) for n in shape)  # ints, NumPy ints; not 2.5 or "2"
    except TypeError:
        raise DTypeError(f"{op}: sizes must be integers, got {tuple(shape)!r}") from None
    if any(n < 0 for n in shape):
        raise ShapeError(f"{op}: sizes must be >= 0, got {shape}")
    return shape


def _filled(fill, shape, dtype, requires_grad, device, op):
    if not isinstance(fill, (numbers.Real, numpy.bool_)):  # numbers.Real holds bool too
        raise DTypeError(f"{op}: the fill value must be a real number, got "
                         f"{type(fill).__name__} {fill!r:.40}")
    device = backend.normalize_device(device)
    xp = backend.get_array_module(device)
    dtype = backend.DEFAULT_FLOAT if dtype is None else as_dtype(dtype, op)
    return Tensor(xp.full(shape, fill, dtype=dtype), requires_grad=requires_grad, dtype=dtype,
                  device=device)


def zeros(*shape, dtype=None, requires_grad=False, device=None):
    return _filled(0, _shape_of(shape, "zeros"), dtype, requires_grad, device, "zeros")


def ones(*shape, dtype=None, requires_grad=False, device=None):
    return _filled(1, _shape_of(shape, "ones"), dtype, requires_grad, device, "ones")


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    shape = _shape_of(shape if isinstance(shape, (tuple, list)) else (shape,), "full")
    return _filled(fill_value, shape, dtype, requires_grad, device, "full")


def zeros_like(t, dtype=None, requires_grad=False):
    t = as_tensor(t, "zeros_like")
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def ones_like(t, dtype=None, requires_grad=False):
    t = as_tensor(t, "ones_like")
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Like numpy.arange; integers stay int64, floats become float32."""
    bounds = {"start": start, "stop": stop, "step": step}
    for name, value in bounds.items():
        if value is None and name == "stop":
            continue
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise DTypeError(f"arange: {name} must be a real number, got "
                             f"{type(value).__name__} {value!r:.40}")
        if not math.isfinite(value):
            raise ArgumentError(f"arange: {name} must be finite, got {value}")
    if step == 0:
        raise ArgumentError("arange: step must not be 0")
    values = numpy.arange(start, stop, step) if stop is not None else numpy.arange(start)
    return Tensor(values, dtype=dtype, device=device)


def _generator(seed, op):
    if isinstance(seed, numpy.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, numbers.Integral) or seed < 0):
        raise ArgumentError(f"{op}: seed must be a non-negative int, a numpy.random.Generator "
                            f"or None, got {type(seed).__name__} {seed!r:.40}")
    return numpy.random.default_rng(seed)


def randn(*shape, seed=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal samples. Pass ``seed`` (an int) or ``generator`` (numpy Generator).

    Samples are drawn on the host with NumPy, so a seed gives the same numbers on every device.
    """
    rng = _generator(generator if generator is not None else seed, "randn")
    values = rng.standard_normal(_shape_of(shape, "randn"), dtype=numpy.float64)
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def rand(*shape, seed=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1); seeded like ``randn``."""
    rng = _generator(generator if generator is not None else seed, "rand")
    values = rng.random(_shape_of(shape, "rand"))
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def check_same_device(op_name, *tensors):
    """Raise DeviceError if the tensors live on different devices."""
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise DeviceError(f"{op_name}: tensors on different devices {sorted(devices)}; "
                          "move them with .to(device) first")


# The ops and the engine build on the Tensor class above, so they are imported after it.
from . import autograd, ops  # noqa: E402

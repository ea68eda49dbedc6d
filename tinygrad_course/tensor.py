"""Tensor: an n-d array, the gradient that flows back into it, and the op that made it.

A ``Tensor`` wraps a backend array (``.data``: NumPy on the CPU, CuPy on a GPU). When it is
made by a differentiable op from tensors that require gradients, it remembers that op
(``._ctx``, a ``Function`` holding its inputs). ``loss.backward()`` walks those links back
from the loss in reverse topological order and fills ``.grad`` of every leaf tensor with
d loss / d leaf (see ``autograd.py``).

Floating data is float32 unless a dtype is asked for; integer and bool data keep their type.
The math of every op lives in ``ops/``: the methods here only call it.
"""

import numpy

from . import backend
from .errors import DeviceError, DTypeError


def _is_floating(dtype):
    return numpy.issubdtype(dtype, numpy.floating)


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
            data = backend.from_numpy(numpy.asarray(data), target)
        xp = backend.get_array_module(target)
        if dtype is not None:
            data = data.astype(dtype, copy=False)
        elif _is_floating(data.dtype) and data.dtype != backend.DEFAULT_FLOAT:
            data = data.astype(backend.DEFAULT_FLOAT)
        elif data.dtype == numpy.int32 and xp is numpy and data.ndim == 0:
            data = data.astype(numpy.int64)
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
            raise TypeError("len() of a 0-d tensor")
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
            raise ValueError(f"item: needs a tensor of one element, got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all() on .numpy()"
            )
        return bool(self.item())

    __hash__ = object.__hash__  # == is elementwise (as in PyTorch), so hash by identity

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


def _shape_of(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _filled(fill, shape, dtype, requires_grad, device):
    device = backend.normalize_device(device)
    xp = backend.get_array_module(device)
    dtype = backend.DEFAULT_FLOAT if dtype is None else dtype
    return Tensor(xp.full(shape, fill, dtype=dtype), requires_grad=requires_grad, dtype=dtype,
                  device=device)


def zeros(*shape, dtype=None, requires_grad=False, device=None):
    return _filled(0, _shape_of(shape), dtype, requires_grad, device)


def ones(*shape, dtype=None, requires_grad=False, device=None):
    return _filled(1, _shape_of(shape), dtype, requires_grad, device)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    return _filled(fill_value, tuple(numpy.atleast_1d(shape)) if numpy.ndim(shape) else (shape,),
                   dtype, requires_grad, device)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Like numpy.arange; integers stay int64, floats become float32."""
    values = numpy.arange(start, stop, step) if stop is not None else numpy.arange(start)
    return Tensor(values, dtype=dtype, device=device)


def _generator(seed):
    if isinstance(seed, numpy.random.Generator):
        return seed
    return numpy.random.default_rng(seed)


def randn(*shape, seed=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal samples. Pass ``seed`` (an int) or ``generator`` (numpy Generator).

    Samples are drawn on the host with NumPy, so a seed gives the same numbers on every device.
    """
    rng = _generator(generator if generator is not None else seed)
    values = rng.standard_normal(_shape_of(shape), dtype=numpy.float64)
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def rand(*shape, seed=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1); seeded like ``randn``."""
    rng = _generator(generator if generator is not None else seed)
    values = rng.random(_shape_of(shape))
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def check_same_device(op_name, *tensors):
    """Raise DeviceError if the tensors live on different devices."""
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise DeviceError(f"{op_name}: tensors on different devices {sorted(devices)}; "
                          "move them with .to(device) first")


# The ops and the engine build on the Tensor class above, so they are imported after it.
from . import autograd, ops  # noqa: E402

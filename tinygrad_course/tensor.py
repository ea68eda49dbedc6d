"""Tensor: an n-d array, the gradient that flows back into it, and the op that made it.

A ``Tensor`` wraps a backend array (``.data``: NumPy on the CPU, CuPy on a GPU). When it is
made by a differentiable op from tensors that require gradients, it remembers that op
(``._ctx``, a ``Function`` holding its inputs). ``loss.backward()`` walks those links back
from the loss in reverse topological order and fills ``.grad`` of every leaf tensor with
d loss / d leaf (see ``autograd.py``).

Floating data is float32 unless a dtype is asked for; integer and bool data keep their type.
The math of every op lives in ``ops/``: the methods here only call it.
"""

import functools
import math
import numbers
import operator

import numpy

from . import backend, random
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


# PyTorch's keyword names, accepted beside NumPy's wherever an op takes the NumPy one.
TORCH_NAMES = {"dim": "axis", "dims": "axis", "keepdim": "keepdims"}


def torch_names(function):
    """Let ``function`` (which takes NumPy's ``axis=``, ``keepdims=``) take PyTorch's ``dim=``
    (or ``dims=``) and ``keepdim=`` as well: x.sum(dim=1, keepdim=True) is
    x.sum(axis=1, keepdims=True).
    Giving both names of one argument raises ArgumentError."""
    @functools.wraps(function)
    def accepting_torch_names(*args, **kwargs):
        if kwargs:
            for torch_name, numpy_name in TORCH_NAMES.items():
                if torch_name in kwargs:
                    if numpy_name in kwargs:
                        raise ArgumentError(
                            f"{function.__name__}: got both {numpy_name}= and {torch_name}=, "
                            f"NumPy's and PyTorch's names of one argument; give one")
                    kwargs[numpy_name] = kwargs.pop(torch_name)
        return function(*args, **kwargs)

    return accepting_torch_names


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
                 "_modified_at", "_backward_hooks", "__weakref__")
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
        self._modified_at = 0  # when an in-place op last overwrote it (see inplace.py)
        self._backward_hooks = None  # {handle id: hook} once register_hook is called

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
        out._backward_hooks = None
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
        """The number of elements, an int (NumPy's x.size). Called, it is PyTorch's size():
        x.size() is the shape, x.size(1) one axis's length."""
        return Size(self.data.size, self.data.shape)

    def numel(self):
        """The number of elements (PyTorch's name for .size)."""
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

    def to(self, device=None, dtype=None):
        """A copy on ``device`` and/or in ``dtype`` (the same tensor when nothing changes);
        gradients flow back. As in PyTorch, one positional argument may be either:
        x.to("cuda"), x.to("float64"), x.to(numpy.float64), x.to(other_tensor)."""
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype
        elif device is not None and not _names_a_device(device):
            device, dtype = None, device if dtype is None else _both_dtypes(device, dtype)
        out = self
        if dtype is not None:
            out = out.astype(as_dtype(dtype, "to"))
        if device is not None:
            device = backend.normalize_device(device)
            if device != out.device:
                out = ops.movement.ToDevice.apply(out, device=device)
        return out

    def clone(self):
        """A copy with its own array; gradients flow back to self (x * 1 would share none of
        x's memory either, but says less)."""
        return ops.elementwise.Cast.apply(self, dtype=self.dtype)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not _is_floating(self.dtype):
            raise DTypeError(f"requires_grad_: needs a floating dtype, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep theirs)."""
        self._retains_grad = True
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when backward has the whole gradient of this tensor, before it
        goes further (to the ops that made it, or into a leaf's ``.grad``). A hook returns
        None (only looks) or a Tensor of the same shape that replaces the gradient. Several
        hooks run in the order they were registered. Returns a handle: ``handle.remove()``
        takes the hook off. As PyTorch's Tensor.register_hook; see hooks.py."""
        return hooks.register_hook(self, hook)

    def backward(self, grad=None, create_graph=False, retain_graph=None, *, gradient=None):
        """Fill ``.grad`` of every leaf that requires it with d self / d leaf (times ``grad``).

        grad          upstream gradient, same shape as self; may be omitted for a scalar
                      (PyTorch calls it ``gradient=``, also accepted)
        create_graph  build a graph of the backward pass itself, for second derivatives
        retain_graph  keep the graph for another backward through it (default: create_graph).
                      Otherwise, as in PyTorch, the ops free what they saved once the
                      backward is done, and a second backward through them raises
                      BackwardError.
        """
        if gradient is not None:
            if grad is not None:
                raise ArgumentError("backward: got both grad and gradient (the same argument)")
            grad = gradient
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

    def clamp(self, min=None, max=None):
        return ops.elementwise.clamp(self, min, max)

    def sin(self):
        return ops.elementwise.sin(self)

    def cos(self):
        return ops.elementwise.cos(self)

    def tan(self):
        return ops.elementwise.tan(self)

    def sinh(self):
        return ops.elementwise.sinh(self)

    def cosh(self):
        return ops.elementwise.cosh(self)

    def atan2(self, other):
        return ops.elementwise.atan2(self, other)

    def erf(self):
        return ops.elementwise.erf(self)

    def expm1(self):
        return ops.elementwise.expm1(self)

    def log1p(self):
        return ops.elementwise.log1p(self)

    def log2(self):
        return ops.elementwise.log2(self)

    def log10(self):
        return ops.elementwise.log10(self)

    def rsqrt(self):
        return ops.elementwise.rsqrt(self)

    def reciprocal(self):
        return ops.elementwise.reciprocal(self)

    def sign(self):
        return ops.elementwise.sign(self)

    def floor(self):
        return ops.elementwise.floor(self)

    def ceil(self):
        return ops.elementwise.ceil(self)

    def round(self, decimals=0):
        return ops.elementwise.round(self, decimals)

    def trunc(self):
        return ops.elementwise.trunc(self)

    def lerp(self, end, weight):
        return ops.elementwise.lerp(self, end, weight)

    def hypot(self, other):
        return ops.elementwise.hypot(self, other)

    def astype(self, dtype):
        return ops.elementwise.astype(self, dtype)

    def float(self):
        return self.astype(backend.DEFAULT_FLOAT)

    def double(self):
        return self.astype(numpy.float64)

    def long(self):
        return self.astype(numpy.int64)

    def int(self):
        return self.astype(numpy.int32)

    def bool(self):
        return self.astype(numpy.bool_)

    # ----- reductions (NumPy's axis=/keepdims=; PyTorch's dim=/keepdim= work too) ----------
    @torch_names
    def sum(self, axis=None, keepdims=False):
        return ops.reduce.sum(self, axis, keepdims)

    @torch_names
    def mean(self, axis=None, keepdims=False):
        return ops.reduce.mean(self, axis, keepdims)

    @torch_names
    def max(self, axis=None, keepdims=False, **options):
        """Values only, as NumPy's max (PyTorch's x.max(dim) also gives indices: pass
        return_indices=True for the (values, indices) pair; see ops.reduce.max)."""
        return ops.reduce.max(self, axis, keepdims, **options)

    @torch_names
    def min(self, axis=None, keepdims=False, **options):
        """Values only unless return_indices=True (see max)."""
        return ops.reduce.min(self, axis, keepdims, **options)

    @torch_names
    def amax(self, axis=None, keepdims=False):
        return ops.reduce.amax(self, axis, keepdims)

    @torch_names
    def amin(self, axis=None, keepdims=False):
        return ops.reduce.amin(self, axis, keepdims)

    @torch_names
    def prod(self, axis=None, keepdims=False):
        return ops.reduce.prod(self, axis, keepdims)

    @torch_names
    def var(self, axis=None, keepdims=False, ddof=0, **options):
        return ops.reduce.var(self, axis, keepdims, ddof, **options)

    @torch_names
    def std(self, axis=None, keepdims=False, ddof=0, **options):
        return ops.reduce.std(self, axis, keepdims, ddof, **options)

    @torch_names
    def norm(self, ord=2, axis=None, keepdims=False, **options):
        return ops.reduce.norm(self, ord, axis, keepdims, **options)

    @torch_names
    def any(self, axis=None, keepdims=False):
        return ops.reduce.any(self, axis, keepdims)

    @torch_names
    def all(self, axis=None, keepdims=False):
        return ops.reduce.all(self, axis, keepdims)

    @torch_names
    def logsumexp(self, axis=None, keepdims=False):
        return ops.reduce.logsumexp(self, axis, keepdims)

    @torch_names
    def softmax(self, axis=-1):
        return ops.nn.softmax(self, axis)

    @torch_names
    def log_softmax(self, axis=-1):
        return ops.nn.log_softmax(self, axis)

    @torch_names
    def argmax(self, axis=None, keepdims=False):
        return ops.reduce.argmax(self, axis, keepdims)

    @torch_names
    def argmin(self, axis=None, keepdims=False):
        return ops.reduce.argmin(self, axis, keepdims)

    @torch_names
    def cumsum(self, axis=None):
        return ops.scan.cumsum(self, axis)

    @torch_names
    def cumprod(self, axis=None):
        return ops.scan.cumprod(self, axis)

    # ----- movement ------------------------------------------------------------------------
    def reshape(self, *shape):
        return ops.movement.reshape(self, *shape)

    view = reshape  # PyTorch's name (here always a new tensor, never shared memory)

    def transpose(self, *axes):
        """x.transpose(a, b) swaps two axes (PyTorch); x.transpose(axes) with one sequence, or
        with all the axes, permutes (NumPy); see ops.movement.transpose for the rule."""
        return ops.movement.transpose(self, *axes)

    def permute(self, *axes):
        return ops.movement.permute(self, *axes)

    def swapaxes(self, axis1, axis2):
        return ops.movement.swapaxes(self, axis1, axis2)

    swapdims = swapaxes

    def moveaxis(self, source, destination):
        return ops.movement.moveaxis(self, source, destination)

    movedim = moveaxis

    @property
    def T(self):
        return ops.movement.permute(self)

    @property
    def mT(self):
        """The last two axes swapped (a batch of matrices transposed)."""
        return ops.movement.swapaxes(self, -2, -1)

    def expand(self, *shape):
        return ops.movement.broadcast_to(self, *shape)

    def broadcast_to(self, *shape):
        return ops.movement.broadcast_to(self, *shape)

    @torch_names
    def squeeze(self, axis=None):
        return ops.movement.squeeze(self, axis)

    @torch_names
    def unsqueeze(self, axis=None):
        return ops.movement.unsqueeze(self, axis)

    def flatten(self, start_axis=0, end_axis=-1, *, start_dim=None, end_dim=None):
        """Merge axes start_axis..end_axis (PyTorch: start_dim, end_dim) into one."""
        return ops.movement.flatten(self, start_axis, end_axis, start_dim=start_dim,
                                    end_dim=end_dim)

    def unflatten(self, axis, sizes):
        return ops.movement.unflatten(self, axis, sizes)

    @torch_names
    def split(self, sections_or_indices=None, axis=0, **options):
        """See ops.movement.split: sections= (NumPy) or split_size= (PyTorch)."""
        return ops.movement.split(self, sections_or_indices, axis, **options)

    @torch_names
    def chunk(self, chunks, axis=0):
        return ops.movement.chunk(self, chunks, axis)

    @torch_names
    def unbind(self, axis=0):
        return ops.movement.unbind(self, axis)

    def narrow(self, axis, start, length):
        return ops.movement.narrow(self, axis, start, length)

    @torch_names
    def flip(self, axis=None):
        return ops.movement.flip(self, axis)

    @torch_names
    def roll(self, shift=None, axis=None, *, shifts=None):
        return ops.movement.roll(self, shift, axis, shifts=shifts)

    def repeat(self, *sizes):
        """PyTorch's repeat: whole copies, x.repeat(2, 3) = tile(x, (2, 3)) (NumPy's repeat,
        element by element, is repeat_interleave here). Give at least x.ndim sizes."""
        sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        sizes = ops.movement._int_tuple(sizes, "repeat", "sizes")
        if any(n < 0 for n in sizes):
            raise ArgumentError(f"repeat: sizes must be >= 0, got {sizes}")
        if len(sizes) < self.ndim:
            raise ShapeError(f"repeat: needs at least {self.ndim} sizes for a tensor of shape "
                             f"{self.shape}, got {tuple(sizes)} (tile takes fewer)")
        return ops.movement.tile(self, tuple(sizes))

    def tile(self, reps):
        return ops.movement.tile(self, reps)

    @torch_names
    def repeat_interleave(self, repeats, axis=None):
        return ops.movement.repeat_interleave(self, repeats, axis)

    def __getitem__(self, index):
        return ops.movement.getitem(self, index)

    # ----- indexing, sorting, choosing ------------------------------------------------------
    def gather(self, axis, index):
        return ops.indexing.gather(self, axis, index)

    def scatter(self, axis, index, src=None, *, value=None):
        """Out of place; src a tensor, or value= a number (PyTorch's two forms)."""
        return ops.indexing.scatter(self, axis, index, src if value is None else value)

    def scatter_add(self, axis, index, src):
        return ops.indexing.scatter_add(self, axis, index, src)

    def index_select(self, axis, index):
        return ops.indexing.index_select(self, axis, index)

    def masked_fill(self, mask, value):
        return ops.indexing.masked_fill(self, mask, value)

    def where(self, condition, other):
        """PyTorch's x.where(condition, y): x where condition, else y."""
        return ops.elementwise.where(condition, self, other)

    @torch_names
    def sort(self, axis=-1, descending=False):
        return ops.indexing.sort(self, axis, descending)

    @torch_names
    def argsort(self, axis=-1, descending=False):
        return ops.indexing.argsort(self, axis, descending)

    @torch_names
    def topk(self, k, axis=-1, largest=True, sorted=True):
        return ops.indexing.topk(self, k, axis, largest, sorted)

    def tril(self, diagonal=0):
        return ops.indexing.tril(self, diagonal)

    def triu(self, diagonal=0):
        return ops.indexing.triu(self, diagonal)

    def diagonal(self, offset=0, axis1=0, axis2=1, *, dim1=None, dim2=None):
        return ops.indexing.diagonal(self, offset, axis1, axis2, dim1=dim1, dim2=dim2)


class Size(int):
    """x.size: the number of elements, an int as in NumPy, that PyTorch code may also call:
    x.size() is the shape (a tuple) and x.size(i) the length of axis i."""

    def __new__(cls, count, shape):
        size = super().__new__(cls, count)
        size.shape = tuple(shape)
        return size

    def __call__(self, axis=None, *, dim=None):
        axis = axis if dim is None else dim
        if axis is None:
            return self.shape
        if not isinstance(axis, int) or not -len(self.shape) <= axis < len(self.shape):
            raise ShapeError(f"size: axis {axis!r} is out of range for a tensor of "
                             f"{len(self.shape)} dims")
        return self.shape[axis]


def _names_a_device(value):
    """Whether to()'s argument is a device ("cpu", "cuda:0", "strict") rather than a dtype."""
    return isinstance(value, str) and value.lower().split(":")[0] in backend.DEVICES


def _both_dtypes(first, second):
    raise DTypeError(f"to: got two dtypes, {first!r} and {second!r}")


# ----- creation helpers ---------------------------------------------------------------------
def constant(array, like=None, *, device=None, dtype=None):
    """A tensor that needs no gradient, made from a backend array WITHOUT copying it.

    array   an array of the device (NumPy for "cpu", the device's array type otherwise);
            a NumPy scalar (what a full reduction gives) is taken on "cpu"
    like    a tensor whose device the result takes (or name one with device=)
    dtype   the result's dtype (default: the array's own, so a boolean mask stays boolean)

    This is how an op's backward turns an array it computed (a mask, a derivative) into a
    tensor that Tensor ops can combine with the gradient: ``grad * tg.constant(mask, like=grad)``.
    Unlike ``Tensor(array)``, it neither copies nor converts (float64 stays float64): a
    NumPy array handed over for another device is refused, never silently moved.
    """
    device = like.device if like is not None else backend.normalize_device(device)
    if type(array) is not numpy.ndarray or device != "cpu":  # the common case skips this
        _check_array_of(device, array)
    if dtype is not None:
        array = array.astype(as_dtype(dtype, "constant"), copy=False)
    return Tensor._from_op(array, device, False)


def _check_array_of(device, array):
    if backend.is_device_array(array):
        if backend.device_of(array) == device:
            return
        got = f"an array of device {backend.device_of(array)!r}"
    elif isinstance(array, numpy.generic) and device == "cpu":
        return
    else:
        got = f"a {type(array).__name__}"
    raise DeviceError(f"constant: got {got} for device {device!r}; compute it with the "
                      f"device's array module (t.xp), or copy it with Tensor(array, "
                      f"device={device!r})")


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


def _like(t, dtype, op):
    t = as_tensor(t, op)
    return t, (t.dtype if dtype is None else as_dtype(dtype, op))


def zeros_like(t, dtype=None, requires_grad=False):
    t, dtype = _like(t, dtype, "zeros_like")
    return zeros(t.shape, dtype=dtype, requires_grad=requires_grad, device=t.device)


def ones_like(t, dtype=None, requires_grad=False):
    t, dtype = _like(t, dtype, "ones_like")
    return ones(t.shape, dtype=dtype, requires_grad=requires_grad, device=t.device)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    t, dtype = _like(t, dtype, "full_like")
    return _filled(fill_value, t.shape, dtype, requires_grad, t.device, "full_like")


def _check_real(op, **values):
    for name, value in values.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise DTypeError(f"{op}: {name} must be a real number, got "
                             f"{type(value).__name__} {value!r:.40}")
        if not math.isfinite(value):
            raise ArgumentError(f"{op}: {name} must be finite, got {value}")


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Like numpy.arange: start, start + step, ... below stop (float steps too, e.g.
    arange(0, 1, 0.1)); integers stay int64, floats become float32. Float steps meet
    rounding: prefer linspace when the end point matters."""
    bounds = {"start": start, "step": step} | ({} if stop is None else {"stop": stop})
    _check_real("arange", **bounds)
    if step == 0:
        raise ArgumentError("arange: step must not be 0")
    values = numpy.arange(start, stop, step) if stop is not None else numpy.arange(start)
    return Tensor(values, dtype=dtype, device=device)


def _count_argument(op, num, steps):
    """NumPy's num= or PyTorch's steps= (the number of points), checked."""
    if steps is not None:
        num = steps
    if isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 0:
        raise ArgumentError(f"{op}: the number of points must be an int >= 0, got {num!r}")
    return int(num)


def linspace(start, stop, num=50, *, steps=None, dtype=None, requires_grad=False, device=None):
    """``num`` evenly spaced points from start to stop, both included (numpy.linspace;
    PyTorch's steps= is num)."""
    _check_real("linspace", start=start, stop=stop)
    values = numpy.linspace(start, stop, _count_argument("linspace", num, steps))
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def logspace(start, stop, num=50, base=10.0, *, steps=None, dtype=None, requires_grad=False,
             device=None):
    """base ** linspace(start, stop, num): ``num`` points evenly spaced on a log scale."""
    _check_real("logspace", start=start, stop=stop, base=base)
    values = numpy.logspace(start, stop, _count_argument("logspace", num, steps), base=base)
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def eye(n, m=None, k=0, *, dtype=None, requires_grad=False, device=None):
    """The n x m identity: ones on the diagonal offset by k (numpy.eye; torch.eye(n, m))."""
    for name, value in (("n", n), ("m", n if m is None else m), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise DTypeError(f"eye: {name} must be an int, got {type(value).__name__}")
    if n < 0 or (m is not None and m < 0):
        raise ShapeError(f"eye: sizes must be >= 0, got n={n}, m={m}")
    return Tensor(numpy.eye(n, m, k), dtype=dtype, requires_grad=requires_grad, device=device)


def _generator(seed, op, generator=None):
    return random.generator_for(seed, generator, op)


def randn(*shape, seed=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal samples. Pass ``seed`` (an int) or ``generator`` (numpy Generator);
    without either, the default generator (see tinygrad_course.random and manual_seed).

    Samples are drawn on the host with NumPy, so a seed gives the same numbers on every device.
    """
    rng = _generator(seed, "randn", generator)
    values = rng.standard_normal(_shape_of(shape, "randn"), dtype=numpy.float64)
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def rand(*shape, seed=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1); seeded like ``randn``."""
    rng = _generator(seed, "rand", generator)
    values = rng.random(_shape_of(shape, "rand"))
    return Tensor(values, dtype=dtype, requires_grad=requires_grad, device=device)


def randint(low, high=None, size=(), *, seed=None, generator=None, dtype=None, device=None):
    """Integers drawn uniformly from [low, high) (int64); randint(high, size) draws from
    [0, high), so both numpy's randint(low, high, size) and torch's randint(high, size)
    and randint(low, high, size) read right. Seeded like ``randn``."""
    if high is not None and isinstance(high, (tuple, list)):  # torch.randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise DTypeError(f"randint: {name} must be an int, got {type(value).__name__} "
                             f"{value!r:.40}")
    if high <= low:
        raise ArgumentError(f"randint: needs low < high, got [{low}, {high})")
    shape = _shape_of(size if isinstance(size, (tuple, list)) else (size,), "randint")
    values = _generator(seed, "randint", generator).integers(low, high, size=shape)
    return Tensor(values.astype(numpy.int64), dtype=dtype, device=device)


def randn_like(t, dtype=None, requires_grad=False, seed=None, generator=None):
    t, dtype = _like(t, dtype, "randn_like")
    return randn(t.shape, seed=seed, generator=generator, dtype=dtype,
                 requires_grad=requires_grad, device=t.device)


def rand_like(t, dtype=None, requires_grad=False, seed=None, generator=None):
    t, dtype = _like(t, dtype, "rand_like")
    return rand(t.shape, seed=seed, generator=generator, dtype=dtype,
                requires_grad=requires_grad, device=t.device)


def check_same_device(op_name, *tensors):
    """Raise DeviceError if the tensors live on different devices."""
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise DeviceError(f"{op_name}: tensors on different devices {sorted(devices)}; "
                          "move them with .to(device) first")


# The ops and the engine build on the Tensor class above, so they are imported after it.
from . import autograd, hooks, ops  # noqa: E402

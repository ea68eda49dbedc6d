"""torch.Tensor: a view of a core Tensor with PyTorch's methods.

A view holds one core ``tinygrad_course.Tensor`` (``._t``) and nothing else: the array, the
gradient, the op that made it and the in-place stamp all live in the core tensor, so every
view of it (and the core code that holds it) sees the same state. There is one view per
core tensor at a time (``wrap`` finds it again), so ``p is p`` holds across
``model.parameters()`` calls.

Why a view and not a subclass: PyTorch code reads ``p.data`` as a Tensor
(``p.data.add_(...)``), while the engine reads ``t.data`` as the backend array. One object
cannot be both, so the engine never sees a view: the namespace unwraps views before calling
core code and wraps what comes back.

Methods whose meaning is the same in NumPy-flavoured core and in PyTorch are passed through
(``SAME_AS_CORE``); those that differ are written here with PyTorch's meaning:

    x.max(dim) / x.min(dim)   (values, indices), PyTorch's pair (core: values only)
    x.var() / x.std()         unbiased (divide by n - 1) by default (core: ddof=0)
    x.split(n, dim)           pieces of n elements (core: refuses the ambiguous form)
    x.size()                  torch.Size; x.shape is a torch.Size too
    x.data                    a Tensor sharing the array, outside the graph
    x.add_(y) ... x[i] = v    in place, with autograd's version check (see _in_place)

A name that is in neither list raises AttributeError naming it: no method silently falls
back to a NumPy meaning.
"""

import builtins
import math
import numbers
import operator
import weakref

import numpy

from .. import autograd, backend, inplace
from .. import nn as core_nn
from ..errors import ArgumentError, BackwardError, DTypeError, ShapeError
from ..ops import elementwise, indexing, movement, reduce
from ..tensor import Tensor as CoreTensor
from ..tensor import TensorAsArrayError, as_dtype, host_array

_views = weakref.WeakValueDictionary()  # id(core tensor) -> its view, while the view lives


def wrap(value):
    """Core tensors -> views, inside tuples, lists and named tuples too; the rest unchanged."""
    if isinstance(value, CoreTensor):
        view = _views.get(id(value))
        if view is None or view._t is not value:
            view = object.__new__(Parameter if isinstance(value, core_nn.Parameter) else Tensor)
            view._t, view._base = value, None
            _views[id(value)] = view
        return view
    if isinstance(value, tuple) and not isinstance(value, Size):
        items = [wrap(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def unwrap(value):
    """Views -> their core tensors, inside tuples and lists too; devices -> core device
    names; the rest unchanged. What core code is handed."""
    if isinstance(value, Tensor):
        return value._t
    if isinstance(value, tuple) and not isinstance(value, Size):
        items = [unwrap(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, device):
        return value.type
    return value


def unwrap_kwargs(kwargs):
    return {name: unwrap(value) for name, value in kwargs.items()}


def calling_core(function):
    """``function`` (core code) made to take views and give views back."""
    def on_views(*args, **kwargs):
        return wrap(function(*unwrap(args), **unwrap_kwargs(kwargs)))

    on_views.__name__ = getattr(function, "__name__", "function")
    on_views.__qualname__ = on_views.__name__
    on_views.__doc__ = getattr(function, "__doc__", None)
    return on_views


def core_of(value, op):
    """``value`` as a core tensor for the op named ``op``: a view's tensor, or a number /
    list / array as a constant (bad input raises the core's named DTypeError)."""
    value = unwrap(value)
    if isinstance(value, CoreTensor):
        return value
    return CoreTensor(host_array(value, op))


class Size(tuple):
    """torch.Size: the shape, a tuple of ints, with numel()."""

    def numel(self):
        return math.prod(self)

    def __repr__(self):
        return f"torch.Size({list(self)})"


class device:  # noqa: N801 (PyTorch's name)
    """torch.device("cpu"), torch.device("cuda", 0): where a tensor lives; compares equal
    to its name ("cpu" == torch.device("cpu"))."""

    def __init__(self, type, index=None):  # noqa: A002 (PyTorch's argument name)
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise DTypeError(f"device: expected a name such as 'cpu' or 'cuda:0', got "
                             f"{builtins.type(type).__name__}")
        name, _, number = type.partition(":")
        if name not in backend.DEVICES:
            raise ArgumentError(f"device: unknown device {type!r}; expected one of "
                                f"{sorted(backend.DEVICES)}")
        self.type = name
        self.index = int(number) if number else index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else
                                                f", index={self.index}") + ")"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


def is_dtype(value):
    return isinstance(value, (numpy.dtype, builtins.type)) or (
        isinstance(value, str) and value.lower().split(":")[0] not in backend.DEVICES)


# Methods that mean the same in the core and in PyTorch: passed through, results wrapped.
SAME_AS_CORE = frozenset("""
    exp log sqrt abs tanh sigmoid relu sin cos tan sinh cosh atan2 erf expm1 log1p log2 log10
    rsqrt reciprocal sign floor ceil round trunc lerp hypot clamp clip
    float double long int bool
    sum mean prod amax amin any all logsumexp softmax log_softmax argmax argmin cumsum cumprod
    reshape permute swapaxes swapdims moveaxis movedim flatten unflatten squeeze unsqueeze
    chunk unbind narrow flip roll repeat repeat_interleave tile transpose
    gather scatter scatter_add index_select masked_fill where sort argsort topk tril triu
    diagonal detach clone retain_grad register_hook backward numel item tolist numpy
    ndim dtype is_leaf T mT name
""".split())


def _as_ints(sizes, op):
    sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    try:
        return tuple(operator.index(s) for s in sizes)
    except TypeError:
        raise DTypeError(f"{op}: sizes must be integers, got {sizes!r}") from None


class Tensor:
    """torch.Tensor: PyTorch's methods on a core tensor (see the module docstring).

    torch.Tensor(data) makes a float32 tensor of the data; torch.Tensor(2, 3) a 2x3 tensor
    of zeros (PyTorch leaves it uninitialised).
    """

    __slots__ = ("_t", "_base", "__weakref__")
    __array_ufunc__ = None  # numpy_array + tensor asks Tensor.__radd__, not NumPy

    def __new__(cls, *data):
        if data and all(isinstance(n, numbers.Integral) and not isinstance(n, builtins.bool)
                        for n in data):
            core = CoreTensor(numpy.zeros(data, dtype=numpy.float32))
        elif len(data) == 1:
            source = data[0]._t.numpy() if isinstance(data[0], Tensor) else data[0]
            core = CoreTensor(host_array(source, "Tensor"), dtype=numpy.float32)
        else:
            core = CoreTensor(numpy.zeros(data if data else (0,), dtype=numpy.float32))
        return wrap(core)

    # ----- passing through what the core already does as PyTorch does ----------------------
    def __getattr__(self, name):
        if name not in SAME_AS_CORE:
            raise AttributeError(f"'Tensor' object has no attribute {name!r} (tinygrad_course"
                                 ".torch covers the methods listed in its README section)")
        value = getattr(self._t, name)
        return calling_core(value) if callable(value) else wrap(value)

    def __dir__(self):
        return sorted(set(super().__dir__()) | SAME_AS_CORE)

    # ----- state shared with the core tensor ----------------------------------------------
    @property
    def data(self):
        """A tensor sharing this one's array, outside the graph: in-place ops on it change
        this tensor without autograd seeing them (PyTorch's .data)."""
        t = self._t
        return wrap(CoreTensor._from_op(t.data, t.device, False))

    @data.setter
    def data(self, value):
        self._t.data = core_of(value, "data").data

    @property
    def grad(self):
        return wrap(self._t.grad)

    @grad.setter
    def grad(self, value):
        self._t.grad = None if value is None else core_of(value, "grad")

    @property
    def requires_grad(self):
        return self._t.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self._t.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        self._t.requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self):
        return self._t._ctx

    @property
    def shape(self):
        return Size(self._t.shape)

    @property
    def device(self):
        return device(self._t.device)

    @property
    def is_cuda(self):
        return self._t.device == "cuda"

    def size(self, dim=None):
        """The shape (a torch.Size), or the length of axis ``dim``."""
        return self.shape if dim is None else self._t.size(dim)

    def dim(self):
        return self._t.ndim

    ndimension = dim

    def nelement(self):
        return self._t.numel()

    def __len__(self):
        return len(self._t)

    def __repr__(self):
        return repr(self._t)

    __hash__ = object.__hash__

    # ----- leaving the tensor -------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """NumPy may read a tensor that needs no gradient (plots, numpy.asarray(t)), as in
        PyTorch; one that requires grad is refused, so no gradient is lost unseen."""
        if self._t.requires_grad:
            raise TensorAsArrayError(
                f"numpy: a tensor of shape {tuple(self.shape)} that requires grad was given "
                "where an array is expected; use t.detach().numpy() (as PyTorch asks)")
        array = self._t.numpy()
        return array if dtype is None else array.astype(dtype)

    def __int__(self):
        return int(self._t)

    def __float__(self):
        return float(self._t)

    def __bool__(self):
        return bool(self._t)

    def __index__(self):
        if self._t.dtype.kind not in "iub" or self._t.numel() != 1:
            raise DTypeError(f"__index__: only a one-element integer tensor can be used as an "
                             f"index, got dtype {self._t.dtype}, shape {self._t.shape}")
        return int(self._t)

    def __format__(self, spec):
        if self._t.ndim == 0:
            return format(self._t.item(), spec)
        if spec:
            raise ShapeError(f"format: the spec {spec!r} formats one number; got a tensor of "
                             f"shape {tuple(self.shape)} (take .item() of one element)")
        return repr(self)

    def __iter__(self):
        if self._t.ndim == 0:
            raise DTypeError("iter: a 0-d tensor cannot be iterated (it is one number)")
        return (wrap(self._t[i]) for i in range(self._t.shape[0]))

    def to(self, *args, **kwargs):
        """x.to(device), x.to(dtype), x.to(other_tensor), x.to(device, dtype); ``copy``
        and ``non_blocking`` are accepted (a copy is made only where something changes)."""
        kwargs.pop("non_blocking", None)
        kwargs.pop("copy", None)
        target_device, target_dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        if kwargs:
            raise ArgumentError(f"to: unexpected arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                target_device, target_dtype = arg._t.device, arg._t.dtype
            elif isinstance(arg, device) or (isinstance(arg, str) and not is_dtype(arg)):
                target_device = arg
            else:
                target_dtype = arg
        return wrap(self._t.to(unwrap(target_device), target_dtype))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def type(self, dtype=None):
        """No argument: the type's name ('torch.FloatTensor'); else a cast to ``dtype`` (a
        dtype or such a name)."""
        names = {numpy.dtype(d): n for n, d in TYPE_NAMES.items()}
        if dtype is None:
            return names.get(self._t.dtype, f"torch.{self._t.dtype}Tensor")
        if isinstance(dtype, str) and dtype in TYPE_NAMES:
            dtype = TYPE_NAMES[dtype]
        return wrap(self._t.astype(as_dtype(dtype, "type")))

    def type_as(self, other):
        return wrap(self._t.astype(core_of(other, "type_as").dtype))

    # ----- PyTorch's meanings where they differ from the core's ---------------------------
    def _extreme(self, core_op, pick, dim, keepdim, kwargs, op):
        dim = kwargs.pop("axis", dim)
        if kwargs:
            raise ArgumentError(f"{op}: unexpected arguments {sorted(kwargs)}")
        if isinstance(dim, (Tensor, CoreTensor)):  # x.max(other): elementwise
            return wrap(pick(self._t, unwrap(dim)))
        if dim is None:
            return wrap(core_op(self._t))
        return wrap(core_op(self._t, dim, keepdim, return_indices=True))

    def max(self, dim=None, keepdim=False, **kwargs):
        """x.max(): the largest value; x.max(dim): (values, indices); x.max(other): the
        elementwise maximum."""
        return self._extreme(reduce.max, elementwise.maximum, kwargs.pop("dim", dim),
                             kwargs.pop("keepdim", keepdim), kwargs, "max")

    def min(self, dim=None, keepdim=False, **kwargs):
        """As max: the smallest value, (values, indices) along dim, or elementwise."""
        return self._extreme(reduce.min, elementwise.minimum, kwargs.pop("dim", dim),
                             kwargs.pop("keepdim", keepdim), kwargs, "min")

    def _spread(self, core_op, dim, unbiased, keepdim, correction, op):
        if isinstance(dim, builtins.bool):  # the old x.var(unbiased) form
            dim, unbiased = None, dim
        if correction is None:
            correction = 1 if unbiased in (None, True) else 0
        elif unbiased is not None:
            raise ArgumentError(f"{op}: give unbiased= or correction=, not both")
        return wrap(core_op(self._t, dim, keepdim, ddof=correction))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance, dividing by n - correction (default 1: unbiased, as PyTorch)."""
        return self._spread(reduce.var, dim, unbiased, keepdim, correction, "var")

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Standard deviation, unbiased by default (see var)."""
        return self._spread(reduce.std, dim, unbiased, keepdim, correction, "std")

    def norm(self, p="fro", dim=None, keepdim=False):
        """sum(|x|^p)^(1/p) over ``dim`` (all elements by default); 'fro' is p = 2."""
        p = 2 if p == "fro" else p
        return wrap(reduce.norm(self._t, p, dim, keepdim))

    def split(self, split_size, dim=0):
        """Pieces of ``split_size`` elements along dim (the last may be smaller), or of the
        sizes in a list: PyTorch's meaning."""
        return tuple(wrap(movement.split(self._t, axis=dim, split_size=split_size)))

    def view(self, *shape):
        """The same elements in ``shape`` (one size may be -1). A new tensor here, never a
        window on this one's memory."""
        return wrap(self._t.reshape(_as_ints(shape, "view")))

    def view_as(self, other):
        return self.view(core_of(other, "view_as").shape)

    def reshape_as(self, other):
        return self.view(core_of(other, "reshape_as").shape)

    def expand(self, *sizes):
        """Broadcast to ``sizes``; -1 keeps that axis's length."""
        sizes = _as_ints(sizes, "expand")
        lead = len(sizes) - self._t.ndim
        if lead < 0:
            raise ShapeError(f"expand: {len(sizes)} sizes for a tensor of {self._t.ndim} dims")
        sizes = tuple(self._t.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        return wrap(self._t.broadcast_to(sizes))

    def expand_as(self, other):
        return self.expand(core_of(other, "expand_as").shape)

    def t(self):
        """The matrix transposed (a 0-d or 1-d tensor as it is); more dims raise."""
        if self._t.ndim > 2:
            raise ShapeError(f"t: expects a tensor of at most 2 dims, got {self._t.ndim} (use "
                             "transpose(dim0, dim1))")
        return wrap(self._t.T)

    def contiguous(self):
        return self  # every tensor here owns a C-ordered array

    def is_contiguous(self):
        return True

    def mm(self, other):
        other = core_of(other, "mm")
        if self._t.ndim != 2 or other.ndim != 2:
            raise ShapeError(f"mm: needs two matrices, got shapes {self._t.shape} and "
                             f"{other.shape} (matmul takes batches)")
        return wrap(self._t @ other)

    def bmm(self, other):
        other = core_of(other, "bmm")
        if self._t.ndim != 3 or other.ndim != 3:
            raise ShapeError(f"bmm: needs two 3-d batches, got shapes {self._t.shape} and "
                             f"{other.shape}")
        return wrap(self._t @ other)

    def matmul(self, other):
        return wrap(self._t @ core_of(other, "matmul"))

    def dot(self, other):
        other = core_of(other, "dot")
        if self._t.ndim != 1 or other.ndim != 1:
            raise ShapeError(f"dot: needs two 1-d tensors, got {self._t.shape}, {other.shape}")
        return wrap(self._t @ other)

    def add(self, other, alpha=1):
        return wrap(self._t + _scaled(other, alpha, "add"))

    def sub(self, other, alpha=1):
        return wrap(self._t - _scaled(other, alpha, "sub"))

    def mul(self, other):
        return wrap(self._t * unwrap(other))

    def div(self, other, rounding_mode=None):
        quotient = self._t / unwrap(other)
        if rounding_mode == "floor":
            quotient = quotient.floor()
        elif rounding_mode == "trunc":
            quotient = quotient.trunc()
        elif rounding_mode is not None:
            raise ArgumentError(f"div: rounding_mode must be None, 'floor' or 'trunc', got "
                                f"{rounding_mode!r}")
        return wrap(quotient)

    def pow(self, exponent):
        return wrap(self._t ** unwrap(exponent))

    def neg(self):
        return wrap(-self._t)

    def maximum(self, other):
        return wrap(elementwise.maximum(self._t, unwrap(other)))

    def minimum(self, other):
        return wrap(elementwise.minimum(self._t, unwrap(other)))

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def equal(self, other):
        other = core_of(other, "equal")
        return self._t.shape == other.shape and builtins.bool((self._t == other).all())

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_as_ints(size, "new_zeros"), 0, dtype=dtype,
                             requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_as_ints(size, "new_ones"), 1, dtype=dtype,
                             requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        """A tensor of ``size`` filled with ``fill_value``, of this one's dtype and device
        unless told otherwise."""
        from ..tensor import full
        return wrap(full(_as_ints((size,), "new_full"), fill_value,
                         dtype=self._t.dtype if dtype is None else dtype,
                         requires_grad=requires_grad, device=self._t.device))

    def new_tensor(self, data, dtype=None, requires_grad=False):
        return wrap(CoreTensor(host_array(unwrap(data), "new_tensor"),
                               dtype=self._t.dtype if dtype is None else dtype,
                               requires_grad=requires_grad, device=self._t.device))

    def __getitem__(self, index):
        """x[index]. With basic indexing (ints, slices, None, ...) PyTorch gives a view, so
        x[0][1] = v must reach x: the result remembers (x, index) and an in-place op on it
        writes its new value back into x (see _in_place). The values are a copy: a later
        change of x does not show in an earlier x[0]."""
        part = wrap(self._t[_core_index(index)])
        if _is_basic(index):
            part._base = (self, index)
        return part

    # ----- arithmetic and comparisons (numbers and arrays on either side) ------------------
    def __add__(self, other):
        return wrap(self._t + unwrap(other))

    def __radd__(self, other):
        return wrap(unwrap(other) + self._t)

    def __sub__(self, other):
        return wrap(self._t - unwrap(other))

    def __rsub__(self, other):
        return wrap(unwrap(other) - self._t)

    def __mul__(self, other):
        return wrap(self._t * unwrap(other))

    def __rmul__(self, other):
        return wrap(unwrap(other) * self._t)

    def __truediv__(self, other):
        return wrap(self._t / unwrap(other))

    def __rtruediv__(self, other):
        return wrap(unwrap(other) / self._t)

    def __floordiv__(self, other):
        return _floor_quotient(self._t, unwrap(other))

    def __rfloordiv__(self, other):
        return _floor_quotient(core_of(other, "floordiv"), self._t)

    def __mod__(self, other):
        other = unwrap(other)
        return wrap(self._t - unwrap(_floor_quotient(self._t, other)) * other)

    def __pow__(self, exponent):
        return wrap(self._t ** unwrap(exponent))

    def __rpow__(self, base):
        return wrap(unwrap(base) ** self._t)

    def __matmul__(self, other):
        return wrap(self._t @ unwrap(other))

    def __rmatmul__(self, other):
        return wrap(unwrap(other) @ self._t)

    def __neg__(self):
        return wrap(-self._t)

    def __pos__(self):
        return self

    def __abs__(self):
        return wrap(self._t.abs())

    def __invert__(self):
        if self._t.dtype != numpy.bool_:
            raise DTypeError(f"invert: ~x needs a bool tensor here, got dtype {self._t.dtype}")
        return wrap(self._t == False)  # noqa: E712 (elementwise, on a tensor)

    def __and__(self, other):
        return _logical(self, other, "and")

    def __or__(self, other):
        return _logical(self, other, "or")

    def __eq__(self, other):
        return wrap(self._t == unwrap(other))

    def __ne__(self, other):
        return wrap(self._t != unwrap(other))

    def __lt__(self, other):
        return wrap(self._t < unwrap(other))

    def __le__(self, other):
        return wrap(self._t <= unwrap(other))

    def __gt__(self, other):
        return wrap(self._t > unwrap(other))

    def __ge__(self, other):
        return wrap(self._t >= unwrap(other))

    # ----- in place ------------------------------------------------------------------------
    def _in_place(self, op, compute):
        """Overwrite this tensor with ``compute(old)``, where ``old`` holds its value before.

        Outside a graph (under no_grad, or when nothing involved requires grad) the result is
        written into the tensor's own array, so every tensor sharing it (``p.data``) sees the
        change: an optimiser-style update. Inside a graph the tensor becomes the output of
        the ops that computed the result (a new array; its gradient flows back through
        ``old``), as PyTorch rebases an in-place result. Either way the tensor is stamped by
        inplace.mark_modified_in_place, so a backward that needed the overwritten value
        raises BackwardError instead of using the new one. A leaf that requires grad is
        refused outside no_grad (PyTorch's rule).
        """
        t = self._t
        tracking = autograd.is_grad_enabled()
        if tracking and t.requires_grad and t._ctx is None:
            raise BackwardError(
                f"{op}: in-place on a leaf tensor that requires grad (shape {t.shape}); do it "
                "under torch.no_grad() (as an optimiser step does) or on p.data")
        inplace.mark_modified_in_place(t, op)
        old = CoreTensor._from_op(t.data, t.device, t.requires_grad)
        old._ctx = t._ctx
        new = _fit(compute(old), t, op)
        if tracking and (t.requires_grad or new.requires_grad):
            if not new.requires_grad:  # overwritten by constants: zero gradient to `old`
                new = elementwise.where(CoreTensor(numpy.zeros((), numpy.bool_),
                                                   device=t.device), old, new)
            t.data, t._ctx, t.requires_grad = new.data, new._ctx, True
            new._ctx._output_ref = weakref.ref(t)
        else:
            _write_into(t, new.data)
        if self._base is not None:  # a part of another tensor (x[i]): write it back there
            base, index = self._base
            base[index] = self
        return self

    def add_(self, other, alpha=1, **kwargs):
        """x += alpha * other in place (PyTorch's old add_(alpha, other) order works too)."""
        if isinstance(other, numbers.Number) and isinstance(alpha, (Tensor, CoreTensor)):
            other, alpha = alpha, other
        alpha = kwargs.pop("value", alpha)
        return self._in_place("add_", lambda old: old + _scaled(other, alpha, "add_"))

    def sub_(self, other, alpha=1):
        return self._in_place("sub_", lambda old: old - _scaled(other, alpha, "sub_"))

    def mul_(self, other):
        return self._in_place("mul_", lambda old: old * unwrap(other))

    def div_(self, other):
        return self._in_place("div_", lambda old: old / unwrap(other))

    def pow_(self, exponent):
        return self._in_place("pow_", lambda old: old ** unwrap(exponent))

    def clamp_(self, min=None, max=None):
        return self._in_place("clamp_", lambda old: old.clamp(unwrap(min), unwrap(max)))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._in_place("fill_", lambda old: _constant(unwrap(value), old, "fill_"))

    def copy_(self, source):
        return self._in_place("copy_", lambda old: core_of(source, "copy_"))

    def masked_fill_(self, mask, value):
        return self._in_place("masked_fill_",
                              lambda old: old.masked_fill(unwrap(mask), unwrap(value)))

    def uniform_(self, a=0.0, b=1.0):
        """Fill with samples of U(a, b) from the default generator (torch.manual_seed)."""
        from ..random import default_generator
        return self._in_place("uniform_", lambda old: _constant(
            default_generator().uniform(a, b, size=old.shape), old, "uniform_"))

    def normal_(self, mean=0.0, std=1.0):
        """Fill with samples of N(mean, std^2) from the default generator."""
        from ..random import default_generator
        return self._in_place("normal_", lambda old: _constant(
            default_generator().normal(mean, std, size=old.shape), old, "normal_"))

    def __setitem__(self, index, value):
        """x[index] = value: in place (see _in_place); the value is cast to x's dtype and
        broadcast over the selected elements, as in PyTorch."""
        self._in_place("setitem", lambda old: _put(old, _core_index(index), unwrap(value)))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def detach_(self):
        t = self._t
        t._ctx, t.requires_grad = None, False
        return self


class Parameter(Tensor):
    """nn.Parameter(tensor, requires_grad=True): a view of a core Parameter, so a Module
    registers it and model.parameters() finds it."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        data = CoreTensor(numpy.zeros(0, numpy.float32)) if data is None else data
        return wrap(core_nn.Parameter(core_of(data, "Parameter"), requires_grad=requires_grad))

    def __repr__(self):
        return "Parameter containing:\n" + repr(self._t.detach())


TYPE_NAMES = {
    "torch.FloatTensor": numpy.float32, "torch.DoubleTensor": numpy.float64,
    "torch.HalfTensor": numpy.float16, "torch.LongTensor": numpy.int64,
    "torch.IntTensor": numpy.int32, "torch.ShortTensor": numpy.int16,
    "torch.CharTensor": numpy.int8, "torch.ByteTensor": numpy.uint8,
    "torch.BoolTensor": numpy.bool_,
}


def _scaled(other, alpha, op):
    other = unwrap(other)
    if isinstance(alpha, builtins.bool) or not isinstance(alpha, numbers.Number):
        raise DTypeError(f"{op}: alpha must be a number, got {builtins.type(alpha).__name__}")
    return other if alpha == 1 else other * alpha


def _floor_quotient(a, b):
    quotient = (a / b).floor()
    kinds = {x.dtype.kind for x in (a, b) if isinstance(x, CoreTensor)}
    kinds |= {"f" for x in (a, b) if isinstance(x, builtins.float)}
    return wrap(quotient if "f" in kinds else quotient.astype(numpy.int64))


def _logical(a, b, which):
    a, b = core_of(a, which), core_of(b, which)
    if a.dtype != numpy.bool_ or b.dtype != numpy.bool_:
        raise DTypeError(f"{which}: & and | need bool tensors here, got {a.dtype}, {b.dtype}")
    both = a.astype(numpy.int8) + b.astype(numpy.int8)
    return wrap(both == 2 if which == "and" else both >= 1)


def _is_basic(index):
    """Whether ``index`` is basic indexing (PyTorch returns a view for it)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(part is None or part is Ellipsis or isinstance(part, slice) or (
        isinstance(part, numbers.Integral) and not isinstance(part, builtins.bool))
        for part in parts)


def _core_index(index):
    """An index with views (masks, integer tensors) made of core tensors."""
    return unwrap(index)


def _constant(values, like, op):
    """``values`` (a number or a host array) as a constant tensor of ``like``'s shape,
    dtype and device."""
    values = numpy.broadcast_to(numpy.asarray(host_array(values, op), dtype=like.dtype),
                                like.shape)
    return CoreTensor(numpy.array(values), dtype=like.dtype, device=like.device)


def _fit(new, target, op):
    """The result of an in-place op, of the target's shape and dtype (or a named error)."""
    if new.shape != target.shape:
        try:
            new = new.broadcast_to(target.shape)
        except ShapeError:
            raise ShapeError(f"{op}: the result has shape {new.shape}, which cannot be written "
                             f"into a tensor of shape {target.shape}") from None
    if new.dtype != target.dtype:
        if new.dtype.kind == "f" and target.dtype.kind != "f" and op != "setitem":
            raise DTypeError(f"{op}: the result is {new.dtype}, which cannot be written into a "
                             f"{target.dtype} tensor in place (PyTorch refuses it too)")
        new = new.astype(target.dtype)
    return new


def _write_into(t, values):
    """Copy ``values`` into ``t``'s own array (tensors sharing it see the change); an array
    that cannot be written (a read-only broadcast, a 0-d scalar) is replaced instead."""
    try:
        t.data[...] = values
    except (TypeError, ValueError):
        t.data = values.copy()


def _put(old, index, value):
    """old with old[index] = value, as ops (so a gradient reaches ``value`` and the kept
    elements of ``old``): the flat positions that ``index`` selects, then one scatter."""
    host_index = _host_index(index)
    positions = numpy.arange(old.numel()).reshape(old.shape)[host_index]
    if positions.size == 0:
        return old
    if not isinstance(value, CoreTensor):
        value = CoreTensor(host_array(value, "setitem"), dtype=old.dtype, device=old.device)
    if value.dtype != old.dtype:
        value = value.astype(old.dtype)
    try:
        value = value.broadcast_to(positions.shape)
    except ShapeError:
        raise ShapeError(f"setitem: a value of shape {value.shape} cannot fill the "
                         f"{positions.shape} elements that the index selects") from None
    flat_positions = CoreTensor(positions.reshape(-1), device=old.device)
    flat = indexing.scatter(old.reshape(-1), 0, flat_positions, value.reshape(-1))
    return flat.reshape(old.shape)


def _host_index(index):
    """The index with core tensors as host arrays (the positions are found on the host)."""
    if isinstance(index, tuple):
        return tuple(_host_index(i) for i in index)
    if isinstance(index, CoreTensor):
        return index.numpy()
    if isinstance(index, list):
        return numpy.asarray([_host_index(i) for i in index])
    return index

"""Reductions over any axis or axes (None = all, an int, negative ints, a tuple, or ()).

Backward of a reduction spreads the upstream gradient back over the reduced axes: first put
the reduced axes back as size 1 (``keepdims``), then broadcast to the input's shape.

Reducing over nothing, as NumPy and PyTorch do:
  * an axis of length 0 (no elements): sum 0, mean and var NaN, logsumexp -inf (the log of
    an empty sum of exponentials), and max, min raise a ShapeError (the max of nothing is
    undefined);
  * a 0-d tensor has no axes, but axis 0 or -1 may name it as if it had one of size 1 (as in
    PyTorch): the reduction then leaves its one element as it is (sum, mean, max, logsumexp
    give x; var gives 0; softmax 1, log_softmax 0).
"""

import builtins
import math
from collections import namedtuple

import numpy

from ..autograd import Function, is_grad_enabled
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import as_tensor, constant, torch_names
from .elementwise import floating, sqrt, where

# What max/min(..., return_indices=True), sort and topk return, like PyTorch's named tuples:
# values, indices = tg.sort(x)  or  tg.sort(x).values
ValuesAndIndices = namedtuple("ValuesAndIndices", ["values", "indices"])


def normalize_axes(axis, ndim, op_name):
    """None -> all axes; int or tuple -> a sorted tuple of non-negative axes.

    A 0-d tensor has no axes: every form gives (), but only 0 and -1 are accepted for it
    (PyTorch treats a 0-d tensor's dims as if it had one).
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, checked cheaply
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, numpy.integer)) else axis
    if not isinstance(axes, (tuple, list)) or not builtins.all(
            isinstance(a, (int, numpy.integer)) for a in axes):
        raise DTypeError(f"{op_name}: axis must be None, an int or a tuple of ints, got "
                         f"{type(axis).__name__} {axis!r:.40}")
    named = builtins.max(ndim, 1)  # the dims that axes may name (one for a 0-d tensor)
    normalized = []
    for a in axes:
        if not -named <= a < named:
            raise ShapeError(f"{op_name}: axis {a} is out of range for a tensor of {ndim} dims")
        normalized.append(int(a) % named)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{op_name}: repeated axis in {axis}")
    return tuple(sorted(normalized)) if ndim else ()


def one_axis(axis, ndim, op_name):
    """``axis`` as one non-negative axis of a tensor of ``ndim`` >= 1 dims: an int only
    (ops along one axis: cumsum, split, gather, ...), or a named error."""
    if isinstance(axis, bool) or not isinstance(axis, (int, numpy.integer)):
        raise DTypeError(f"{op_name}: axis must be one int, got {type(axis).__name__} "
                         f"{axis!r:.40}")
    if ndim == 0:
        raise ShapeError(f"{op_name}: needs a tensor of at least 1 dim, got a 0-d tensor")
    return normalize_axes(axis, ndim, op_name)[0]


def kept_shape(shape, axes):
    """The shape after reducing ``axes`` with keepdims=True."""
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


class Sum(Function):
    """y = sum of x over ``axes``;   dL/dx = dL/dy broadcast back over the summed axes."""

    def forward(self, x, axes, keepdims):
        self.axes = axes
        return x.sum(axis=axes, keepdims=keepdims)  # the array's method: xp.sum's wrapper costs

    def backward(self, grad):
        (x,) = self.inputs
        if is_grad_enabled():  # create_graph=True: ops, differentiable again
            return grad.reshape(kept_shape(x.shape, self.axes)).broadcast_to(x.shape)
        spread = self.xp.broadcast_to(grad.data.reshape(kept_shape(x.shape, self.axes)),
                                      x.shape)  # a read-only view, as broadcast_to gives
        return constant(spread, like=grad)


class Max(Function):
    """y = max of x over ``axes``.

    Tie rule: when several elements share the maximum, the gradient is split evenly among
    them (so it still sums to dL/dy), like PyTorch's ``amax``.
    dL/dx = dL/dy * [x == y] / (number of ties)
    """

    largest = True

    def forward(self, x, axes, keepdims):
        xp = self.xp
        self.axes = axes
        extreme = xp.max(x, axis=axes, keepdims=True) if self.largest else \
            xp.min(x, axis=axes, keepdims=True)
        is_extreme = (x == extreme).astype(x.dtype)
        self.share = is_extreme / xp.sum(is_extreme, axis=axes, keepdims=True)
        return extreme if keepdims else extreme.reshape(
            tuple(s for i, s in enumerate(x.shape) if i not in axes))

    def backward(self, grad):
        (x,) = self.inputs
        share = constant(self.share, like=grad)
        return grad.reshape(kept_shape(x.shape, self.axes)) * share


class Min(Max):
    """y = min of x over ``axes``; ties split the gradient evenly, as for Max."""

    largest = False


class LogSumExp(Function):
    """y = log sum_i exp(x_i), computed as m + log sum_i exp(x_i - m) with m = max x (stable).

    dL/dx_i = dL/dy * exp(x_i - y)   (that is, dL/dy times softmax(x)_i)

    Over an empty axis the sum has no terms: y = log 0 = -inf (as NumPy and PyTorch give).
    """

    def forward(self, x, axes, keepdims):
        xp = self.xp
        self.axes = axes
        if _has_empty_axis(x.shape, axes):  # (xp.max of nothing would raise)
            out = xp.full(kept_shape(x.shape, axes), -xp.inf, dtype=x.dtype)
        else:
            m = xp.max(x, axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
            out = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        return out if keepdims else out.reshape(
            tuple(s for i, s in enumerate(x.shape) if i not in axes))

    def backward(self, grad):
        (x,) = self.inputs
        shape = kept_shape(x.shape, self.axes)
        return grad.reshape(shape) * (x - self.output.reshape(shape)).exp()


def _has_empty_axis(shape, axes):
    """Whether one of the reduced ``axes`` has length 0 (so each output has no elements)."""
    return 0 in shape and builtins.any(shape[a] == 0 for a in axes)


def _reduce(fn, x, axis, keepdims, name):
    x = as_tensor(x, name)
    axes = normalize_axes(axis, x.ndim, name)
    return fn.apply(x, axes=axes, keepdims=keepdims)


@torch_names
def sum(x, axis=None, keepdims=False):
    return _reduce(Sum, x, axis, keepdims, "sum")


def _extreme(fn, x, axis, keepdims, name):
    """max or min: refused over an axis of length 0 (the max of nothing is undefined; NumPy
    raises too). Other axes of length 0 are fine: (0, 3) over axis 1 gives shape (0,)."""
    x = as_tensor(x, name)
    axes = normalize_axes(axis, x.ndim, name)
    if _has_empty_axis(x.shape, axes):
        empty = next(a for a in axes if x.shape[a] == 0)
        raise ShapeError(f"{name}: cannot reduce an empty tensor of shape {x.shape} over axis "
                         f"{empty}, which has no elements (the {name} of nothing is undefined)")
    return fn.apply(x, axes=axes, keepdims=keepdims)


def _with_indices(values, arg_extreme, x, axis, keepdims):
    """(values, indices) for max/min(..., return_indices=True): the indices of the first
    extreme along the one ``axis`` (of the flattened tensor for axis=None)."""
    return ValuesAndIndices(values, arg_extreme(x, axis, keepdims))


@torch_names
def max(x, axis=None, keepdims=False, return_indices=False):
    """The largest element over ``axis`` (None: all; an int, negative or a tuple); ties
    share the gradient evenly (see Max).

    Unlike PyTorch's x.max(dim), this returns the values only, as NumPy's max does. Pass
    return_indices=True for PyTorch's pair: values, indices = max(x, dim=1,
    return_indices=True) (a named tuple; the indices are argmax's, one axis only).
    """
    values = _extreme(Max, x, axis, keepdims, "max")
    return _with_indices(values, argmax, x, axis, keepdims) if return_indices else values


@torch_names
def min(x, axis=None, keepdims=False, return_indices=False):
    """The smallest element over ``axis``; values only unless return_indices=True (see max)."""
    values = _extreme(Min, x, axis, keepdims, "min")
    return _with_indices(values, argmin, x, axis, keepdims) if return_indices else values


@torch_names
def amax(x, axis=None, keepdims=False):
    """PyTorch's amax: max over one or several axes, values only, ties sharing the gradient
    evenly (the same as max here)."""
    return _extreme(Max, x, axis, keepdims, "amax")


@torch_names
def amin(x, axis=None, keepdims=False):
    """PyTorch's amin: min over one or several axes (the same as min here)."""
    return _extreme(Min, x, axis, keepdims, "amin")


@torch_names
def logsumexp(x, axis=None, keepdims=False):
    return _reduce(LogSumExp, floating(as_tensor(x, "logsumexp")), axis, keepdims, "logsumexp")


def _count(x, axes):
    count = 1
    for a in axes:
        count *= x.shape[a]
    return count


@torch_names
def mean(x, axis=None, keepdims=False):
    """mean = sum / n, n the number of elements reduced; NaN when n = 0 (0 / 0, as NumPy and
    PyTorch give)."""
    x = as_tensor(x, "mean")
    axes = normalize_axes(axis, x.ndim, "mean")
    n = _count(x, axes)
    return sum(x, axes, keepdims) * (1.0 / n if n else math.nan)


def _ddof(ddof, correction, unbiased, op):
    """NumPy's ddof from PyTorch's correction= (the same number) or unbiased= (True: 1)."""
    given = [name for name, value in (("correction", correction), ("unbiased", unbiased))
             if value is not None]
    if len(given) > 1 or (given and ddof != 0):
        raise ArgumentError(f"{op}: give one of ddof=, correction= and unbiased= (they set the "
                            "same divisor n - ddof)")
    if unbiased is not None:
        return 1 if unbiased else 0
    ddof = correction if correction is not None else ddof
    if isinstance(ddof, bool) or not isinstance(ddof, (int, numpy.integer)) or ddof < 0:
        raise ArgumentError(f"{op}: ddof must be a non-negative int, got {ddof!r}")
    return int(ddof)


@torch_names
def var(x, axis=None, keepdims=False, ddof=0, *, correction=None, unbiased=None):
    """var = sum (x - mean)^2 / (n - ddof); ddof=0 is the population variance (NumPy's default).

    PyTorch's correction=k means ddof=k and unbiased=True means ddof=1. Note the defaults
    differ: torch.var(x) divides by n - 1, var(x) here by n (NumPy's choice).

    NaN when n = 0 (the variance of nothing, as NumPy and PyTorch give, whatever ddof); with
    elements but n <= ddof, a ShapeError (no degrees of freedom left: a wrong ddof).
    """
    x = as_tensor(x, "var")
    ddof = _ddof(ddof, correction, unbiased, "var")
    axes = normalize_axes(axis, x.ndim, "var")
    n = _count(x, axes)
    if n and n - ddof <= 0:
        raise ShapeError(f"var: {n} elements with ddof={ddof} leave no degrees of freedom")
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) * (1.0 / (n - ddof) if n else math.nan)


@torch_names
def std(x, axis=None, keepdims=False, ddof=0, *, correction=None, unbiased=None):
    """std = sqrt(var), with var's ddof (NumPy's name; PyTorch's correction= and unbiased=
    are accepted). NumPy's default ddof=0 is kept: torch.std(x) is std(x, ddof=1) here.

    Composed: dL/dx = dL/dstd * (x - mean) / ((n - ddof) std). At std = 0 (all equal) that
    is 0/0, NaN, as in PyTorch.
    """
    x = as_tensor(x, "std")
    return sqrt(var(x, axis, keepdims, _ddof(ddof, correction, unbiased, "std")))


class Prod(Function):
    """y = prod of x over ``axes``.

    dL/dx_i = dL/dy * prod_{j != i} x_j  (the product of the others in x_i's reduced slice).

    With no zero in x that is dL/dy * y / x_i. Where x holds a zero the division is
    avoided: the product of the others is computed directly (for each i, the slice with
    x_i replaced by 1, multiplied out: n x n per slice, n its length, only then). So one
    zero in a slice gets the product of the rest and every other element 0; two zeros give
    all 0; and since the backward is a product written with ops, second derivatives are
    right at zeros too.
    """

    def forward(self, x, axes, keepdims):
        self.axes = axes
        self.has_zero = bool((x == 0).any())
        return self.xp.prod(x, axis=axes, keepdims=keepdims)

    def backward(self, grad):
        (x,) = self.inputs
        kept = kept_shape(x.shape, self.axes)
        if not self.has_zero:
            return grad.reshape(kept) * self.output.reshape(kept) / x
        return grad.reshape(kept) * _product_of_the_others(x, self.axes)


def _product_of_the_others(x, axes):
    """For each element, the product of the other elements of its slice over ``axes``
    (no division: each slice, with one element at a time replaced by 1, multiplied out)."""
    kept = [a for a in range(x.ndim) if a not in axes]
    order = kept + list(axes)
    lines = x.transpose(tuple(order))  # the reduced axes last...
    moved_shape = lines.shape
    n = _count(x, axes)
    lines = lines.reshape(tuple(x.shape[a] for a in kept) + (n,))  # ... as one axis of n
    rows = lines.unsqueeze(-2).broadcast_to(lines.shape[:-1] + (n, n))  # row i: the slice
    diagonal = constant(x.xp.eye(n, dtype=bool), like=x)
    others = prod(where(diagonal, 1.0, rows), axis=-1)  # row i with x_i as 1, multiplied out
    inverse = [order.index(a) for a in range(x.ndim)]
    return others.reshape(moved_shape).transpose(tuple(inverse))


@torch_names
def prod(x, axis=None, keepdims=False):
    """The product of the elements over ``axis`` (None: all; an int or a tuple); 1 over an
    empty axis. See Prod for the gradient, zeros included."""
    return _reduce(Prod, x, axis, keepdims, "prod")


def _logical(name, x, axis, keepdims):
    x = as_tensor(x, name)
    axes = normalize_axes(axis, x.ndim, name)
    result = getattr(x.xp, name)(x.data, axis=axes, keepdims=keepdims)
    return constant(x.xp.asarray(result), like=x)


@torch_names
def any(x, axis=None, keepdims=False):
    """Whether any element over ``axis`` is nonzero (True); a bool tensor, no gradient."""
    return _logical("any", x, axis, keepdims)


@torch_names
def all(x, axis=None, keepdims=False):
    """Whether every element over ``axis`` is nonzero (True); a bool tensor, no gradient."""
    return _logical("all", x, axis, keepdims)


@torch_names
def norm(x, ord=2, axis=None, keepdims=False, *, p=None):
    """The vector norm of x over ``axis`` (None: all elements, as one vector):

        ord = 2 or "fro"   sqrt(sum x^2)       dL/dx = dL/dy * x / y  (0 at y = 0)
        ord = 1            sum |x|             dL/dx = dL/dy * sign x
        ord = inf          max |x|             (ties share the gradient, as in max)
        ord = -inf         min |x|
        other ord > 0      (sum |x|^ord)^(1/ord)

    PyTorch's p= is NumPy's ord=. Like torch.norm and torch.linalg.vector_norm, every ord is
    an elementwise (vector) norm, also over two axes: NumPy's linalg.norm(x, 1, axis=(0, 1))
    gives a matrix norm (the largest column sum) instead, which is not provided here.

    At a zero vector the 2-norm's derivative does not exist; 0 is given, as PyTorch does
    (sqrt(sum x^2) alone would give 0/0 = NaN). Composed of sum, abs, max and pow.
    """
    x = floating(as_tensor(x, "norm"))
    if p is not None:
        if ord != 2:
            raise ArgumentError("norm: give one of ord= (NumPy) and p= (PyTorch)")
        ord = p
    if isinstance(ord, str) and ord == "fro":
        ord = 2
    if isinstance(ord, bool) or not isinstance(ord, (int, float)) \
            or not (ord > 0 or ord == -math.inf):
        raise ArgumentError(f"norm: ord must be a number > 0, inf, -inf or 'fro', got {ord!r}")
    magnitude = x.abs()
    if ord == math.inf:
        return max(magnitude, axis, keepdims)
    if ord == -math.inf:
        return min(magnitude, axis, keepdims)
    if ord == 1:
        return sum(magnitude, axis, keepdims)
    total = sum(x * x if ord == 2 else magnitude ** ord, axis, keepdims)
    positive = total > 0
    # the root taken only where the sum is positive: its infinite slope at 0 never meets
    # the zero gradient of the sum there (which would give 0 * inf = NaN)
    return where(positive, where(positive, total, 1.0) ** (1.0 / ord), 0.0)


def _arg_extreme(name, x, axis, keepdims):
    x = as_tensor(x, name)
    if axis is not None:
        axes = normalize_axes(axis, x.ndim, name)
        if x.ndim and len(axes) != 1:
            raise ShapeError(f"{name}: axis must be one int or None, got {axis}")
        axis = axes[0] if x.ndim else None  # a 0-d tensor: its one element is at index 0
    if x.size == 0 and (axis is None or x.shape[axis] == 0):  # NumPy raises a bare ValueError
        where = "" if axis is None else f" along axis {axis}, which has no elements"
        raise ShapeError(f"{name}: cannot take the {name} of an empty tensor of shape "
                         f"{x.shape}{where}")
    out = getattr(x.xp, name)(x.data, axis=axis, keepdims=keepdims)
    return constant(out, like=x)


@torch_names
def argmax(x, axis=None, keepdims=False):
    """Index of the largest element (the first one on ties); an int64 tensor, no gradient."""
    return _arg_extreme("argmax", x, axis, keepdims)


@torch_names
def argmin(x, axis=None, keepdims=False):
    """Index of the smallest element (the first one on ties); an int64 tensor, no gradient."""
    return _arg_extreme("argmin", x, axis, keepdims)


# masked_mean lives in ops/fused/masked_mean.py, beside its composed twin.
from .fused.masked_mean import MaskedMean, masked_mean, masked_mean_composed  # noqa: E402, F401

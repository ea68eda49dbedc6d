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

import numpy

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, as_tensor, check_same_device
from .elementwise import floating


def normalize_axes(axis, ndim, op_name):
    """None -> all axes; int or tuple -> a sorted tuple of non-negative axes.

    A 0-d tensor has no axes: every form gives (), but only 0 and -1 are accepted for it
    (PyTorch treats a 0-d tensor's dims as if it had one).
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, checked cheaply
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, numpy.integer)) else tuple(axis)
    named = builtins.max(ndim, 1)  # the dims that axes may name (one for a 0-d tensor)
    normalized = []
    for a in axes:
        if not -named <= a < named:
            raise ShapeError(f"{op_name}: axis {a} is out of range for a tensor of {ndim} dims")
        normalized.append(int(a) % named)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{op_name}: repeated axis in {axis}")
    return tuple(sorted(normalized)) if ndim else ()


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
        return Tensor._from_op(spread, grad.device, False)


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
        share = Tensor._from_op(self.share, grad.device, False)
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
    return 0 in shape and any(shape[a] == 0 for a in axes)


def _reduce(fn, x, axis, keepdims, name):
    x = as_tensor(x, name)
    axes = normalize_axes(axis, x.ndim, name)
    return fn.apply(x, axes=axes, keepdims=keepdims)


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


def max(x, axis=None, keepdims=False):
    return _extreme(Max, x, axis, keepdims, "max")


def min(x, axis=None, keepdims=False):
    return _extreme(Min, x, axis, keepdims, "min")


def logsumexp(x, axis=None, keepdims=False):
    return _reduce(LogSumExp, floating(as_tensor(x, "logsumexp")), axis, keepdims, "logsumexp")


def _count(x, axes):
    count = 1
    for a in axes:
        count *= x.shape[a]
    return count


def mean(x, axis=None, keepdims=False):
    """mean = sum / n, n the number of elements reduced; NaN when n = 0 (0 / 0, as NumPy and
    PyTorch give)."""
    x = as_tensor(x, "mean")
    axes = normalize_axes(axis, x.ndim, "mean")
    n = _count(x, axes)
    return sum(x, axes, keepdims) * (1.0 / n if n else math.nan)


def var(x, axis=None, keepdims=False, ddof=0):
    """var = sum (x - mean)^2 / (n - ddof); ddof=0 is the population variance (NumPy's default).

    NaN when n = 0 (the variance of nothing, as NumPy and PyTorch give, whatever ddof); with
    elements but n <= ddof, a ShapeError (no degrees of freedom left: a wrong ddof).
    """
    x = as_tensor(x, "var")
    axes = normalize_axes(axis, x.ndim, "var")
    n = _count(x, axes)
    if n and n - ddof <= 0:
        raise ShapeError(f"var: {n} elements with ddof={ddof} leave no degrees of freedom")
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) * (1.0 / (n - ddof) if n else math.nan)


class MaskedMean(Function):
    """The mean over axis 1 of the positions a mask keeps: mean pooling of padded sequences.

    x (N, L, ...), keep (N, L) bool (a backend array: a constant, no gradient) -> y (N, ...):

        y_n = sum_l w_nl x_nl,    w_nl = keep_nl / max(1, sum_l keep_nl)
        dL/dx_nl = w_nl dL/dy_n

    A row that keeps no position gives zeros (and sends no gradient back). Composed, the
    same takes a cast, a count, a clamp, a division, a reshape, a multiply and a sum.
    """

    def forward(self, x, keep):
        xp = self.xp
        weights = keep.astype(x.dtype)
        weights /= xp.maximum(weights.sum(axis=1, keepdims=True), 1)
        self.weights = weights.reshape(weights.shape + (1,) * (x.ndim - 2))  # (N, L, 1...)
        return (x * self.weights).sum(axis=1)

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: a differentiable product
            return grad.unsqueeze(1) * Tensor._from_op(self.weights, grad.device, False)
        return Tensor._from_op(grad.data[:, None] * self.weights, grad.device, False)


def masked_mean(x, keep):
    """Mean of x (N, L, ...) over axis 1, counting only the positions where ``keep`` (N, L)
    is True (a bool Tensor or array); (N, ...). See MaskedMean."""
    x = as_tensor(x, "masked_mean")
    if isinstance(keep, Tensor):
        check_same_device("masked_mean", x, keep)
        keep = keep.data
    else:
        keep = x.xp.asarray(keep)
    if x.ndim < 2 or tuple(keep.shape) != tuple(x.shape[:2]):
        raise ShapeError(f"masked_mean: expected x (N, L, ...) and keep (N, L), got x "
                         f"{x.shape} and keep {tuple(keep.shape)}")
    if keep.dtype != bool:
        raise DTypeError(f"masked_mean: keep must be bool (True = count the position), got "
                         f"{keep.dtype}")
    return MaskedMean.apply(floating(x), keep=keep)


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
    return Tensor._from_op(out, x.device, False)


def argmax(x, axis=None, keepdims=False):
    """Index of the largest element (the first one on ties); an int64 tensor, no gradient."""
    return _arg_extreme("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the smallest element (the first one on ties); an int64 tensor, no gradient."""
    return _arg_extreme("argmin", x, axis, keepdims)


"""Scans along one axis: running sums and running products.

    cumsum:   y_i = x_0 + x_1 + ... + x_i
    cumprod:  y_i = x_0 * x_1 * ... * x_i

(i runs along ``axis``; every other axis is carried along). axis=None scans the flattened
tensor, as NumPy does. A 0-d tensor is its own scan.
"""

from ..autograd import Function
from ..tensor import as_tensor, constant, torch_names
from .elementwise import where
from .reduce import normalize_axes, one_axis


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along ``axis`` (reverse=True: y_i = sum_{j >= i} x_j).

    Each x_j is added into every y_i with i >= j, so dL/dx_j = sum_{i >= j} dL/dy_i: the
    running sum taken from the other end. The backward of a cumsum is a reversed cumsum
    (and the backward of that a cumsum again).
    """

    def forward(self, x, axis, reverse=False):
        xp = self.xp
        self.axis, self.reverse = axis, reverse
        if reverse:
            return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis), axis)
        return xp.cumsum(x, axis=axis)

    def backward(self, grad):
        return Cumsum.apply(grad, axis=self.axis, reverse=not self.reverse)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along ``axis``.

    dL/dx_j = sum_{i >= j} dL/dy_i * prod_{k <= i, k != j} x_k.

    Without a zero in x that is sum_{i >= j} dL/dy_i y_i / x_j: a reversed cumsum divided by
    x. Division by a zero is avoided by computing, where x has a zero, the products of the
    others directly: for each j the row x with x_j replaced by 1, scanned (C_ji =
    prod_{k <= i, k != j} x_k), and dL/dx_j = sum_{i >= j} dL/dy_i C_ji. That costs n x n per
    scanned line (n its length), only for tensors holding a zero; it is a polynomial in x
    written with ops, so its derivative is right at the zeros too.
    """

    def forward(self, x, axis):
        self.axis = axis
        self.has_zero = bool((x == 0).any())
        return self.xp.cumprod(x, axis=axis)

    def backward(self, grad):
        (x,) = self.inputs
        if not self.has_zero:
            reversed_sum = Cumsum.apply(grad * self.output, axis=self.axis, reverse=True)
            return reversed_sum / x
        xp, n = grad.xp, x.shape[self.axis]
        lines = x.swapaxes(self.axis, -1)  # (..., n): the scanned axis last
        rows = lines.unsqueeze(-2).broadcast_to(lines.shape[:-1] + (n, n))  # row j: the line
        diagonal = constant(xp.eye(n, dtype=bool), like=grad)
        others = Cumprod.apply(where(diagonal, 1.0, rows), axis=rows.ndim - 1)  # C_ji
        later = constant(xp.triu(xp.ones((n, n), dtype=bool)), like=grad)
        upstream = grad.swapaxes(self.axis, -1).unsqueeze(-2)  # dL/dy_i at [..., j, i]
        per_line = where(later, others * upstream, 0.0).sum(axis=-1)
        return per_line.swapaxes(self.axis, -1)


def _scan(fn, x, axis, name):
    x = as_tensor(x, name)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.ndim == 0:  # one element: its running sum and product are itself
        normalize_axes(axis, 0, name)  # (axis 0 or -1 may name it, as in PyTorch)
        return x
    return fn.apply(x, axis=one_axis(axis, x.ndim, name))


@torch_names
def cumsum(x, axis=None):
    """Running sum along ``axis`` (PyTorch: ``dim``); None scans the flattened tensor."""
    return _scan(Cumsum, x, axis, "cumsum")


@torch_names
def cumprod(x, axis=None):
    """Running product along ``axis`` (PyTorch: ``dim``); None scans the flattened tensor."""
    return _scan(Cumprod, x, axis, "cumprod")


"""Softmax and log-softmax over one axis.

softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m)   (m = max_j x_j, which cancels out but
keeps exp from overflowing). With y = softmax(x) and g = dL/dy:
    dL/dx_i = y_i (g_i - sum_j g_j y_j)
log_softmax(x)_i = x_i - logsumexp(x). With y = log_softmax(x):
    dL/dx_i = g_i - exp(y_i) sum_j g_j
The fused losses that used to live here (softmax_cross_entropy, squared_error,
symmetric_cross_entropy, binary_cross_entropy) are in ops/fused/, each beside its composed
twin, and are imported at the end of this file under their old names.
"""

from ..autograd import Function
from ..tensor import as_tensor, torch_names
from .elementwise import floating
from .reduce import normalize_axes


def _shift_by_max(xp, x, axis):
    """x - max(x) along ``axis``: every value <= 0, so exp cannot overflow. Where the
    difference itself overflows (logits near the dtype's limits, e.g. -3.4e38 - 3.4e38 in
    float32) it is -inf, whose exp is the right 0. An empty tensor has nothing to shift."""
    return x - xp.max(x, axis=axis, keepdims=True) if x.size else x


class Softmax(Function):
    """y = softmax(x) along ``axis``; dL/dx = y * (g - sum(g * y))."""

    def forward(self, x, axis):
        xp = self.xp
        self.axis = axis
        shifted = _shift_by_max(xp, x, axis)
        e = xp.exp(shifted)
        return e / xp.sum(e, axis=axis, keepdims=True)

    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``; dL/dx = g - exp(y) * sum(g)."""

    def forward(self, x, axis):
        xp = self.xp
        self.axis = axis
        shifted = _shift_by_max(xp, x, axis)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def backward(self, grad):
        return grad - self.output.exp() * grad.sum(axis=self.axis, keepdims=True)


def check_finite(name, t, what):
    """NaN or inf in a loss's input would give a NaN loss far from its cause: stop here,
    saying which of the two it holds (the losses in functional.py use it too)."""
    if t.dtype.kind == "f" and not bool(t.xp.isfinite(t.data).all()):
        kinds = [k for k, test in (("NaN", t.xp.isnan), ("inf", t.xp.isinf))
                 if bool(test(t.data).any())]
        raise ValueError(f"{name} got {' and '.join(kinds)} in the {what} (shape {t.shape}); "
                         "check the model's output and the learning rate")


@torch_names  # dim= as well as axis=
def softmax(x, axis=-1):
    x = as_tensor(x, "softmax")
    return Softmax.apply(floating(x), axis=normalize_axes(axis, x.ndim, "softmax"))


@torch_names
def log_softmax(x, axis=-1):
    x = as_tensor(x, "log_softmax")
    return LogSoftmax.apply(floating(x), axis=normalize_axes(axis, x.ndim, "log_softmax"))


# The fused losses live in ops/fused/, each beside its composed twin; imported here (after
# softmax and log_softmax, which they use) under their old paths.
from .fused.binary_cross_entropy import (  # noqa: E402, F401
    BCE_EPSILON,
    BCE_LOG_FLOOR,
    BinaryCrossEntropy,
    binary_cross_entropy,
)
from .fused.cross_entropy import SoftmaxCrossEntropy, softmax_cross_entropy  # noqa: E402, F401
from .fused.squared_error import SquaredError, squared_error  # noqa: E402, F401
from .fused.symmetric_cross_entropy import (  # noqa: E402, F401
    SymmetricCrossEntropy,
    symmetric_cross_entropy,
)

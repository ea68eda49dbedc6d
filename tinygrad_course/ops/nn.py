"""Softmax and log-softmax over one axis.

softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m)   (m = max_j x_j, which cancels out but
keeps exp from overflowing). With y = softmax(x) and g = dL/dy:
    dL/dx_i = y_i (g_i - sum_j g_j y_j)
log_softmax(x)_i = x_i - logsumexp(x). With y = log_softmax(x):
    dL/dx_i = g_i - exp(y_i) sum_j g_j
"""

from ..autograd import Function
from .elementwise import floating
from .reduce import normalize_axes


class Softmax(Function):
    """y = softmax(x) along ``axis``; dL/dx = y * (g - sum(g * y))."""

    def forward(self, x, axis):
        xp = self.xp
        self.axis = axis
        shifted = x - xp.max(x, axis=axis, keepdims=True)
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
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def backward(self, grad):
        return grad - self.output.exp() * grad.sum(axis=self.axis, keepdims=True)


def softmax(x, axis=-1):
    return Softmax.apply(floating(x), axis=normalize_axes(axis, x.ndim, "softmax"))


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(floating(x), axis=normalize_axes(axis, x.ndim, "log_softmax"))

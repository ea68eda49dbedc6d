"""Softmax and log-softmax over one axis.

softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m)   (m = max_j x_j, which cancels out but
keeps exp from overflowing). With y = softmax(x) and g = dL/dy:
    dL/dx_i = y_i (g_i - sum_j g_j y_j)
log_softmax(x)_i = x_i - logsumexp(x). With y = log_softmax(x):
    dL/dx_i = g_i - exp(y_i) sum_j g_j
softmax_cross_entropy(z, y)_n = -sum_c y_nc log softmax(z_n)_c, fused (see below):
    dL/dz_nc = g_n (q_nc sum_k y_nk - y_nc),   q = softmax(z)     (= g_n (q - y) for one-hot y)
"""

from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..tensor import Tensor
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


class SoftmaxCrossEntropy(Function):
    """loss_n = -sum_c y_nc log q_nc,  q = softmax(z) along ``axis``; y: target distribution.

    z, y: the same shape (N, C, ...); loss: that shape without ``axis``. With g = dL/dloss:

        dL/dz_nc = g_n (q_nc sum_k y_nk - y_nc)    the lecture's "q - y" when y sums to 1
        dL/dy_nc = -g_n log q_nc

    One op for what log_softmax, *, sum and neg compute in four, with the gradient in its
    closed form (q - y) instead of chained through the four backwards.
    """

    def forward(self, z, y, axis):
        xp = self.xp
        self.axis = axis
        shifted = z - z.max(axis=axis, keepdims=True)
        e = xp.exp(shifted)
        total = e.sum(axis=axis, keepdims=True)
        self.q = e / total
        self.log_q = shifted - xp.log(total)
        return -(y * self.log_q).sum(axis=axis)

    def backward(self, grad):
        z, y = self.inputs
        g = grad.unsqueeze(self.axis)
        grad_z = grad_y = None
        if is_grad_enabled():  # create_graph=True: q and log q must be ops of z
            log_q = z.log_softmax(axis=self.axis)
            if self.needs_input_grad[0]:
                grad_z = g * (log_q.exp() * y.sum(axis=self.axis, keepdims=True) - y)
            if self.needs_input_grad[1]:
                grad_y = -g * log_q
            return grad_z, grad_y
        if self.needs_input_grad[0]:  # q and y are constants here: one array, one op
            y_data = y.data
            delta = self.q * y_data.sum(axis=self.axis, keepdims=True) - y_data
            grad_z = g * Tensor._from_op(delta, grad.device, False)
        if self.needs_input_grad[1]:
            grad_y = g * Tensor._from_op(-self.log_q, grad.device, False)
        return grad_z, grad_y


def softmax_cross_entropy(z, y, axis=-1):
    """-sum(y * log_softmax(z), axis) as one op (see SoftmaxCrossEntropy); z, y same shape."""
    if z.shape != y.shape:
        raise ShapeError(f"softmax_cross_entropy: logits of shape {z.shape} and target of "
                         f"shape {y.shape}; they must match")
    z = floating(z)
    return SoftmaxCrossEntropy.apply(z, y.astype(z.dtype),
                                     axis=normalize_axes(axis, z.ndim, "softmax_cross_entropy")[0])


def softmax(x, axis=-1):
    return Softmax.apply(floating(x), axis=normalize_axes(axis, x.ndim, "softmax"))


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(floating(x), axis=normalize_axes(axis, x.ndim, "log_softmax"))

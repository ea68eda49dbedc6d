"""Softmax and log-softmax over one axis.

softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m)   (m = max_j x_j, which cancels out but
keeps exp from overflowing). With y = softmax(x) and g = dL/dy:
    dL/dx_i = y_i (g_i - sum_j g_j y_j)
log_softmax(x)_i = x_i - logsumexp(x). With y = log_softmax(x):
    dL/dx_i = g_i - exp(y_i) sum_j g_j
softmax_cross_entropy(z, y)_n = -sum_c y_nc log softmax(z_n)_c, fused (see below):
    dL/dz_nc = g_n (q_nc sum_k y_nk - y_nc),   q = softmax(z)     (= g_n (q - y) for one-hot y)
squared_error(x, y, scale) = scale * sum_i (x_i - y_i)^2, fused (mse_loss: scale = 1/n):
    dL/dx = g * 2 scale (x - y),   dL/dy = -dL/dx
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


class SquaredError(Function):
    """loss = scale * sum_i (x_i - y_i)^2 over every element; x, y: the same shape; loss: 0-d.

    With g = dL/dloss:   dL/dx = 2 scale g (x - y),   dL/dy = -dL/dx.

    F.mse_loss is this with scale = 1/n ("mean") or 1 ("sum"). One op for what sub, mul, and
    sum (and the mean's division) compute in four: the forward keeps the difference d = x - y
    and takes sum(d^2) as ONE dot product d.d (no squared array); the backward is one scaled
    copy of d.
    """

    def forward(self, x, y, scale):
        self.scale = scale
        self.diff = x - y
        flat = self.diff.reshape(-1)
        return self.xp.asarray(self.xp.dot(flat, flat) * scale, dtype=x.dtype)

    def backward(self, grad):
        factor = 2.0 * self.scale
        if is_grad_enabled():  # create_graph=True: the difference must be an op of x and y
            x, y = self.inputs
            grad_x = (x - y) * (factor * grad)
        else:
            grad_x = Tensor._from_op(self.diff * factor, grad.device, False) * grad
        return grad_x, -grad_x if self.needs_input_grad[1] else None


def squared_error(x, y, scale=1.0):
    """scale * sum((x - y)^2) as one 0-d op (see SquaredError); x, y the same shape."""
    if x.shape != y.shape:
        raise ShapeError(f"squared_error: input of shape {x.shape} and target of shape "
                         f"{y.shape}; they must match")
    return SquaredError.apply(x, y, scale=float(scale))

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
symmetric_cross_entropy(Z) for square logits (CLIP's loss), fused (see below):
    dL/dZ = g (R + C - 2 I) / (2N),   R, C = softmax over each row, over each column
binary_cross_entropy(p, y) = -(y log p + (1 - y) log(1 - p)), logs clamped to >= -100, fused:
    dL/dp = g (p - y) / max(p (1 - p), 1e-12),   dL/dy = g (log(1 - p) - log p)
"""

import numpy

from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..tensor import as_tensor, constant, torch_names
from .elementwise import floating, maximum, where
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


class SoftmaxCrossEntropy(Function):
    """loss_n = -sum_c y_nc log q_nc,  q = softmax(z) along ``axis``; y: target distribution.

    z, y: the same shape (N, C, ...); loss: that shape without ``axis``. With g = dL/dloss:

        dL/dz_nc = g_n (q_nc sum_k y_nk - y_nc)    the lecture's "q - y" when y sums to 1
        dL/dy_nc = -g_n log q_nc

    One op for what log_softmax, *, sum and neg compute in four, with the gradient in its
    closed form (q - y) instead of chained through the four backwards.

    A class with no target mass (y_nc = 0) adds nothing, even where its log q_nc is -inf
    (logits near the dtype's limits: log q = -6.8e38 overflows float32): 0 log 0 = 0, the
    limit, where the product alone would give 0 * -inf = NaN.
    """

    def forward(self, z, y, axis):
        xp = self.xp
        self.axis = axis
        shifted = _shift_by_max(xp, z, axis)
        e = xp.exp(shifted)
        total = e.sum(axis=axis, keepdims=True)
        self.q = e / total
        self.log_q = shifted - xp.log(total)
        return -(y * xp.where(y != 0, self.log_q, 0)).sum(axis=axis)

    def backward(self, grad):
        z, y = self.inputs
        grad_z = grad_y = None
        if is_grad_enabled():  # create_graph=True: q and log q must be ops of z
            g = grad.unsqueeze(self.axis)
            log_q = z.log_softmax(axis=self.axis)
            if self.needs_input_grad[0]:
                grad_z = g * (log_q.exp() * y.sum(axis=self.axis, keepdims=True) - y)
            if self.needs_input_grad[1]:
                grad_y = -g * log_q
            return grad_z, grad_y
        # Otherwise the same formulas on the arrays (q and y are constants here)
        g = grad.data.reshape(self.q.shape[:self.axis] + (1,) + self.q.shape[self.axis + 1:])
        if self.needs_input_grad[0]:
            y_data = y.data
            delta = self.q * y_data.sum(axis=self.axis, keepdims=True) - y_data
            delta *= g
            grad_z = constant(delta, like=grad)
        if self.needs_input_grad[1]:
            grad_y = constant(-g * self.log_q, like=grad)
        return grad_z, grad_y


def check_finite(name, t, what):
    """NaN or inf in a loss's input would give a NaN loss far from its cause: stop here,
    saying which of the two it holds (the losses in functional.py use it too)."""
    if t.dtype.kind == "f" and not bool(t.xp.isfinite(t.data).all()):
        kinds = [k for k, test in (("NaN", t.xp.isnan), ("inf", t.xp.isinf))
                 if bool(test(t.data).any())]
        raise ValueError(f"{name} got {' and '.join(kinds)} in the {what} (shape {t.shape}); "
                         "check the model's output and the learning rate")


def softmax_cross_entropy(z, y, axis=-1):
    """-sum(y * log_softmax(z), axis) as one op (see SoftmaxCrossEntropy); z, y same shape."""
    if z.shape != y.shape or z.ndim == 0:
        raise ShapeError(f"softmax_cross_entropy: logits of shape {z.shape} and target of "
                         f"shape {y.shape}; they must match and have a class axis")
    z = floating(z)
    return SoftmaxCrossEntropy.apply(z, y.astype(z.dtype),
                                     axis=normalize_axes(axis, z.ndim, "softmax_cross_entropy")[0])


@torch_names  # dim= as well as axis=
def softmax(x, axis=-1):
    x = as_tensor(x, "softmax")
    return Softmax.apply(floating(x), axis=normalize_axes(axis, x.ndim, "softmax"))


@torch_names
def log_softmax(x, axis=-1):
    x = as_tensor(x, "log_softmax")
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
        else:  # grad is 0-d: one scaled copy of the difference
            grad_x = constant(self.diff * (factor * grad.data), like=grad)
        return grad_x, -grad_x if self.needs_input_grad[1] else None


def squared_error(x, y, scale=1.0):
    """scale * sum((x - y)^2) as one 0-d op (see SquaredError); x, y the same shape."""
    if x.shape != y.shape:
        raise ShapeError(f"squared_error: input of shape {x.shape} and target of shape "
                         f"{y.shape}; they must match")
    return SquaredError.apply(x, y, scale=float(scale))


class SymmetricCrossEntropy(Function):
    """CLIP's contrastive loss on square logits Z (N, N), the matching pairs on the diagonal:

        loss = ( mean_i CE(row i, target i) + mean_j CE(column j, target j) ) / 2
             = ( sum_i lse(row i) + sum_j lse(column j) - 2 trace(Z) ) / (2N)

    with lse the log-sum-exp. Each row of Z asks "which text is image i's?", each column
    "which image is text j's?" (InfoNCE in both directions). With R = softmax over each row,
    C = softmax over each column, I the identity and g = dL/dloss:

        dL/dZ = g (R + C - 2 I) / (2N)

    One op for what two cross-entropies, a transpose, an add and a halving compute in five
    (F.cross_entropy(Z, arange(N)) + F.cross_entropy(Z.T, arange(N))) / 2, which it equals.
    """

    def forward(self, z):
        xp = self.xp
        n = z.shape[0]
        log_sums, self.probs = [], []
        for axis in (1, 0):  # rows, then columns
            top = z.max(axis=axis, keepdims=True)
            e = xp.exp(z - top)
            total = e.sum(axis=axis, keepdims=True)
            e /= total
            self.probs.append(e)
            log_sums.append(xp.log(total).sum() + top.sum())
        loss = (log_sums[0] + log_sums[1] - 2 * xp.trace(z)) / (2 * n)
        return xp.asarray(loss, dtype=z.dtype)

    def backward(self, grad):
        z = self.inputs[0]
        n = z.shape[0]
        if is_grad_enabled():  # create_graph=True: R and C must be ops of Z
            identity = constant(self.xp.eye(n, dtype=z.dtype), like=grad)
            return (softmax(z, axis=1) + softmax(z, axis=0) - 2.0 * identity) * (grad / (2 * n))
        delta = self.probs[0] + self.probs[1]
        diagonal = delta.reshape(-1)[::n + 1]  # a view of the diagonal
        diagonal -= 2
        delta *= grad.data / (2 * n)
        return constant(delta, like=grad)


def symmetric_cross_entropy(z, name="symmetric_cross_entropy"):
    """CLIP's loss on square logits (N, N) as one 0-d op (see SymmetricCrossEntropy). NaN or
    inf in the logits raises here, naming which (an N x N scan: small next to the model).
    ``name``: the caller that errors are reported under (clip_loss passes its own)."""
    if z.ndim != 2 or z.shape[0] != z.shape[1] or z.shape[0] == 0:
        raise ShapeError(f"{name}: expected square logits (N, N) with N >= 1, got {z.shape}")
    z = floating(z)
    check_finite(name, z, "logits")
    return SymmetricCrossEntropy.apply(z)


# PyTorch's rules for binary cross-entropy on probabilities: each log is clamped to >= -100,
# and the denominator p (1 - p) of the gradient is kept >= 1e-12.
BCE_LOG_FLOOR = -100.0
BCE_EPSILON = 1e-12


def _clamped_log_array(xp, p):
    """max(log p, -100) on an array; log 0 = -inf becomes -100, with no warning."""
    with numpy.errstate(divide="ignore"):
        return xp.maximum(xp.log(p), p.dtype.type(BCE_LOG_FLOOR))


def _clamped_log(p):
    """max(log p, -100) built from ops, so that it can be differentiated (create_graph)."""
    positive = p > 0
    return where(positive, where(positive, p, 1.0).log(), BCE_LOG_FLOOR).clip(min=BCE_LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """loss = -(y log p + (1 - y) log(1 - p)) elementwise, each log clamped to >= -100
    (PyTorch's rule: p = 0 or 1 gives a finite loss). p, y, loss: the same shape.

    With g = dL/dloss:

        dL/dp = g (p - y) / max(p (1 - p), 1e-12)
        dL/dy = g (log(1 - p) - log p)            (the clamped logs)

    dL/dp is the derivative of the unclamped loss, -y / p + (1 - y) / (1 - p) = (p - y) /
    (p (1 - p)), with its denominator kept >= 1e-12 (PyTorch's rule). So a confidently wrong
    prediction keeps learning: at p = 0 with y = 1 the gradient is -1e12 g, large, finite and
    pushing p up (p = 1 with y = 0: +1e12 g), where the derivative of the clamped log alone
    would be 0. A right prediction at the edge (p = y = 0 or 1) gets 0.
    """

    def forward(self, p, y):
        xp = self.xp
        log_p = _clamped_log_array(xp, p)
        log_not_p = _clamped_log_array(xp, 1 - p)
        self.log_odds = log_not_p - log_p  # dL/dy per unit of g
        return -(y * log_p + (1 - y) * log_not_p)

    def backward(self, grad):
        p, y = self.inputs
        grad_p = grad_y = None
        if is_grad_enabled():  # create_graph=True: both derivatives as ops of p (and y)
            if self.needs_input_grad[0]:
                grad_p = grad * (p - y) / maximum(p * (1.0 - p), BCE_EPSILON)
            if self.needs_input_grad[1]:
                grad_y = grad * (_clamped_log(1.0 - p) - _clamped_log(p))
            return grad_p, grad_y
        xp, p_data = self.xp, p.data
        if self.needs_input_grad[0]:
            slope = (p_data - y.data) / xp.maximum(p_data * (1 - p_data),
                                                    p_data.dtype.type(BCE_EPSILON))
            grad_p = constant(grad.data * slope, like=grad)
        if self.needs_input_grad[1]:
            grad_y = constant(grad.data * self.log_odds, like=grad)
        return grad_p, grad_y


def binary_cross_entropy(p, y):
    """The elementwise BCE of probabilities p and targets y of the same shape, as one op (see
    BinaryCrossEntropy); F.binary_cross_entropy checks the arguments and reduces."""
    if p.shape != y.shape:
        raise ShapeError(f"binary_cross_entropy: input of shape {p.shape} and target of shape "
                         f"{y.shape}; they must match")
    return BinaryCrossEntropy.apply(p, y.astype(p.dtype))

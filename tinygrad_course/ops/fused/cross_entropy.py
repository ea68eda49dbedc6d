"""Softmax cross-entropy.  Twin: ``softmax_cross_entropy_composed``; fused: ``SoftmaxCrossEntropy``.

For logits z and a target distribution y (one-hot for class labels) along the class axis:

    loss_n = -sum_c y_nc log softmax(z_n)_c

``softmax_cross_entropy_composed`` is that line in Tensor ops; read it first. Its gradient,
which autograd derives through log_softmax, the product, the sum and the minus, is the
lecture's closed form

    dL/dz_nc = g_n (q_nc sum_k y_nk - y_nc),   q = softmax(z)     (= g_n (q - y) for one-hot y)
    dL/dy_nc = -g_n log q_nc

``SoftmaxCrossEntropy`` computes the loss as one op and that closed form directly.
What it saves: the twin records 4 ops (log_softmax, multiply, sum, negate) and keeps an
(N, C) log-probability array and an (N, C) product alive for the backward; the fused op
keeps q and log q, and without create_graph its backward is one array expression. Measured
on (8, 10) class-index batches, cross_entropy forward + backward went 198 -> 140 us when
its backward moved to the arrays (commit bc20a65); mlp_b8 1.76 -> 1.61.

F.cross_entropy (functional.py) turns class indices, weights, label smoothing and
ignore_index into y and calls ``softmax_cross_entropy``.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for cross_entropy of (8, 10) logits with
labels, the twin takes 1.37-1.54x the fused op's time; (512, 1000): 1.28x.
"""

from ...autograd import Function, is_grad_enabled
from ...errors import ShapeError
from ...fused import fused_enabled
from ...tensor import constant
from ..elementwise import floating
from ..nn import _shift_by_max, log_softmax
from ..reduce import normalize_axes


def softmax_cross_entropy_composed(z, y, axis=-1):
    """The twin: loss = -sum(y * log_softmax(z), axis), in Tensor ops. (At logits near the
    dtype's limits log q can be -inf, and 0 * -inf is NaN; the fused op takes 0 log 0 = 0.)"""
    return -(y * log_softmax(z, axis=axis)).sum(axis=axis)


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


def softmax_cross_entropy(z, y, axis=-1):
    """-sum(y * log_softmax(z), axis): the fused op, or its twin under use_fused(False);
    z, y the same shape."""
    if z.shape != y.shape or z.ndim == 0:
        raise ShapeError(f"softmax_cross_entropy: logits of shape {z.shape} and target of "
                         f"shape {y.shape}; they must match and have a class axis")
    z = floating(z)
    axis = normalize_axes(axis, z.ndim, "softmax_cross_entropy")[0]
    if not fused_enabled():
        return softmax_cross_entropy_composed(z, y.astype(z.dtype), axis)
    return SoftmaxCrossEntropy.apply(z, y.astype(z.dtype), axis=axis)

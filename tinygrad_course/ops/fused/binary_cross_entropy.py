"""Binary cross-entropy.  Twin: ``binary_cross_entropy_composed``; fused: ``BinaryCrossEntropy``.

    loss = -(y log p + (1 - y) log(1 - p))    elementwise; each log clamped to >= -100
    dL/dp = g (p - y) / max(p (1 - p), 1e-12),   dL/dy = g (log(1 - p) - log p)

``binary_cross_entropy_composed`` is the first line in Tensor ops (with the clamped log
built from where and clip); read it first. Inside 0 < p < 1 autograd's gradient of it is
the closed form above. At p = 0 or 1 they differ on purpose: the twin's clamped log has
slope 0 there, while the fused op keeps PyTorch's rule (the denominator p (1 - p) kept
>= 1e-12), so a confidently wrong prediction still learns.

What it saves: the twin records about 12 ops (two clamped logs of 4 ops each, products,
sums, negation); the fused op keeps log(1-p) - log p and computes both gradients on the
arrays.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for binary_cross_entropy of (256, 64), the
twin takes 2.3-2.9x the fused op's time.
"""

import numpy

from ...autograd import Function, is_grad_enabled
from ...errors import ShapeError
from ...fused import fused_enabled
from ...tensor import constant
from ..elementwise import maximum, where

# PyTorch's rules for binary cross-entropy on probabilities: each log is clamped to >= -100,
# and the denominator p (1 - p) of the gradient is kept >= 1e-12.
BCE_LOG_FLOOR = -100.0
BCE_EPSILON = 1e-12


def binary_cross_entropy_composed(p, y):
    """The twin: -(y log p + (1 - y) log(1 - p)), logs clamped to >= -100, in Tensor ops."""
    return -(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p))


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
    """The elementwise BCE of probabilities p and targets y of the same shape: the fused op,
    or its twin under use_fused(False); F.binary_cross_entropy checks the arguments and
    reduces."""
    if p.shape != y.shape:
        raise ShapeError(f"binary_cross_entropy: input of shape {p.shape} and target of shape "
                         f"{y.shape}; they must match")
    if not fused_enabled():
        return binary_cross_entropy_composed(p, y.astype(p.dtype))
    return BinaryCrossEntropy.apply(p, y.astype(p.dtype))

"""Masked mean pooling.  Twin: ``masked_mean_composed`` below; fused op: ``MaskedMean``.

The mean over axis 1 of the positions a mask keeps (mean pooling of padded sequences):

    y_n = sum_l w_nl x_nl,    w_nl = keep_nl / max(1, sum_l keep_nl),    dL/dx_nl = w_nl dL/dy_n

``masked_mean_composed`` writes it with Tensor ops: read it first. What the fused op saves:
the twin takes a cast, a count, a clamp, a division, a reshape, a multiply and a sum (7 ops,
an (N, L, ...) product kept for the backward); the fused op keeps the (N, L) weights and
its backward is one product (clip_step 1.14 -> 1.09 together with similarity_logits,
commit 1bc2458). Its one user is CLIP's text tower (models/clip.py).

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for masked_mean of (16, 32, 64), the twin
takes 1.55-1.62x the fused op's time.
"""

from ...autograd import Function, is_grad_enabled
from ...errors import DTypeError, ShapeError
from ...fused import fused_enabled
from ...tensor import Tensor, as_tensor, check_same_device, constant
from ..elementwise import floating, maximum


def masked_mean_composed(x, keep):
    """The twin: sum of x over the kept positions of axis 1, divided by their count (at
    least 1). x (N, L, ...) floating, keep (N, L) a bool backend array."""
    weights = constant(keep, like=x).astype(x.dtype)
    weights = weights / maximum(weights.sum(axis=1, keepdims=True), 1.0)
    weights = weights.reshape(weights.shape + (1,) * (x.ndim - 2))
    return (x * weights).sum(axis=1)


class MaskedMean(Function):
    """The mean over axis 1 of the positions a mask keeps: mean pooling of padded sequences.

    x (N, L, ...), keep (N, L) bool (a backend array: a constant, no gradient) -> y (N, ...):

        y_n = sum_l w_nl x_nl,    w_nl = keep_nl / max(1, sum_l keep_nl)
        dL/dx_nl = w_nl dL/dy_n

    A row that keeps no position gives zeros (and sends no gradient back).
    """

    def forward(self, x, keep):
        xp = self.xp
        weights = keep.astype(x.dtype)
        weights /= xp.maximum(weights.sum(axis=1, keepdims=True), 1)
        self.weights = weights.reshape(weights.shape + (1,) * (x.ndim - 2))  # (N, L, 1...)
        return (x * self.weights).sum(axis=1)

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: a differentiable product
            return grad.unsqueeze(1) * constant(self.weights, like=grad)
        return constant(grad.data[:, None] * self.weights, like=grad)


def masked_mean(x, keep):
    """Mean of x (N, L, ...) over axis 1, counting only the positions where ``keep`` (N, L)
    is True (a bool Tensor or array); (N, ...): the fused op, or its twin under
    use_fused(False)."""
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
    if not fused_enabled():
        return masked_mean_composed(floating(x), keep)
    return MaskedMean.apply(floating(x), keep=keep)

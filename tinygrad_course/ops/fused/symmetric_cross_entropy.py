"""CLIP's symmetric cross-entropy.  Twin: ``symmetric_cross_entropy_composed``; fused:
``SymmetricCrossEntropy``.

On square logits Z (N, N) whose matching pairs sit on the diagonal, each row asks "which
text is image i's?" and each column "which image is text j's?" (InfoNCE both ways):

    loss = ( CE(rows of Z, targets 0..N-1) + CE(columns of Z, targets 0..N-1) ) / 2

``symmetric_cross_entropy_composed`` is that line in Tensor ops: read it first.
``SymmetricCrossEntropy`` computes it as one op, with the gradient in closed form
(R, C = softmax over each row, over each column; I the identity; g = dL/dloss):

    dL/dZ = g (R + C - 2 I) / (2N)

What it saves: the twin records 2 log-softmaxes, a transpose, 2 diagonal reads, 2 means,
an add and a halving, and keeps two (N, N) log-probability arrays; the fused op keeps R and
C and writes dL/dZ in their sum. Its one user is CLIP's loss (models/clip.py); ALBEF's
itc_loss computes the same sum with two F.cross_entropy calls because it also takes soft
targets.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for symmetric_cross_entropy of (64, 64), the
twin takes 4.1-4.7x the fused op's time.
"""

from ...autograd import Function, is_grad_enabled
from ...errors import ShapeError
from ...fused import fused_enabled
from ...tensor import constant
from ..elementwise import floating
from ..nn import check_finite, log_softmax, softmax


def symmetric_cross_entropy_composed(z):
    """The twin: the mean of the row-wise and the column-wise cross-entropy with the
    diagonal as targets, in Tensor ops."""
    n = z.shape[0]
    on_diagonal = constant(z.xp.eye(n, dtype=z.dtype), like=z)
    rows = -(log_softmax(z, axis=1) * on_diagonal).sum() / n
    columns = -(log_softmax(z, axis=0) * on_diagonal).sum() / n
    return (rows + columns) * 0.5


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
    """CLIP's loss on square logits (N, N), 0-d: the fused op, or its twin under
    use_fused(False). NaN or
    inf in the logits raises here, naming which (an N x N scan: small next to the model).
    ``name``: the caller that errors are reported under (clip_loss passes its own)."""
    if z.ndim != 2 or z.shape[0] != z.shape[1] or z.shape[0] == 0:
        raise ShapeError(f"{name}: expected square logits (N, N) with N >= 1, got {z.shape}")
    z = floating(z)
    check_finite(name, z, "logits")
    if not fused_enabled():
        return symmetric_cross_entropy_composed(z)
    return SymmetricCrossEntropy.apply(z)

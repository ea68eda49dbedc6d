"""CLIP's similarity logits.  Twin: ``similarity_logits_composed``; fused: ``SimilarityLogits``.

Every image embedding against every text embedding, scaled by a learned temperature:

    U (N, D), V (M, D), tau 0-d   ->   Z (N, M) = s U V^T,   s = exp(min(tau, tau_max))

With unit rows in U and V, U V^T holds the cosine similarities and s (1 / temperature)
sharpens them; tau_max (CLIP: log 100) keeps the logits from growing without bound. With
G = dL/dZ:

    dL/dU   = s G V                  (N, D)
    dL/dV   = s G^T U                (M, D)
    dL/dtau = sum(G * Z)             (ds/dtau = s, and Z = s U V^T), 0 where tau > tau_max

``similarity_logits_composed`` writes Z with Tensor ops: read it first. What the fused op
saves: the twin takes five ops (clamp, exp, transpose, matmul, multiply) and five backward
passes, and keeps U V^T as well as Z; the fused op's backward is two products and one sum
(clip_step 1.14 -> 1.09 when CLIP's head became this op and masked_mean, commit 1bc2458).
Used by CLIP (models/clip.py) and by the vision-language models' contrastive heads.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for similarity_logits of (64, 64) x (64, 64),
the twin takes 2.2-2.7x the fused op's time.
"""

from ...autograd import Function, is_grad_enabled
from ...errors import DTypeError, ShapeError
from ...fused import fused_enabled
from ...tensor import Tensor, constant
from ..elementwise import minimum


def similarity_logits_composed(u, v, log_scale, max_log_scale=None):
    """The twin: Z = exp(min(tau, tau_max)) U V^T, in Tensor ops."""
    if max_log_scale is not None:
        log_scale = minimum(log_scale, max_log_scale)
    return (u @ v.T) * log_scale.exp()


class SimilarityLogits(Function):
    """Z = exp(min(tau, tau_max)) U V^T (see the module docstring); ``max_log_scale`` is
    tau_max, or None for no clamp."""

    def forward(self, u, v, log_scale, max_log_scale):
        xp = self.xp
        self.open = max_log_scale is None or bool(log_scale <= max_log_scale)  # tau moves Z
        self.scale = xp.exp(log_scale if self.open else
                            xp.minimum(log_scale, log_scale.dtype.type(max_log_scale)))
        logits = xp.matmul(u, v.T)
        logits *= self.scale
        return logits

    def backward(self, grad):
        u, v, log_scale = self.inputs
        if is_grad_enabled():  # create_graph=True: s must be an op of tau, Z of U and V
            scale = log_scale.exp() if self.open else \
                constant(self.scale, like=grad)
            grads = [(grad @ v) * scale, (grad.T @ u) * scale,
                     (grad * (u @ v.T)).sum() * scale if self.open else None]
        else:  # the same formulas on the arrays (dtau from the output: sum(G * Z))
            g, xp = grad.data, self.xp
            grads = [None, None, None]
            if self.needs_input_grad[0]:
                grads[0] = xp.matmul(g, v.data)
                grads[0] *= self.scale
            if self.needs_input_grad[1]:
                grads[1] = xp.matmul(g.T, u.data)
                grads[1] *= self.scale
            if self.needs_input_grad[2] and self.open:
                grads[2] = xp.asarray((g * self.output.data).sum(), dtype=g.dtype)
            grads = [None if a is None else constant(a, like=grad)
                     for a in grads]
        if grads[2] is None and self.needs_input_grad[2]:
            # tau above the clamp: a zero gradient (not None), as PyTorch's clamp gives
            grads[2] = constant(self.xp.zeros((), dtype=grad.dtype), like=grad)
        return tuple(grads)


def similarity_logits(u, v, log_scale, max_log_scale=None):
    """exp(min(log_scale, max_log_scale)) * u @ v.T: the fused op, or its twin under
    use_fused(False).

    u (N, D) and v (M, D) floating, log_scale a 0-d tensor (CLIP's learned tau) of their
    dtype; returns (N, M)."""
    for name, t in (("u", u), ("v", v)):
        if not isinstance(t, Tensor) or t.ndim != 2:
            raise ShapeError(f"similarity_logits: {name} must be a 2-d Tensor (rows of "
                             f"embeddings), got {getattr(t, 'shape', type(t).__name__)}")
    if u.shape[1] != v.shape[1]:
        raise ShapeError(f"similarity_logits: u {u.shape} and v {v.shape} need the same "
                         "embedding size (axis 1)")
    if not isinstance(log_scale, Tensor) or log_scale.shape != ():
        raise ShapeError(f"similarity_logits: log_scale must be a 0-d Tensor, got "
                         f"{getattr(log_scale, 'shape', type(log_scale).__name__)}")
    if u.dtype.kind != "f" or v.dtype != u.dtype or log_scale.dtype != u.dtype:
        raise DTypeError(f"similarity_logits: u, v and log_scale must share one floating "
                         f"dtype, got {u.dtype}, {v.dtype} and {log_scale.dtype}")
    if not fused_enabled():
        return similarity_logits_composed(u, v, log_scale, max_log_scale)
    return SimilarityLogits.apply(u, v, log_scale, max_log_scale=max_log_scale)

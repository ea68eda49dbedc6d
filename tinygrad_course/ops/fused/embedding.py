"""Embedding lookup.  Twin: ``embedding_composed`` below; fused op: ``EmbeddingLookup``.

The rows of a table picked by integer ids:

    y[..., :] = W[ids[...], :]        ids: integers (...),  W: (V, D),  y: (..., D)

Backward: every row of dL/dy goes back to the row of W it was read from, and rows read
several times add up (a scatter-add):

    dL/dW[v] = sum over positions i with ids[i] = v of dL/dy[i]      (0 for ids not used)

With a padding id p (``padding_idx``), positions holding p give a zero vector whatever row
p holds, so row p truly does not affect the output and its gradient is zero (it keeps its
value). torch.nn.functional.embedding also gives row p no gradient, but reads the row in
the forward; the two agree while row p is zero, as nn.Embedding initialises it.

``embedding_composed`` is the lookup as indexing, W[ids], with the padding rule as a mask:
read it first. What the fused op saves: the twin takes a GetItem op, and with a padding id
a comparison, a cast and a multiplication on top (an (..., D) product kept for the
backward); the fused op keeps only the ids, and its backward is one scatter-add on the
arrays (backend.scatter_add: a sparse product for many rows).

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for embedding of (16, 32) ids in a 1000 x 64
table, the twin takes 1.08-1.13x the fused op's time (the backward's scatter-add is the
same; the fused op saves the GetItem bookkeeping).
"""

from ... import backend
from ...autograd import Function, is_grad_enabled
from ...fused import fused_enabled
from ...tensor import constant
from ..movement import ScatterAdd


def embedding_composed(ids, weight, padding_idx=None):
    """The twin: y = W[ids] by indexing, and 0 at the positions holding ``padding_idx``."""
    rows = weight[ids]
    if padding_idx is None:
        return rows
    return rows * (ids != padding_idx).unsqueeze(-1).astype(weight.dtype)


class EmbeddingLookup(Function):
    """y = W[ids] (see the module docstring); ``ids`` is a backend integer array."""

    def forward(self, weight, ids, padding_idx):
        self.ids, self.padding_idx = ids, padding_idx
        rows = weight[ids]
        if padding_idx is not None:
            rows[ids == padding_idx] = 0
        return rows

    def backward(self, grad):
        shape = self.inputs[0].shape
        if is_grad_enabled():  # create_graph=True: a differentiable scatter-add
            grad_weight = ScatterAdd.apply(grad, index=(self.ids,), shape=shape,
                                           repeats_possible=True)
            if self.padding_idx is None:
                return grad_weight
            rows = self.xp.ones((shape[0], 1), dtype=grad.dtype)
            rows[self.padding_idx] = 0
            return grad_weight * constant(rows, like=grad)
        grad_weight = self.xp.zeros(shape, dtype=grad.dtype)
        backend.scatter_add(self.xp, grad_weight, self.ids.reshape(-1),
                            grad.data.reshape(-1, shape[1]))
        if self.padding_idx is not None:
            grad_weight[self.padding_idx] = 0
        return constant(grad_weight, like=grad)


def embedding(ids, weight, padding_idx=None):
    """weight[ids] for an integer Tensor ``ids`` on weight's device (as F.embedding; the
    caller checks the ids' range)."""
    if not fused_enabled():
        return embedding_composed(ids, weight, padding_idx)
    return EmbeddingLookup.apply(weight, ids=ids.data, padding_idx=padding_idx)

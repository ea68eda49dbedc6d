"""Right for 2-d, 1-d and equal batches; forgets to sum over a batch axis that was broadcast
(dL/db for b of shape (n, p) comes out as (batch, n, p))."""

from tinygrad_course import Function

CAUGHT_BY = "property: broadcast batches and 1-d vectors"
SLIPS_PAST = ("forward", "gradcheck: 2-d", "gradcheck: batched")


class MatMul(Function):
    def forward(self, a, b):
        return self.xp.matmul(a, b)

    def backward(self, grad):
        a, b = self.inputs
        a2 = a if a.ndim > 1 else a.reshape(1, a.shape[0])
        b2 = b if b.ndim > 1 else b.reshape(b.shape[0], 1)
        if a.ndim == 1:
            grad = grad.unsqueeze(-2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            grad = grad.unsqueeze(-1)
        grad_a = grad @ b2.swapaxes(-1, -2)
        grad_b = a2.swapaxes(-1, -2) @ grad
        return (grad_a.reshape(a.shape) if a.ndim == 1 else grad_a,
                grad_b.reshape(b.shape) if b.ndim == 1 else grad_b)

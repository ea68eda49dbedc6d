"""Right gradients computed with xp on raw arrays: autograd cannot see through them."""

from exercise_solutions.ex03_matmul import MatMul

from tinygrad_course import Tensor

CAUGHT_BY = "gradgradcheck"
SLIPS_PAST = ("forward", "gradcheck: 2-d", "gradcheck: batched")


class MatMul(MatMul):  # noqa: F811
    def backward(self, grad):
        grad_a, grad_b = super().backward(grad)
        return (Tensor(grad_a.data, dtype=grad_a.dtype, device=grad.device),
                Tensor(grad_b.data, dtype=grad_b.dtype, device=grad.device))

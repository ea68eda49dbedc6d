"""The 2-d formulas with .T: right for one sequence, wrong once there are batch axes."""

from exercise_solutions.ex08_attention import Attention

from tinygrad_course import Tensor

CAUGHT_BY = "property: batch axes and sizes"
SLIPS_PAST = ("forward", "gradcheck")


class Attention(Attention):  # noqa: F811
    def backward(self, grad):
        q, k, v = self.inputs
        p = Tensor(self.weights, dtype=self.weights.dtype, device=grad.device)
        grad_p = grad @ v.T
        grad_s = p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True))
        return (grad_s @ k) * self.scale, (grad_s.T @ q) * self.scale, p.T @ grad

"""dS = P dP: the softmax treated as elementwise, the term through the row sum lost."""

from exercise_solutions.ex08_attention import Attention

from tinygrad_course import Tensor

CAUGHT_BY = "gradcheck"
SLIPS_PAST = ("forward",)


class Attention(Attention):  # noqa: F811
    def backward(self, grad):
        q, k, v = self.inputs
        p = Tensor(self.weights, dtype=self.weights.dtype, device=grad.device)
        grad_s = p * (grad @ v.swapaxes(-1, -2))
        return ((grad_s @ k) * self.scale, (grad_s.swapaxes(-1, -2) @ q) * self.scale,
                p.swapaxes(-1, -2) @ grad)

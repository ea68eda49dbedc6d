"""dQ = dS K and dK = dS^T Q: the factor s = 1/sqrt(d) of the scores left out."""

from exercise_solutions.ex08_attention import Attention

from tinygrad_course import Tensor

CAUGHT_BY = "gradcheck"
SLIPS_PAST = ("forward",)


class Attention(Attention):  # noqa: F811
    def backward(self, grad):
        q, k, _ = self.inputs
        _, _, grad_v = super().backward(grad)
        p = Tensor(self.weights, dtype=self.weights.dtype, device=grad.device)
        grad_p = grad @ self.inputs[2].swapaxes(-1, -2)
        grad_s = p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True))
        return grad_s @ k, grad_s.swapaxes(-1, -2) @ q, grad_v

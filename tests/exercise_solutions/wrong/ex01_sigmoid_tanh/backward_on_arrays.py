"""Right first derivative, computed on raw arrays: a constant to autograd, so the second
derivative through it is lost."""

from exercise_solutions.ex01_sigmoid_tanh import Sigmoid, Tanh

from tinygrad_course import Tensor

CAUGHT_BY = "gradgradcheck"
SLIPS_PAST = ("gradcheck: sigmoid", "gradcheck: tanh", "property: any shape and sign")


class Tanh(Tanh):  # noqa: F811
    def backward(self, grad):
        y = self.output.data
        local = Tensor(1.0 - y * y, dtype=y.dtype, device=grad.device)
        return grad * local


__all__ = ["Sigmoid", "Tanh"]

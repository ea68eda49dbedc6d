"""tanh' taken as 1 - y instead of 1 - y^2."""

from exercise_solutions.ex01_sigmoid_tanh import Sigmoid, Tanh

CAUGHT_BY = "gradcheck: tanh"
SLIPS_PAST = ("forward: tanh", "gradcheck: sigmoid")


class Tanh(Tanh):  # noqa: F811
    def backward(self, grad):
        return grad * (1.0 - self.output)


__all__ = ["Sigmoid", "Tanh"]

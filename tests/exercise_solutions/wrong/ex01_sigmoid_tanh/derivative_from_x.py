"""sigma'(x) = e^-x / (1 + e^-x)^2, right on paper, inf / inf = nan at x = -800."""

from exercise_solutions.ex01_sigmoid_tanh import Sigmoid, Tanh

CAUGHT_BY = "backward at x = +-800"
SLIPS_PAST = ("gradcheck: sigmoid",)


class Sigmoid(Sigmoid):  # noqa: F811
    def backward(self, grad):
        e = (-self.inputs[0]).exp()
        return grad * e / ((1.0 + e) * (1.0 + e))


__all__ = ["Sigmoid", "Tanh"]

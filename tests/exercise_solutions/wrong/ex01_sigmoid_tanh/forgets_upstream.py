"""The local derivative returned alone, not multiplied by the upstream gradient g."""

from exercise_solutions.ex01_sigmoid_tanh import Sigmoid, Tanh

CAUGHT_BY = "gradcheck: sigmoid"


class Sigmoid(Sigmoid):  # noqa: F811
    def backward(self, grad):
        y = self.output
        return y * (1.0 - y)


__all__ = ["Sigmoid", "Tanh"]

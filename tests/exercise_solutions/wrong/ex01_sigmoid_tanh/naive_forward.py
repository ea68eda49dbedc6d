"""The textbook forward 1 / (1 + e^-x): right values, but e^800 overflows on the way."""

from exercise_solutions.ex01_sigmoid_tanh import Sigmoid, Tanh

CAUGHT_BY = "forward at x = +-800"
SLIPS_PAST = ("forward: sigmoid",)


class Sigmoid(Sigmoid):  # noqa: F811
    def forward(self, x):
        return 1.0 / (1.0 + self.xp.exp(-x))


__all__ = ["Sigmoid", "Tanh"]

"""Softmax "fixed" with axis=1: the last axis of the shipped 2-d input, not of others."""

from exercise_solutions.ex13_find_the_bug import (  # noqa: F401
    DIAGNOSIS,
    AddBias,
    LinearNoBias,
    Softmax,
    Square,
    SquaredDistance,
)

CAUGHT_BY = "property: other sizes"
SLIPS_PAST = ("forwards unchanged", "gradcheck: Softmax")


class Softmax(Softmax):  # noqa: F811
    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(axis=1, keepdims=True))

"""Softmax's backward left with axis=0 and the forward changed to normalise over axis 0 as
well: gradcheck is happy, the op is no longer a softmax over the last axis."""

from exercise_solutions.ex13_find_the_bug import (  # noqa: F401
    DIAGNOSIS,
    AddBias,
    LinearNoBias,
    Softmax,
    Square,
    SquaredDistance,
)

CAUGHT_BY = "forwards unchanged"


class Softmax(Softmax):  # noqa: F811
    def forward(self, x):
        e = self.xp.exp(x - x.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(axis=0, keepdims=True))

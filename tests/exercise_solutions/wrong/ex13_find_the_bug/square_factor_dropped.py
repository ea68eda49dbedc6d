"""The mutation removed together with the factor 2 it was computing."""

from exercise_solutions.ex13_find_the_bug import (  # noqa: F401
    DIAGNOSIS,
    AddBias,
    LinearNoBias,
    Softmax,
    Square,
    SquaredDistance,
)

CAUGHT_BY = "gradcheck: Square"


class Square(Square):  # noqa: F811
    def backward(self, grad):
        return grad * self.inputs[0]

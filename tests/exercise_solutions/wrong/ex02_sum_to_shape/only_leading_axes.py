"""Only the added leading axes are summed; the axes stretched from size 1 are forgotten."""

from exercise_solutions.ex02_sum_to_shape import BroadcastMul  # noqa: F401

CAUGHT_BY = "values on two patterns"


def sum_to_shape(grad, shape):
    leading = grad.ndim - len(shape)
    return grad.sum(axis=tuple(range(leading)))

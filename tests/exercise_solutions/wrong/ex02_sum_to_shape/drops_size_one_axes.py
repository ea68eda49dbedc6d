"""Sums the right axes but without keepdims and with no reshape: (2, 3, 4) -> (2, 1, 4)
comes back as (2, 4)."""

from exercise_solutions.ex02_sum_to_shape import BroadcastMul  # noqa: F401

CAUGHT_BY = "values on two patterns"


def sum_to_shape(grad, shape):
    shape = tuple(shape)
    leading = grad.ndim - len(shape)
    stretched = tuple(leading + i for i, size in enumerate(shape)
                      if size == 1 and grad.shape[leading + i] != 1)
    return grad.sum(axis=tuple(range(leading)) + stretched)

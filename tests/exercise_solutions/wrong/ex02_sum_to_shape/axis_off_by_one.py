"""Stretched axes located at their input position i instead of leading + i: right whenever no
axis was added in front, wrong for (2, 3, 4) -> (3, 1)."""

from exercise_solutions.ex02_sum_to_shape import BroadcastMul  # noqa: F401

CAUGHT_BY = "property: every broadcast pattern"
SLIPS_PAST = ("values on two patterns", "gradcheck: broadcast multiply")


def sum_to_shape(grad, shape):
    shape = tuple(shape)
    leading = grad.ndim - len(shape)
    stretched = tuple(i for i, size in enumerate(shape)
                      if size == 1 and grad.shape[leading + i] != 1)
    return grad.sum(axis=tuple(range(leading)) + stretched, keepdims=True).reshape(shape)

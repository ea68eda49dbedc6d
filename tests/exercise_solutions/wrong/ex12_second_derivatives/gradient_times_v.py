"""grad f(x) * v elementwise, a first derivative, taken for H v."""

import numpy as np
from exercise_solutions.ex12_second_derivatives import newton_step  # noqa: F401

import tinygrad_course as tg

CAUGHT_BY = "hvp on a quadratic"


def hvp(f, x, v):
    x_t = tg.tensor(x, dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(f(x_t), [x_t])
    return g.numpy() * v

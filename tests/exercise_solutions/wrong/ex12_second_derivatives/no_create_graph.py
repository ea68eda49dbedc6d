"""The first tg.grad without create_graph=True: the gradient is a constant, and the second
grad has no graph to go through."""

import numpy as np
from exercise_solutions.ex12_second_derivatives import newton_step  # noqa: F401

import tinygrad_course as tg

CAUGHT_BY = "hvp on a quadratic"


def hvp(f, x, v):
    x_t = tg.tensor(x, dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(f(x_t), [x_t])
    (hv,) = tg.grad((g * tg.tensor(v, dtype=np.float64)).sum(), [x_t])
    return hv.numpy()

"""x + H^-1 grad: the step goes uphill, away from the minimum."""

import numpy as np
from exercise_solutions.ex12_second_derivatives import hvp

import tinygrad_course as tg

CAUGHT_BY = "newton step"
SLIPS_PAST = ("hvp on a quadratic", "hvp vs finite differences")


def newton_step(f, x):
    n = len(x)
    hessian = np.stack([hvp(f, x, np.eye(n)[i]) for i in range(n)], axis=1)
    x_t = tg.tensor(x, dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(f(x_t), [x_t])
    return x + np.linalg.solve(hessian, g.numpy())

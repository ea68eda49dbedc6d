"""Checks of exercise 12: Hessian-vector products by double backward, one Newton step."""

import numpy
from hypothesis import strategies as st

import tinygrad_course as tg

from ..checker import Check, CheckFailed, const, expect_close, holds_for_all, leaf, need


def quadratic(a, b):
    """f(x) = 1/2 x^T A x - b^T x as a function of a Tensor x (n,)."""
    a_t, b_t = const(a, numpy.float64), const(b, numpy.float64)
    return lambda x: 0.5 * (x @ (a_t @ x)) - b_t @ x


def positive_definite(n, rng):
    m = rng.normal(size=(n, n))
    return m @ m.T + numpy.eye(n)


def _returns_array(result, n, what):
    result = numpy.asarray(result, dtype=numpy.float64)
    if result.shape != (n,):
        raise CheckFailed(f"{what} returned shape {result.shape}, expected ({n},) (a NumPy "
                          "array; .numpy() turns a Tensor into one)")
    return result


def hvp_quadratic(solution, max_examples):
    hvp = need(solution, "hvp")
    rng = numpy.random.default_rng(0)
    a, b, x, v = positive_definite(4, rng), rng.normal(size=4), rng.normal(size=4), \
        rng.normal(size=4)
    result = _returns_array(hvp(quadratic(a, b), x, v), 4, "hvp")
    expect_close("hvp of 1/2 x^T A x - b^T x (expected A v)", result, a @ v)


def _wavy(w):
    """f(x) = sum(tanh(W x)) + sum(x^3) / 3: not quadratic, its Hessian depends on x."""
    w_t = const(w, numpy.float64)
    return lambda x: (w_t @ x).tanh().sum() + (x * x * x).sum() * (1.0 / 3.0)


def _gradient(f, x):
    x_t = leaf(x)
    (g,) = tg.grad(f(x_t), [x_t])
    return g.numpy()


def hvp_finite_differences(solution, max_examples):
    hvp = need(solution, "hvp")
    rng = numpy.random.default_rng(1)
    f = _wavy(rng.normal(size=(3, 4)))
    x, v = rng.normal(size=4), rng.normal(size=4)
    eps = 1e-6
    numeric = (_gradient(f, x + eps * v) - _gradient(f, x - eps * v)) / (2 * eps)
    expect_close("hvp of sum(tanh(W x)) + sum(x^3)/3 vs (grad(x + eps v) - grad(x - eps v)) "
                 "/ 2 eps", _returns_array(hvp(f, x, v), 4, "hvp"), numeric, atol=1e-6,
                 rtol=1e-5)


def _lands_on_minimum(newton_step, a, b, x0):
    n = len(b)
    x1 = _returns_array(newton_step(quadratic(a, b), x0), n, "newton_step")
    expect_close(f"one Newton step on a quadratic of size {n} (expected the minimum "
                 "A^-1 b)", x1, numpy.linalg.solve(a, b), atol=1e-8, rtol=1e-6)


def newton(solution, max_examples):
    newton_step = need(solution, "newton_step")
    rng = numpy.random.default_rng(2)
    _lands_on_minimum(newton_step, positive_definite(3, rng), rng.normal(size=3),
                      rng.normal(size=3) * 5)


@st.composite
def _quadratics(draw):
    n, seed = draw(st.integers(1, 4)), draw(st.integers(0, 2 ** 16))
    rng = numpy.random.default_rng(seed)
    return {"a": positive_definite(n, rng), "b": rng.normal(size=n),
            "x0": rng.normal(size=n) * 3}


def any_size(solution, max_examples):
    newton_step = need(solution, "newton_step")

    def body(a, b, x0):
        _lands_on_minimum(newton_step, a, b, x0)

    holds_for_all("one Newton step lands on the minimum of any quadratic (sizes 1 to 4)",
                  _quadratics(), body, max_examples)


CHECKS = [
    Check("hvp on a quadratic", hvp_quadratic,
          "the first grad without create_graph=True, g * v instead of grad(g . v)"),
    Check("hvp vs finite differences", hvp_finite_differences,
          "an hvp right only where the Hessian is constant"),
    Check("newton step", newton, "the step's sign, a gradient step instead of H^-1 grad"),
    Check("property: quadratics of any size", any_size, "sizes assumed (n > 1)"),
]

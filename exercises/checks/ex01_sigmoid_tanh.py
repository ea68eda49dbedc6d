"""Checks of exercise 1: Sigmoid and Tanh (forward, backward from the output)."""

import numpy
from hypothesis import strategies as st

from .. import strategies
from ..checker import (
    Check,
    CheckFailed,
    expect_close,
    gradcheck,
    gradgradcheck,
    holds_for_all,
    host,
    leaf,
    need,
)

EXTREMES = numpy.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])


def reference_sigmoid(x):
    return numpy.exp(-numpy.logaddexp(0.0, -x))


def _forward(name, reference):
    def run(solution, max_examples):
        op = need(solution, name)
        x = numpy.random.default_rng(1).normal(scale=3.0, size=(4, 5))
        expect_close(f"{name} forward on a (4, 5) input", op.apply(leaf(x)), reference(x))
        expect_close(f"{name} forward on a 0-d input", op.apply(leaf(numpy.array(0.5))),
                     reference(numpy.array(0.5)))
    return run


def forward_extremes(solution, max_examples):
    sigmoid = need(solution, "Sigmoid")
    with numpy.errstate(over="raise", invalid="raise"):
        try:
            y = sigmoid.apply(leaf(EXTREMES))
        except FloatingPointError as err:
            raise CheckFailed(f"Sigmoid forward at x = {EXTREMES.tolist()}: {err} (an "
                              "exponential overflowed; see hint 3)") from None
    expect_close(f"Sigmoid forward at x = {EXTREMES.tolist()}", y, reference_sigmoid(EXTREMES),
                 atol=0, rtol=1e-9)


def _gradcheck(name):
    def run(solution, max_examples):
        op = need(solution, name)
        x = numpy.random.default_rng(2).normal(size=(3, 4))
        gradcheck(f"gradcheck of {name} on a random (3, 4) input", op.apply, x)
    return run


def backward_extremes(solution, max_examples):
    sigmoid = need(solution, "Sigmoid")
    x = leaf(EXTREMES)
    upstream = numpy.random.default_rng(3).normal(size=EXTREMES.shape)
    with numpy.errstate(over="raise", invalid="raise"):
        try:
            sigmoid.apply(x).backward(leaf(upstream).detach())
        except FloatingPointError as err:
            raise CheckFailed(f"Sigmoid backward at x = {EXTREMES.tolist()}: {err}; the "
                              "derivative written with x overflows there, the one written "
                              "with y = self.output cannot") from None
    y = reference_sigmoid(EXTREMES)
    expect_close(f"Sigmoid backward at x = {EXTREMES.tolist()} (dL/dx)", host(x.grad),
                 upstream * y * (1 - y), atol=1e-300, rtol=1e-9)


def any_shape_and_sign(solution, max_examples):
    sigmoid, tanh = need(solution, "Sigmoid", "Tanh")
    inputs = strategies.shapes().flatmap(
        lambda shape: st.fixed_dictionaries({"x": strategies.values(shape, -6.0, 6.0)}))

    def body(x):
        gradcheck("gradcheck of Sigmoid", sigmoid.apply, x)
        gradcheck("gradcheck of Tanh", tanh.apply, x)

    holds_for_all("Sigmoid and Tanh pass gradcheck on any shape (0-d included) and sign",
                  inputs, body, max_examples)


def second_derivatives(solution, max_examples):
    sigmoid, tanh = need(solution, "Sigmoid", "Tanh")
    x = numpy.random.default_rng(4).normal(size=(2, 3))
    gradgradcheck("gradgradcheck of Sigmoid", sigmoid.apply, x)
    gradgradcheck("gradgradcheck of Tanh", tanh.apply, x)


CHECKS = [
    Check("forward: sigmoid", _forward("Sigmoid", reference_sigmoid), "a wrong formula"),
    Check("forward: tanh", _forward("Tanh", numpy.tanh), "a wrong formula"),
    Check("forward at x = +-800", forward_extremes,
          "a forward that overflows on its way to the right answer"),
    Check("gradcheck: sigmoid", _gradcheck("Sigmoid"),
          "a wrong derivative, or a forgotten upstream gradient g"),
    Check("gradcheck: tanh", _gradcheck("Tanh"),
          "a wrong derivative, or a forgotten upstream gradient g"),
    Check("backward at x = +-800", backward_extremes,
          "a derivative computed from x (inf / inf = nan) instead of from y"),
    Check("property: any shape and sign", any_shape_and_sign,
          "shapes the backward does not keep (0-d scalars, size-1 axes)"),
    Check("gradgradcheck", second_derivatives,
          "a backward on raw arrays, which cannot be differentiated again"),
]

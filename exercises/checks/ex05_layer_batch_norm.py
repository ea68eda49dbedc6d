"""Checks of exercise 5: LayerNorm (last axis) and BatchNorm (batch axis, training mode)."""

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import strategies
from ..checker import Check, expect_close, gradcheck, holds_for_all, leaf, need

EPS = 1e-5


def reference(x, gamma, beta, axis):
    centred = x - x.mean(axis=axis, keepdims=True)
    var = (centred ** 2).mean(axis=axis, keepdims=True)
    return gamma * centred / numpy.sqrt(var + EPS) + beta


def _inputs(shape, seed):
    rng = numpy.random.default_rng(seed)
    features = shape[-1]
    return (rng.normal(scale=2.0, size=shape) + 1.0, rng.normal(size=features) + 1.0,
            rng.normal(size=features))


def _forward(name, axis, shape):
    def run(solution, max_examples):
        op = need(solution, name)
        x, gamma, beta = _inputs(shape, 0)
        expect_close(f"{name} forward on x of shape {shape}",
                     op.apply(leaf(x), leaf(gamma), leaf(beta)), reference(x, gamma, beta, axis))
    return run


def _gradcheck(name, shape):
    def run(solution, max_examples):
        op = need(solution, name)
        gradcheck(f"gradcheck of {name} on x {shape}, gamma and beta ({shape[-1]},) (inputs "
                  "0, 1, 2)", op.apply, *_inputs(shape, 1))
    return run


@st.composite
def _groups(draw, batch_norm):
    """x with few distinct values, so whole groups are often equal (variance 0)."""
    shape = draw(strategies.shapes(min_dims=2, max_dims=2) if batch_norm
                 else strategies.shapes(min_dims=1, max_dims=3))
    elements = st.one_of(st.sampled_from([-1.0, 0.5, 2.0]), st.floats(-3.0, 3.0))
    x = draw(hnp.arrays(numpy.float64, shape, elements=elements))
    gamma = draw(strategies.values((shape[-1],), 0.5, 2.0))
    beta = draw(strategies.values((shape[-1],)))
    return {"x": x, "gamma": gamma, "beta": beta}


def shapes_and_equal_values(solution, max_examples):
    layer, batch = need(solution, "LayerNorm", "BatchNorm")
    for op, axis, name in ((layer, -1, "LayerNorm"), (batch, 0, "BatchNorm")):
        def body(x, gamma, beta):
            expect_close(f"{name} forward", op.apply(leaf(x), leaf(gamma), leaf(beta)),
                         reference(x, gamma, beta, axis))
            gradcheck(f"gradcheck of {name}", op.apply, x, gamma, beta)

        holds_for_all(f"{name} for any shape (groups of 1 included) and groups of equal "
                      "values", _groups(batch_norm=axis == 0), body, max_examples)


CHECKS = [
    Check("forward: layer norm", _forward("LayerNorm", -1, (3, 5)),
          "the variance divided by n - 1, statistics over the wrong axis"),
    Check("gradcheck: layer norm", _gradcheck("LayerNorm", (3, 5)),
          "a missing term of the three, gamma forgotten in g, dgamma not summed"),
    Check("forward: batch norm", _forward("BatchNorm", 0, (4, 3)),
          "statistics over the features instead of over the batch"),
    Check("gradcheck: batch norm", _gradcheck("BatchNorm", (4, 3)),
          "the means of the backward over the wrong axis, gamma forgotten"),
    Check("property: shapes and equal values", shapes_and_equal_values,
          "more than 2-d inputs, groups of 1, a variance of 0"),
]

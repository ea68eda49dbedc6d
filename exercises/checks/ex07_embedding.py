"""Checks of exercise 7: Embedding lookup, the scatter-add backward with repeated ids."""

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import strategies
from ..checker import Check, const, expect_close, gradcheck, holds_for_all, leaf, need


def _lookup(op, ids):
    ids_tensor = const(ids)
    return lambda weight: op.apply(weight, ids_tensor)


def forward(solution, max_examples):
    op = need(solution, "Embedding")
    weight = numpy.random.default_rng(0).normal(size=(6, 3))
    ids = numpy.array([[4, 0, 4], [1, 5, 2]])
    expect_close("Embedding forward, weight (6, 3), ids [[4, 0, 4], [1, 5, 2]]",
                 _lookup(op, ids)(leaf(weight)), weight[ids])


def distinct_ids(solution, max_examples):
    op = need(solution, "Embedding")
    weight = numpy.random.default_rng(1).normal(size=(6, 3))
    gradcheck("gradcheck of Embedding, weight (6, 3), ids [3, 0, 5]",
              _lookup(op, numpy.array([3, 0, 5])), weight)


@st.composite
def _inputs(draw, ids_shapes):
    vocabulary, dims = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    ids = draw(hnp.arrays(numpy.int64, draw(ids_shapes),
                          elements=st.integers(0, vocabulary - 1)))
    return {"weight": draw(strategies.values((vocabulary, dims))), "ids": ids}


def _property(what, ids_shapes):
    def run(solution, max_examples):
        op = need(solution, "Embedding")

        def body(weight, ids):
            gradcheck(f"gradcheck of Embedding, weight {weight.shape}, ids {ids.tolist()}",
                      _lookup(op, ids), weight)

        holds_for_all(what, _inputs(ids_shapes), body, max_examples)
    return run


CHECKS = [
    Check("forward", forward, "rows and columns swapped, ids of more than one axis"),
    Check("gradcheck: distinct ids", distinct_ids, "a wrong scatter, a forgotten reshape"),
    Check("property: repeated ids", _property(
        "Embedding's gradient adds up the rows of repeated ids",
        st.integers(2, 6).map(lambda n: (n,))),
        "dW[ids] = G or dW[ids] += G, which keep one gradient per repeated id"),
    Check("property: ids of any shape", _property(
        "Embedding for ids of any shape (0-d, 1-d, 2-d)", strategies.shapes(max_dims=2)),
        "a backward that assumes 1-d ids"),
]

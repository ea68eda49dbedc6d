"""Checks of exercise 3: MatMul with batches and 1-d operands."""

import numpy
from hypothesis import strategies as st

from .. import strategies
from ..checker import Check, expect_close, gradcheck, gradgradcheck, holds_for_all, leaf, need

FORWARD_CASES = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)),
                 ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2))]


def forward(solution, max_examples):
    matmul = need(solution, "MatMul")
    rng = numpy.random.default_rng(0)
    for shape_a, shape_b in FORWARD_CASES:
        a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
        expect_close(f"MatMul forward with shapes {shape_a} @ {shape_b}",
                     matmul.apply(leaf(a), leaf(b)), a @ b)


def _gradcheck(shape_a, shape_b, seed):
    def run(solution, max_examples):
        matmul = need(solution, "MatMul")
        rng = numpy.random.default_rng(seed)
        gradcheck(f"gradcheck of MatMul with shapes {shape_a} @ {shape_b}", matmul.apply,
                  rng.normal(size=shape_a), rng.normal(size=shape_b))
    return run


def batches_and_vectors(solution, max_examples):
    matmul = need(solution, "MatMul")
    inputs = strategies.matmul_shapes().flatmap(lambda shapes: st.fixed_dictionaries({
        "a": strategies.values(shapes[0]), "b": strategies.values(shapes[1])}))

    def body(a, b):
        gradcheck(f"gradcheck of MatMul with shapes {a.shape} @ {b.shape}", matmul.apply, a, b)

    holds_for_all("MatMul's gradients for broadcast batches and 1-d vectors", inputs, body,
                  max_examples)


def second_derivatives(solution, max_examples):
    matmul = need(solution, "MatMul")
    rng = numpy.random.default_rng(3)
    gradgradcheck("gradgradcheck of MatMul with shapes (2, 3) @ (3, 2)", matmul.apply,
                  rng.normal(size=(2, 3)), rng.normal(size=(3, 2)))


CHECKS = [
    Check("forward", forward, "1-d operands or batch broadcasting not handled in the forward"),
    Check("gradcheck: 2-d", _gradcheck((3, 4), (4, 2), 1),
          "a missing transpose, operands in the wrong order"),
    Check("gradcheck: batched", _gradcheck((2, 3, 4), (2, 4, 5), 2),
          ".T (all axes reversed) where only the last two axes should swap"),
    Check("property: broadcast batches and 1-d vectors", batches_and_vectors,
          "no sum over a broadcast batch axis; 1-d operands in the backward"),
    Check("gradgradcheck", second_derivatives, "a backward on raw arrays"),
]

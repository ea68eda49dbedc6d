"""Checks of exercise 2: sum_to_shape, and BroadcastMul's gradients through it."""

import numpy
from hypothesis import strategies as st

from .. import strategies
from ..checker import Check, expect_close, gradcheck, holds_for_all, leaf, need


def reference(grad, shape):
    """NumPy's answer: sum the added leading axes, then the stretched size-1 axes."""
    leading = grad.ndim - len(shape)
    summed = grad.sum(axis=tuple(range(leading)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and summed.shape[i] != 1)
    return summed.sum(axis=stretched, keepdims=True).reshape(shape)


def _values_match(sum_to_shape, big, small, seed=0):
    grad = numpy.random.default_rng(seed).normal(size=big)
    expect_close(f"sum_to_shape(grad of shape {big}, {small})",
                 sum_to_shape(leaf(grad), small), reference(grad, small))


def two_patterns(solution, max_examples):
    sum_to_shape = need(solution, "sum_to_shape")
    _values_match(sum_to_shape, (2, 3, 4), (3, 4))  # a leading axis added
    _values_match(sum_to_shape, (2, 3, 4), (2, 1, 4))  # an axis stretched from 1


def broadcast_mul(solution, max_examples):
    mul = need(solution, "BroadcastMul")
    rng = numpy.random.default_rng(1)
    a = rng.normal(size=(2, 3, 4))
    for shape in [(3, 4), (2, 1, 4)]:
        gradcheck(f"gradcheck of BroadcastMul with shapes (2, 3, 4) and {shape}", mul.apply, a,
                  rng.normal(size=shape))


def every_pattern(solution, max_examples):
    sum_to_shape, mul = need(solution, "sum_to_shape", "BroadcastMul")
    inputs = strategies.broadcast_pair().flatmap(lambda shapes: st.fixed_dictionaries({
        "a": strategies.values(shapes[0]), "b": strategies.values(shapes[1])}))

    def body(a, b):
        _values_match(sum_to_shape, a.shape, b.shape)
        gradcheck(f"gradcheck of BroadcastMul with shapes {a.shape} and {b.shape}",
                  mul.apply, a, b)
        gradcheck(f"gradcheck of BroadcastMul with shapes {b.shape} and {a.shape}",
                  mul.apply, b, a)

    holds_for_all("sum_to_shape undoes every broadcast pattern", inputs, body, max_examples)


CHECKS = [
    Check("values on two patterns", two_patterns,
          "an added leading axis or a stretched size-1 axis left unsummed"),
    Check("gradcheck: broadcast multiply", broadcast_mul, "a gradient of the wrong shape"),
    Check("property: every broadcast pattern", every_pattern,
          "an off-by-one between input axes and gradient axes, 0-d shapes, axes both added "
          "and stretched"),
]

"""Hypothesis strategies for the exercises' properties: small shapes (size-1 axes and 0-d
included), values of both signs, and the inputs where a subtly wrong backward still passes
one random test: broadcast patterns, ties, repeated indices.

Each strategy draws a dict of named NumPy inputs, so a failure can be printed by name.
"""

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 3  # gradcheck costs two forward passes per input element: keep tensors small


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def values(shape, low=-3.0, high=3.0):
    """float64 arrays of ``shape`` in [low, high] (negative values, zeros and repeats too)."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False,
                         allow_subnormal=False)
    return hnp.arrays(numpy.float64, shape, elements=elements)


@st.composite
def broadcast_pair(draw, max_dims=3):
    """(big, small): shapes where ``small`` broadcasts to ``big``, drawn to cover every
    pattern: leading axes added (up to all of them: 0-d), axes stretched from size 1, both."""
    big = draw(shapes(min_dims=0, max_dims=max_dims))
    added = draw(st.integers(0, len(big)))
    stretched = draw(st.lists(st.booleans(), min_size=len(big) - added,
                              max_size=len(big) - added))
    small = tuple(1 if squash else side for side, squash in zip(big[added:], stretched))
    return big, small


@st.composite
def distinct(draw, shape, scale=0.5):
    """Values all different from each other (at least ``scale`` apart): no ties."""
    size = int(numpy.prod(shape))
    integers = draw(hnp.arrays(numpy.int64, (size,), elements=st.integers(-30, 30),
                               unique=True))
    return (integers * scale).reshape(shape).astype(numpy.float64)


@st.composite
def matmul_shapes(draw):
    """(shape of a, shape of b) for a @ b: batch axes that broadcast either way (added or
    stretched from 1), sizes 1 to 3, and 1-d vectors on either side."""
    big, small = draw(broadcast_pair(max_dims=2))
    batch_a, batch_b = (big, small) if draw(st.booleans()) else (small, big)
    m, n, p = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    shape_a = (n,) if not batch_a and draw(st.booleans()) else batch_a + (m, n)
    shape_b = (n,) if not batch_b and draw(st.booleans()) else batch_b + (n, p)
    return shape_a, shape_b

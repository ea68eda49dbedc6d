"""Hypothesis strategies shared by the op tests: shapes, broadcastable shapes, reduction axes and
input values that keep finite differences honest.

A central difference (f(x + eps) - f(x - eps)) / 2 eps is only right where f is smooth on
[x - eps, x + eps]. Two kinds of points break that, and the strategies stay away from both:

- kinks (relu and abs at 0, clip at its bounds): ``away_from`` moves every value closer than
  ``KINK_MARGIN`` = 1e-2 to a kink out to exactly 1e-2 from it, on its own side;
- ties (max, min, maximum, minimum: which input wins jumps when two values are equal):
  ``distinct_arrays`` draws distinct integers and scales them by 0.1, so any two values
  differ by at least 0.1.

Domains are respected by the ``low``/``high`` bounds the op table passes (log, sqrt and a
tensor-valued pow base positive; divisors kept away from 0).
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 3  # small tensors: gradcheck costs two forward passes per input element
MAX_DIMS = 3
KINK_MARGIN = 1e-2
TIE_SCALE = 0.1


def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    """Array shapes, 0-d (a scalar, shape ()) included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """A tuple of ``num_shapes`` shapes that broadcast together, e.g. ((2, 1, 3), (3,))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1,
        max_side=max_side,
    ).map(lambda drawn: drawn.input_shapes)


def away_from(values, kinks, margin=KINK_MARGIN):
    """``values`` with every element closer than ``margin`` to a kink moved to kink +- margin.

    The element stays on its own side of the kink (an element exactly on it goes to the plus
    side). Kinks passed together must be more than 2 * margin apart.
    """
    values = np.array(values, dtype=np.float64)
    for kink in kinks:
        offset = values - kink
        close = np.abs(offset) < margin
        values[close] = kink + np.where(offset[close] >= 0, margin, -margin)
    return values


@st.composite
def arrays(draw, shape, low=-3.0, high=3.0, kinks=(), margin=KINK_MARGIN):
    """float64 arrays of ``shape`` with values in [low, high], kept ``margin`` off ``kinks``."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    values = draw(hnp.arrays(np.float64, shape, elements=elements))
    return away_from(values, kinks, margin)


@st.composite
def distinct_arrays(draw, shapes_, scale=TIE_SCALE):
    """One float64 array per shape in ``shapes_``, no value repeated across all of them.

    The values are distinct integers in [-40, 40] times ``scale`` (a wider range when more
    than 81 values are needed): max/min have one winner, and maximum(a, b) never sees a == b,
    even after broadcasting.
    """
    sizes = [int(np.prod(shape)) for shape in shapes_]
    bound = max(40, (sum(sizes) + 1) // 2)
    integers = draw(hnp.arrays(np.int64, (sum(sizes),), elements=st.integers(-bound, bound),
                               unique=True))
    pieces = np.split(integers * scale, np.cumsum(sizes)[:-1])
    return [piece.reshape(shape) for piece, shape in zip(pieces, shapes_)]


@st.composite
def reduction_axes(draw, ndim, allow_empty=True):
    """An ``axis`` argument for a tensor of ``ndim`` dims, in every form NumPy accepts:
    None (all axes), an int (maybe negative), or a tuple of distinct axes (maybe negative,
    maybe empty when ``allow_empty``: reduce over nothing)."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()] if allow_empty else [None]))
    as_int = st.integers(-ndim, ndim - 1)
    as_tuple = st.lists(st.integers(0, ndim - 1), unique=True, min_size=0 if allow_empty else 1,
                        max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes]))
    return draw(st.one_of(st.none(), as_int, as_tuple))


def normalized(axis, ndim):
    """``axis`` (None, int or tuple, maybe negative) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim for a in axes))

"""Checks of exercise 8: scaled dot-product attention, backward by hand."""

import numpy
from hypothesis import strategies as st

from .. import strategies
from ..checker import Check, expect_close, gradcheck, holds_for_all, leaf, need


def reference(q, k, v):
    scores = q @ k.swapaxes(-1, -2) / numpy.sqrt(q.shape[-1])
    weights = numpy.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True) @ v


def _random(shapes, seed):
    rng = numpy.random.default_rng(seed)
    return [rng.normal(size=shape) for shape in shapes]


def forward(solution, max_examples):
    attention = need(solution, "Attention")
    for shapes in [((3, 4), (5, 4), (5, 2)), ((2, 3, 4), (2, 5, 4), (2, 5, 2))]:
        q, k, v = _random(shapes, 0)
        expect_close(f"Attention forward, Q {q.shape}, K {k.shape}, V {v.shape}",
                     attention.apply(leaf(q), leaf(k), leaf(v)), reference(q, k, v))
    q, k, v = _random(((2, 4), (3, 4), (3, 2)), 1)
    expect_close("Attention forward with scores near 1e3 (stability)",
                 attention.apply(leaf(q * 30), leaf(k * 30), leaf(v)), reference(q * 30, k * 30, v))


def gradcheck_unbatched(solution, max_examples):
    attention = need(solution, "Attention")
    gradcheck("gradcheck of Attention, Q (3, 4), K (5, 4), V (5, 2) (inputs 0, 1, 2)",
              attention.apply, *_random(((3, 4), (5, 4), (5, 2)), 2))


@st.composite
def _inputs(draw):
    batch = draw(strategies.shapes(max_dims=2, max_side=2))
    tq, tk, d, dv = (draw(st.integers(1, 3)) for _ in range(4))
    return {"q": draw(strategies.values(batch + (tq, d))),
            "k": draw(strategies.values(batch + (tk, d))),
            "v": draw(strategies.values(batch + (tk, dv)))}


def batches_and_sizes(solution, max_examples):
    attention = need(solution, "Attention")

    def body(q, k, v):
        gradcheck(f"gradcheck of Attention, Q {q.shape}, K {k.shape}, V {v.shape}",
                  attention.apply, q, k, v)

    holds_for_all("Attention for any batch axes and sizes", _inputs(), body, max_examples)


CHECKS = [
    Check("forward", forward, "the scale forgotten, a softmax over the wrong axis, overflow"),
    Check("gradcheck", gradcheck_unbatched,
          "the softmax backward's subtracted term, the scale s in dQ and dK, a transpose"),
    Check("property: batch axes and sizes", batches_and_sizes,
          ".T where only the last two axes should swap; sizes of 1"),
]

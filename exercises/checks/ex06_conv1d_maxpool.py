"""Checks of exercise 6: Conv1d by im2col, MaxPool1d with the first-maximum rule for ties."""

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import strategies
from ..checker import Check, expect_close, gradcheck, holds_for_all, host, leaf, need


def reference_conv(x, w):
    kernel = w.shape[2]
    windows = numpy.lib.stride_tricks.sliding_window_view(x, kernel, axis=2)  # (N, C, Lo, K)
    return numpy.einsum("nclk,ock->nol", windows, w)


def reference_pool(x, kernel):
    n, c, length = x.shape
    return x[:, :, :length // kernel * kernel].reshape(n, c, -1, kernel).max(axis=-1)


def reference_pool_grad(x, kernel, upstream):
    """The upstream gradient of each window, all of it at the window's first maximum."""
    n, c, length = x.shape
    windows = x[:, :, :length // kernel * kernel].reshape(n, c, -1, kernel)
    first = numpy.arange(kernel) == windows.argmax(axis=-1)[..., None]
    grad = numpy.zeros_like(x)
    grad[:, :, :length // kernel * kernel] = (first * upstream[..., None]).reshape(n, c, -1)
    return grad


def conv_forward(solution, max_examples):
    conv = need(solution, "Conv1d")
    rng = numpy.random.default_rng(0)
    x, w = rng.normal(size=(2, 3, 7)), rng.normal(size=(4, 3, 3))
    expect_close("Conv1d forward, x (2, 3, 7), w (4, 3, 3)", conv.apply(leaf(x), leaf(w)),
                 reference_conv(x, w))


def conv_gradcheck(solution, max_examples):
    conv = need(solution, "Conv1d")
    rng = numpy.random.default_rng(1)
    gradcheck("gradcheck of Conv1d, x (2, 3, 6), w (4, 3, 3) (inputs 0, 1)", conv.apply,
              rng.normal(size=(2, 3, 6)), rng.normal(size=(4, 3, 3)))


@st.composite
def _conv_inputs(draw):
    n, c, o = (draw(st.integers(1, 2)) for _ in range(3))
    length = draw(st.integers(1, 5))
    kernel = draw(st.integers(1, length))
    return {"x": draw(strategies.values((n, c, length))),
            "w": draw(strategies.values((o, c, kernel)))}


def conv_shapes(solution, max_examples):
    conv = need(solution, "Conv1d")

    def body(x, w):
        expect_close(f"Conv1d forward, x {x.shape}, w {w.shape}", conv.apply(leaf(x), leaf(w)),
                     reference_conv(x, w))
        gradcheck(f"gradcheck of Conv1d, x {x.shape}, w {w.shape}", conv.apply, x, w)

    holds_for_all("Conv1d for any sizes (K = 1 and K = L included)", _conv_inputs(), body,
                  max_examples)


def _pool(op, kernel):
    return lambda x: op.apply(x, kernel=kernel)


def pool_forward(solution, max_examples):
    pool = need(solution, "MaxPool1d")
    x = numpy.random.default_rng(2).normal(size=(2, 3, 7))
    for kernel in (2, 3):
        expect_close(f"MaxPool1d forward, x (2, 3, 7), kernel {kernel}",
                     _pool(pool, kernel)(leaf(x)), reference_pool(x, kernel))


def pool_gradcheck(solution, max_examples):
    pool = need(solution, "MaxPool1d")
    x = numpy.random.default_rng(3).permutation(42).reshape(2, 3, 7) * 0.1  # no ties
    gradcheck("gradcheck of MaxPool1d, x (2, 3, 7) with distinct values, kernel 2",
              _pool(pool, 2), x)


@st.composite
def _tied_inputs(draw):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 7)))
    kernel = draw(st.integers(1, shape[2]))
    x = draw(hnp.arrays(numpy.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.0])))
    upstream = draw(strategies.values(reference_pool(x, kernel).shape, 0.5, 2.0))
    return {"x": x, "kernel": kernel, "upstream": upstream}


def pool_ties(solution, max_examples):
    pool = need(solution, "MaxPool1d")

    def body(x, kernel, upstream):
        tensor = leaf(x)
        out = pool.apply(tensor, kernel=kernel)
        expect_close(f"MaxPool1d forward, kernel {kernel}", out, reference_pool(x, kernel))
        out.backward(leaf(upstream).detach())
        expect_close(f"MaxPool1d gradient with ties, kernel {kernel} (all of each window's "
                     "gradient to its first maximum)", host(tensor.grad),
                     reference_pool_grad(x, kernel, upstream))

    holds_for_all("MaxPool1d with tied maxima sends each window's gradient to one element",
                  _tied_inputs(), body, max_examples)


CHECKS = [
    Check("forward: conv1d", conv_forward, "an output length off by one, a wrong flattening"),
    Check("gradcheck: conv1d", conv_gradcheck,
          "col2im that assigns instead of adding, dw flattened in another order than w"),
    Check("property: conv1d shapes", conv_shapes, "sizes assumed (K > 1, N > 1, L > K)"),
    Check("forward: max pool", pool_forward, "the remainder not dropped, windows overlapping"),
    Check("gradcheck: max pool", pool_gradcheck, "the gradient sent to the wrong position"),
    Check("property: max pool with ties", pool_ties,
          "a tied window's gradient given to every maximum (counted twice)"),
]

"""conv2d / conv_transpose2d / unfold / fold beyond the op table (which gradchecks,
gradgradchecks and compares every one of them with a loop reference): the adjoint identity,
hand-computed values, the im2col memory bound, the layers, and bad input."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
import tinygrad_course.functional as F
from tinygrad_course import nn
from tinygrad_course.errors import ShapeError


@st.composite
def adjoint_case(draw):
    """x, w, y and the conv2d arguments, with output_padding chosen so conv_transpose2d(y)
    has x's shape (every x size conv2d maps to y's size is reachable that way)."""
    groups = draw(st.sampled_from([1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    sizes = []
    for a in (0, 1):
        reach = dilation[a] * (kernel[a] - 1) + 1
        sizes.append(draw(st.integers(max(1, reach - 2 * padding[a]), 8)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, c_in, *sizes))
    w = rng.standard_normal((c_out, c_in // groups, *kernel))
    out = [(s + 2 * p - d * (k - 1) - 1) // st_ + 1
           for s, p, d, k, st_ in zip(sizes, padding, dilation, kernel, stride)]
    y = rng.standard_normal((2, c_out, *out))
    output_padding = tuple(s + 2 * p - ((o - 1) * st_ + d * (k - 1) + 1)
                           for s, p, o, st_, d, k in zip(sizes, padding, out, stride,
                                                         dilation, kernel))
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return x, w, y, params, output_padding


@settings(max_examples=60, deadline=None)
@given(case=adjoint_case())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for random x, y (float64)."""
    x, w, y, params, output_padding = case
    if max(s > 0 and e >= max(st_, d) for s, e, st_, d in
           zip((1, 1), output_padding, params["stride"], params["dilation"])):
        return  # sizes conv2d never produces from y's size by output_padding (PyTorch refuses)
    as64 = {"dtype": np.float64}
    conv = F.conv2d(tg.tensor(x, **as64), tg.tensor(w, **as64), **params).numpy()
    back = F.conv_transpose2d(tg.tensor(y, **as64), tg.tensor(w, **as64),
                              output_padding=output_padding, **params).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(conv * y), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_conv2d_values_by_hand():
    """A 3x3 image, a 2x2 kernel: each output is the dot product of a window and the kernel."""
    x = tg.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    w = tg.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[p, q] - x[p + 1, q + 1]
    np.testing.assert_array_equal(F.conv2d(x, w).numpy(), [[[[-4.0, -4.0], [-4.0, -4.0]]]])
    # stride 2 and zero padding 1: windows at (-1, -1), (-1, 1), (1, -1), (1, 1), where the
    # padding reads 0: 0 - x[0, 0], 0 - x[0, 2], 0 - x[2, 0], x[1, 1] - x[2, 2]
    np.testing.assert_array_equal(F.conv2d(x, w, stride=2, padding=1).numpy(),
                                  [[[[0.0, -2.0], [-6.0, -4.0]]]])


def test_depthwise_conv2d_filters_each_channel_alone():
    """groups = channels: channel c of the output sees only channel c of the input."""
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    w = np.random.default_rng(1).standard_normal((3, 1, 3, 3))
    y = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1, groups=3).numpy()
    for c in range(3):
        alone = F.conv2d(tg.tensor(x[:, c:c + 1]), tg.tensor(w[c:c + 1]), padding=1).numpy()
        np.testing.assert_allclose(y[:, c:c + 1], alone, rtol=1e-6)


def test_depthwise_and_dilated_gradients_and_second_derivatives():
    rng = np.random.default_rng(2)
    x = tg.tensor(rng.standard_normal((1, 4, 5, 6)), dtype=np.float64, requires_grad=True)
    w = tg.tensor(rng.standard_normal((8, 1, 2, 3)), dtype=np.float64, requires_grad=True)

    def f(a, b):
        return F.conv2d(a, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=4,
                        padding_mode="reflect")

    assert tg.gradcheck(f, x, w)
    assert tg.gradgradcheck(f, x, w)


def test_conv_transpose2d_doubles_the_size_and_matches_pytorch_formula():
    layer = nn.ConvTranspose2d(4, 2, kernel_size=4, stride=2, padding=1, seed=0)
    y = layer(tg.randn(3, 4, 7, 5))
    assert y.shape == (3, 2, 14, 10)  # (H - 1)*2 - 2 + 3 + 1 = 2H
    assert layer.weight.shape == (4, 2, 4, 4)


def test_unfold_then_fold_counts_how_many_windows_cover_each_pixel():
    ones = tg.ones(1, 1, 4, 4)
    covered = F.fold(F.unfold(ones, 3, padding=1), (4, 4), 3, padding=1).numpy()[0, 0]
    rows = np.array([2, 3, 3, 2])  # windows covering each row, same for columns
    np.testing.assert_array_equal(covered, np.outer(rows, rows))


def test_conv2d_backward_holds_at_most_two_im2col_buffers():
    """X_col (kept by forward) and dX_col, plus dL/dx and the gradient rows; measured from
    before the forward, so X_col counts. (The backward frees X_col once dL/dW is made, so at
    the peak only one of the two is alive.)"""
    n, c, h, o, k = 16, 8, 20, 4, 5
    cols_bytes = n * (h - k + 1) ** 2 * c * k * k * 4
    x = tg.randn(n, c, h, h, requires_grad=True)
    w = tg.randn(o, c, k, k, requires_grad=True)
    tracemalloc.start()
    try:
        y = F.conv2d(x, w)
        upstream = tg.ones(*y.shape)
        after_forward, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        y.backward(upstream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    working = peak - (after_forward - cols_bytes)  # X_col and what backward allocated
    others = x.data.nbytes + upstream.data.nbytes + w.data.nbytes + 2**16  # dx, rows, dW
    assert cols_bytes > 4 * others  # the bound below is about the im2col buffers
    assert working <= 2 * cols_bytes + others
    assert working <= 1.5 * cols_bytes + others  # in fact never both at once


def test_conv2d_forward_keeps_no_im2col_buffer_without_grad():
    x, w = tg.randn(4, 3, 8, 8, requires_grad=True), tg.randn(5, 3, 3, 3, requires_grad=True)
    kept = F.conv2d(x, w)._ctx.cols
    assert kept.shape == (4 * 6 * 6, 3 * 9)
    with tg.no_grad():
        assert F.conv2d(x, w)._ctx is None


# ----- the layers ---------------------------------------------------------------------------
def test_conv2d_layer_shapes_init_and_padding_modes():
    layer = nn.Conv2d(3, 6, kernel_size=(3, 5), padding="same", padding_mode="replicate",
                      seed=0)
    assert layer.weight.shape == (6, 3, 3, 5) and layer.bias.shape == (6,)
    bound = 1 / np.sqrt(3 * 3 * 5)
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.8 * bound  # drawn from the whole range
    assert layer(tg.randn(2, 3, 9, 7)).shape == (2, 6, 9, 7)
    assert layer(tg.randn(3, 9, 7)).shape == (6, 9, 7)  # unbatched
    grouped = nn.Conv2d(4, 8, 3, stride=2, groups=4, bias=False, seed=0)
    assert grouped.weight.shape == (8, 1, 3, 3) and grouped.bias is None
    assert grouped(tg.randn(1, 4, 9, 9)).shape == (1, 8, 4, 4)
    assert "groups=4" in repr(grouped) and "bias=False" in repr(grouped)


def test_padding_modes_match_numpy_pad():
    """A kernel that picks its top-left tap copies the padded image out (its first rows and
    columns): the padding must be numpy.pad's in the matching mode."""
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    top_left = np.zeros((1, 1, 3, 3))
    top_left[0, 0, 0, 0] = 1.0
    for mode, numpy_mode in [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")]:
        y = F.conv2d(tg.tensor(x), tg.tensor(top_left), padding=2, padding_mode=mode).numpy()
        padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode=numpy_mode)
        np.testing.assert_array_equal(y, padded[:, :, :5, :6])


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 2, 3, 3)), "channels"),
    (lambda: F.conv2d(tg.randn(1, 4, 5, 5), tg.randn(4, 2, 3, 3), groups=3), "groups"),
    (lambda: F.conv2d(tg.randn(1, 3, 2, 2), tg.randn(4, 3, 3, 3)), "smaller than the kernel"),
    (lambda: F.conv2d(tg.randn(3, 5), tg.randn(4, 3, 3, 3)), "expected input"),
    (lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 3, 3, 3), stride=0), "stride"),
    (lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 3, 3, 3), stride=2, padding="same"),
     "same"),
    (lambda: F.conv2d(tg.randn(1, 3, 2, 5), tg.randn(4, 3, 3, 3), padding=2,
                      padding_mode="reflect"), "too large"),
    (lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 3, 3, 3), padding=1,
                      padding_mode="mirror"), "padding_mode"),
    (lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 3, 3, 3), tg.randn(3)), "bias"),
    (lambda: F.conv_transpose2d(tg.randn(1, 3, 5, 5), tg.randn(3, 2, 3, 3), stride=2,
                                output_padding=2), "output_padding"),
    (lambda: F.fold(tg.randn(1, 9, 5), (4, 4), 3), "expected input"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "divisible by groups"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode"),
])
def test_bad_arguments_raise_a_shape_error_naming_the_op(call, message):
    with pytest.raises(ShapeError, match=message):
        call()

"""Conv1d and max-over-time pooling: forward against a plain loop, gradients (first and second)
against finite differences for drawn strides, dilations, paddings and lengths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import ShapeError
from tinygrad_course.ops.conv import conv1d, max_over_time


def loop_conv1d(x, w, b, stride, padding, dilation):
    """y[n, o, l] = b[o] + sum_{c,k} w[o, c, k] x_pad[n, c, l*stride + k*dilation], by loops."""
    if padding == "same":
        total = dilation * (w.shape[2] - 1)
        left, right = total // 2, total - total // 2
    else:
        left = right = padding
    x = np.pad(x, ((0, 0), (0, 0), (left, right)))
    out_length = (x.shape[2] - dilation * (w.shape[2] - 1) - 1) // stride + 1
    y = np.zeros((x.shape[0], w.shape[0], out_length))
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            for pos in range(out_length):
                for k in range(w.shape[2]):
                    y[n, o, pos] += w[o, :, k] @ x[n, :, pos * stride + k * dilation]
                y[n, o, pos] += b[o]
    return y


@st.composite
def conv_cases(draw):
    kernel = draw(st.integers(1, 3))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from([0, 1, 2] + (["same"] if stride == 1 else [])))
    reach = dilation * (kernel - 1) + 1
    length = draw(st.integers(max(1, reach - (0 if padding == "same" else 2 * padding)),
                              reach + 4))
    return kernel, stride, dilation, padding, length


@settings(max_examples=15)
@given(conv_cases())
def test_conv1d_matches_a_loop_and_gradcheck(case):
    kernel, stride, dilation, padding, length = case
    rng = np.random.default_rng(kernel * 100 + length)
    x = rng.standard_normal((2, 2, length))
    w = rng.standard_normal((3, 2, kernel))
    b = rng.standard_normal(3)
    y = conv1d(tg.tensor(x), tg.tensor(w), tg.tensor(b), stride, padding, dilation)
    np.testing.assert_allclose(y.numpy(), loop_conv1d(x, w, b, stride, padding, dilation),
                               rtol=1e-5, atol=1e-5)
    assert y.dtype == np.float32
    assert tg.gradcheck(lambda *t: conv1d(*t, stride=stride, padding=padding,
                                          dilation=dilation), x, w, b)


@pytest.mark.parametrize("stride, dilation, padding", [(1, 1, 0), (2, 2, 1), (3, 1, "valid")])
def test_conv1d_second_derivatives(stride, dilation, padding, rng):
    """The backward is made of convolutions, so it can be differentiated again."""
    x, w = rng.standard_normal((1, 2, 7)), rng.standard_normal((2, 2, 2))
    assert tg.gradgradcheck(lambda a, b: conv1d(a, b, stride=stride, padding=padding,
                                                dilation=dilation), x, w)


def test_conv1d_layer_init_unbatched_and_text_shapes(rng):
    conv = nn.Conv1d(8, 5, kernel_size=3, padding="same", seed=0)
    assert conv.weight.shape == (5, 8, 3) and conv.bias.shape == (5,)
    bound = 1 / np.sqrt(8 * 3)
    assert np.abs(conv.weight.numpy()).max() <= bound
    words = tg.tensor(rng.standard_normal((4, 11, 8)))  # (N, L, E) sentence of word vectors
    y = conv(words.transpose(0, 2, 1))
    assert y.shape == (4, 5, 11)
    single = conv(words[0].transpose(1, 0))
    np.testing.assert_allclose(single.numpy(), y.numpy()[0], rtol=1e-5, atol=1e-6)
    assert nn.Conv1d(8, 5, 3, bias=False).bias is None


def test_max_over_time_ignores_padding(rng):
    y_host = rng.standard_normal((2, 3, 5))
    y_host[0, :, 3:] = 50.0  # padding holds the largest values: it must not win
    y = tg.tensor(y_host, requires_grad=True)
    pooled = max_over_time(y, lengths=[3, 5])
    np.testing.assert_allclose(pooled.numpy(), [y_host[0, :, :3].max(-1), y_host[1].max(-1)],
                               rtol=1e-6)
    pooled.sum().backward()
    assert np.all(y.grad.numpy()[0, :, 3:] == 0)
    assert np.all(y.grad.numpy().sum(axis=2) == 1)  # one winner per (n, channel)
    assert tg.gradcheck(lambda t: max_over_time(t, [2, 4]), rng.standard_normal((2, 2, 4)))


def test_bad_input_is_named():
    with pytest.raises(ShapeError, match=r"conv1d: expected input .* got input \(2, 4, 9\)"):
        nn.Conv1d(3, 2, 3)(tg.zeros(2, 4, 9))
    with pytest.raises(ShapeError, match="shorter than the kernel's reach 5"):
        nn.Conv1d(3, 2, 3, dilation=2)(tg.zeros(2, 3, 4))
    with pytest.raises(ShapeError, match="padding='same' needs stride 1"):
        nn.Conv1d(3, 2, 3, stride=2, padding="same")(tg.zeros(2, 3, 9))
    with pytest.raises(ShapeError, match="max_over_time: expected 2 lengths"):
        max_over_time(tg.zeros(2, 3, 4), [0, 2])

"""Pooling, resizing, BatchNorm2d / GroupNorm and their layers, beyond the op table (which
gradchecks them and compares each with a loop reference): tie rule, known values, the
layers' arguments, and bad input."""

import numpy as np
import pytest

import tinygrad_course as tg
import tinygrad_course.functional as F
from tinygrad_course import nn
from tinygrad_course.errors import ShapeError


def test_max_pool2d_splits_tied_maxima_evenly_as_max_does():
    x = tg.tensor([[[[1.0, 3.0], [3.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.0, 0.5], [0.5, 0.0]]]])
    overlapping = tg.tensor([[[[5.0, 1.0, 5.0]]]], requires_grad=True)
    F.max_pool2d(overlapping, (1, 3), stride=1, padding=(0, 1)).sum().backward()
    # windows [-inf 5 1], [5 1 5], [1 5 -inf]: the middle window's tie is split
    np.testing.assert_array_equal(overlapping.grad.numpy(), [[[[1.5, 0.0, 1.5]]]])


def test_max_pool2d_crops_the_rows_a_tiling_window_cannot_fill():
    x = tg.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), [[[[6.0, 8.0], [16.0, 18.0]]]])


def test_avg_pool2d_counts_padding_or_not():
    x = tg.ones(1, 1, 2, 2)
    np.testing.assert_allclose(F.avg_pool2d(x, 3, stride=1, padding=1).numpy(),
                               np.full((1, 1, 2, 2), 4 / 9), rtol=1e-6)
    np.testing.assert_array_equal(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).numpy(),
                                  np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(F.avg_pool2d(x, 2, divisor_override=2).numpy(), [[[[2.0]]]])


def test_adaptive_avg_pool2d_to_one_cell_is_the_global_mean():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5))
    y = nn.AdaptiveAvgPool2d(1)(tg.tensor(x)).numpy()
    np.testing.assert_allclose(y[:, :, 0, 0], x.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    assert nn.AdaptiveAvgPool2d((None, 2))(tg.tensor(x)).shape == (2, 3, 7, 2)


def test_upsample_nearest_repeats_pixels_and_bilinear_keeps_constants():
    x = tg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(nn.Upsample(scale_factor=2)(x).numpy()[0, 0],
                                  np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))))
    constant = tg.full((1, 2, 3, 3), 7.0)
    for corners in (False, True):
        y = F.interpolate(constant, size=(5, 4), mode="bilinear", align_corners=corners)
        np.testing.assert_allclose(y.numpy(), 7.0, rtol=1e-6)
    corners = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(corners, [[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]])


def test_pixel_shuffle_and_unshuffle_are_inverse_layers():
    x = tg.randn(2, 8, 3, 5)
    up = nn.PixelShuffle(2)(x)
    assert up.shape == (2, 2, 6, 10)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(up).numpy(), x.numpy())


def test_pool_layers_and_flatten_build_a_lenet_shape():
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2, seed=0), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 16, 5, seed=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten())
    assert net(tg.randn(4, 1, 28, 28)).shape == (4, 16 * 5 * 5)


def test_batchnorm2d_normalises_each_channel_over_batch_and_pixels():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 5, 6)) * np.array([1.0, 5.0, 0.1])[:, None, None] + 2.0
    layer = nn.BatchNorm2d(3)
    y = layer(tg.tensor(x)).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    batch_var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), batch_var / (batch_var + 1e-5), rtol=1e-4)
    count = 4 * 5 * 6
    np.testing.assert_allclose(layer.running_var.numpy(),
                               0.9 + 0.1 * x.var(axis=(0, 2, 3)) * count / (count - 1), rtol=1e-5)
    layer.eval()
    np.testing.assert_allclose(layer(tg.tensor(x)).numpy(),
                               (x - layer.running_mean.numpy()[:, None, None])
                               / np.sqrt(layer.running_var.numpy()[:, None, None] + 1e-5),
                               rtol=1e-4, atol=1e-5)


def test_group_norm_normalises_each_group_of_each_example():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 3, 4)) * 3.0 + 1.0
    layer = nn.GroupNorm(3, 6)
    layer.weight.data = layer.weight.data * 2.0
    y = layer(tg.tensor(x)).numpy().reshape(2, 3, -1)
    groups = x.reshape(2, 3, -1)
    expected = 2.0 * (groups - groups.mean(-1, keepdims=True)) / np.sqrt(
        groups.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def test_group_norm_gradients_and_second_derivatives():
    x = tg.tensor(np.random.default_rng(3).standard_normal((2, 4, 2, 3)), dtype=np.float64,
                  requires_grad=True)
    layer = nn.GroupNorm(2, 4, dtype=np.float64)

    def with_weights(a, weight, bias):
        layer.weight, layer.bias = weight, bias  # the tensors gradcheck perturbs
        return layer(a)

    weight = tg.tensor([1.0, -2.0, 0.5, 3.0], dtype=np.float64, requires_grad=True)
    bias = tg.tensor([0.1, 0.2, -0.3, 0.0], dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(with_weights, x, weight, bias)
    assert tg.gradgradcheck(with_weights, x, weight, bias)


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(tg.randn(1, 1, 4, 4), 2, padding=2), "half the kernel"),
    (lambda: F.max_pool2d(tg.randn(1, 1, 1, 4), (2, 1), stride=1, padding=(1, 0),
                          dilation=(2, 1)), "only padding"),
    (lambda: F.max_pool2d(tg.randn(4, 4), 2), "expected input"),
    (lambda: F.avg_pool2d(tg.randn(1, 1, 2, 2), 3), "smaller than the window"),
    (lambda: F.interpolate(tg.randn(1, 1, 2, 2)), "exactly one"),
    (lambda: F.interpolate(tg.randn(1, 1, 2, 2), size=4, mode="bicubic"), "mode"),
    (lambda: F.interpolate(tg.randn(1, 1, 2, 2), size=4, align_corners=True), "align_corners"),
    (lambda: F.pixel_shuffle(tg.randn(1, 3, 2, 2), 2), "divisible"),
    (lambda: nn.BatchNorm2d(3)(tg.randn(2, 3, 4)), "BatchNorm2d"),
    (lambda: nn.GroupNorm(4, 6), "divisible"),
    (lambda: nn.GroupNorm(2, 4)(tg.randn(2, 6, 3)), "GroupNorm"),
])
def test_bad_arguments_raise_a_shape_error_naming_the_op(call, message):
    with pytest.raises(ShapeError, match=message):
        call()


def test_batchnorm2d_gradients_and_second_derivatives_in_training_mode():
    x = tg.tensor(np.random.default_rng(4).standard_normal((3, 2, 2, 3)), dtype=np.float64,
                  requires_grad=True)
    layer = nn.BatchNorm2d(2, dtype=np.float64)
    assert tg.gradcheck(layer, x)
    assert tg.gradgradcheck(layer, x)

"""Layers: forward against the formula in NumPy, gradients against finite differences
(check_module_gradients, float64), initialisation, train/eval behaviour and bad input."""

import math

import numpy as np
import pytest
from helpers_nn import check_module_gradients
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import erf

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import DTypeError, GradcheckError, ShapeError


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----- the helper itself must be able to fail ---------------------------------------------------
class _DoubledGradient(tg.Function):
    def forward(self, x):
        return x * 1.0

    def backward(self, grad):
        return grad * 2.0  # wrong on purpose


class _BuggyScale(nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(tg.ones(3))

    def forward(self, x):
        return x * _DoubledGradient.apply(self.gain)


def test_check_module_gradients_names_the_parameter_with_a_wrong_gradient():
    with pytest.raises(GradcheckError, match="0 = gain"):
        check_module_gradients(_BuggyScale(), randn(2, 3))


# ----- Linear -----------------------------------------------------------------------------------
def test_linear_forward_is_x_w_transpose_plus_b():
    layer = nn.Linear(3, 4, seed=0)
    x = randn(5, 3).astype(np.float32)
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(tg.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert layer(tg.tensor(randn(2, 7, 3))).shape == (2, 7, 4)  # any leading axes


def test_linear_init_is_uniform_in_plus_minus_one_over_sqrt_fan_in():
    layer = nn.Linear(256, 128, seed=0)
    bound = 1 / math.sqrt(256)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-a, a) has standard deviation a / sqrt(3): 32,768 draws pin it to within ~1%
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.02
    assert abs(w.mean()) < 0.01 * bound
    np.testing.assert_array_equal(nn.Linear(256, 128, seed=0).weight.numpy(), w)
    assert not np.array_equal(nn.Linear(256, 128, seed=1).weight.numpy(), w)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(bias):
    assert check_module_gradients(nn.Linear(3, 2, bias=bias, seed=0), randn(2, 2, 3))


def test_linear_rejects_wrong_feature_size_and_integer_input():
    layer = nn.Linear(3, 2)
    with pytest.raises(ShapeError, match=r"Linear: expected input of shape \(\.\.\., 3\), got "
                                         r"\(4, 5\)"):
        layer(tg.randn(4, 5))
    with pytest.raises(DTypeError, match="Linear: expected a floating input, got dtype int64"):
        layer(tg.tensor(np.ones((2, 3), dtype=np.int64)))


# ----- Dropout ----------------------------------------------------------------------------------
def test_dropout_zeroes_a_fraction_p_and_rescales_the_rest():
    x = tg.ones(200, 500)
    y = nn.Dropout(0.3, seed=0)(x).numpy()
    dropped = (y == 0).mean()
    assert abs(dropped - 0.3) < 0.01  # 100,000 Bernoulli draws: std of the fraction ~0.0015
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_gradient_is_the_same_mask_and_scale():
    x = tg.tensor(randn(6, 7) + 3.0, requires_grad=True)  # nonzero, so y / x is the factor
    y = nn.Dropout(0.5, seed=1)(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy() / x.numpy(), rtol=1e-6)


def test_dropout_is_the_identity_in_eval_and_at_p_zero_and_seeded():
    x = tg.tensor(randn(4, 5))
    layer = nn.Dropout(0.5, seed=0)
    assert layer.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros((4, 5)))
    a, b = nn.Dropout(0.5, seed=3)(x).numpy(), nn.Dropout(0.5, seed=3)(x).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


# ----- LayerNorm --------------------------------------------------------------------------------
def _random_affine(layer, seed):
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data = tg.tensor(rng.standard_normal(p.shape), dtype=p.dtype).data
    return layer


def test_layer_norm_matches_the_formula():
    layer = _random_affine(nn.LayerNorm((2, 3)), seed=1)
    x = randn(4, 2, 3) * 5 + 2
    mu = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    expected = (x - mu) / np.sqrt(var + 1e-5) * layer.weight.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(layer(tg.tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradients(affine):
    layer = nn.LayerNorm(4, elementwise_affine=affine)
    if affine:
        _random_affine(layer, seed=2)
    else:
        assert list(layer.parameters()) == []
    assert check_module_gradients(layer, randn(3, 4) * 2 + 1)


def test_layer_norm_second_derivatives():
    layer = _random_affine(nn.LayerNorm(3), seed=3).double()
    weight, bias = (tg.tensor(p.numpy(), dtype=np.float64, requires_grad=True)
                    for p in layer.parameters())
    from tinygrad_course.ops.normalization import layer_norm

    assert tg.gradgradcheck(lambda x, w, b: layer_norm(x, (3,), w, b), randn(2, 3), weight, bias)


def test_layer_norm_rejects_a_wrong_normalized_shape():
    with pytest.raises(ShapeError, match=r"LayerNorm: expected input of shape \(\.\.\., 4\), "
                                         r"got \(2, 3\)"):
        nn.LayerNorm(4)(tg.randn(2, 3))
    from tinygrad_course.ops.normalization import layer_norm

    with pytest.raises(ShapeError, match=r"layer_norm: expected input of shape \(\.\.\., \(4,\)\)"):
        layer_norm(tg.randn(2, 3), (4,))


# ----- BatchNorm1d ------------------------------------------------------------------------------
def test_batch_norm_training_uses_batch_statistics_and_updates_running_ones():
    layer = nn.BatchNorm1d(3, momentum=0.1)
    x = randn(8, 3) * np.array([1.0, 2.0, 3.0]) + np.array([0.0, 1.0, -2.0])
    y = layer(tg.tensor(x)).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=0), 1, rtol=1e-3)  # biased variance, eps = 1e-5
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.9 + 0.1 * x.var(axis=0, ddof=1),
                               rtol=1e-5)
    assert int(layer.num_batches_tracked.item()) == 1


def test_batch_norm_eval_uses_running_statistics():
    layer = nn.BatchNorm1d(2)
    layer.running_mean.data = tg.tensor([1.0, -1.0]).data
    layer.running_var.data = tg.tensor([4.0, 0.25]).data
    x = randn(5, 2, 3)  # (N, C, L): statistics per channel C
    y = layer.eval()(tg.tensor(x)).numpy()
    mean, var = np.array([1.0, -1.0])[:, None], np.array([4.0, 0.25])[:, None]
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-5, atol=1e-6)
    assert int(layer.num_batches_tracked.item()) == 0


@pytest.mark.parametrize("shape, training", [((5, 3), True), ((4, 3, 2), True),
                                             ((5, 3), False)])
def test_batch_norm_gradients(shape, training):
    layer = _random_affine(nn.BatchNorm1d(3), seed=4)
    layer.train(training)
    assert check_module_gradients(layer, randn(*shape, seed=5))


def test_batch_norm_rejects_wrong_shapes_and_single_examples():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ShapeError, match=r"BatchNorm1d: expected input of shape \(N, 3\)"):
        layer(tg.randn(4, 2))
    with pytest.raises(ShapeError, match="more than one value per channel"):
        layer(tg.randn(1, 3))


# ----- Embedding --------------------------------------------------------------------------------
def test_embedding_looks_up_rows_and_adds_gradients_of_repeated_ids():
    layer = nn.Embedding(6, 3, seed=0)
    ids = np.array([[1, 4, 1], [0, 1, 5]])
    out = layer(tg.tensor(ids))
    np.testing.assert_array_equal(out.numpy(), layer.weight.numpy()[ids])
    upstream = randn(2, 3, 3)
    out.backward(tg.tensor(upstream))
    expected = np.zeros((6, 3))
    np.add.at(expected, ids, upstream)  # scatter-add: id 1 gets three rows of gradient
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected, rtol=1e-6)
    assert not expected[[2, 3]].any()  # ids not in the batch get zero


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    layer = nn.Embedding(5, 2, padding_idx=-1, seed=0)
    assert layer.padding_idx == 4
    np.testing.assert_array_equal(layer.weight.numpy()[4], [0.0, 0.0])
    out = layer(tg.tensor([4, 2, 4]))
    (out * 3.0).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[4], [0.0, 0.0])
    np.testing.assert_allclose(layer.weight.grad.numpy()[2], [3.0, 3.0])


def test_embedding_gradients():
    assert check_module_gradients(nn.Embedding(4, 2, padding_idx=0, seed=1),
                                  np.array([[0, 3], [3, 1]]))


def test_embedding_init_is_standard_normal_and_seeded():
    w = nn.Embedding(200, 100, seed=0).weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    np.testing.assert_array_equal(nn.Embedding(200, 100, seed=0).weight.numpy(), w)


def test_embedding_rejects_bad_ids():
    layer = nn.Embedding(5, 2)
    with pytest.raises(DTypeError, match="Embedding: ids must be integers, got dtype float32"):
        layer(tg.tensor([1.0, 2.0]))
    with pytest.raises(ShapeError, match=r"ids must be in \[0, 5\), got values from -1 to 5"):
        layer(tg.tensor([-1, 5, 2]))
    with pytest.raises(ValueError, match=r"padding_idx must be in \[-5, 5\), got 5"):
        nn.Embedding(5, 2, padding_idx=5)


# ----- activations and shape layers -------------------------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


ACTIVATIONS = [
    ("ReLU", nn.ReLU(), lambda x: np.maximum(x, 0)),
    ("LeakyReLU", nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("Sigmoid", nn.Sigmoid(), _sigmoid),
    ("Tanh", nn.Tanh(), np.tanh),
    ("GELU", nn.GELU(), lambda x: x * 0.5 * (1 + erf(x / np.sqrt(2)))),
    ("GELU-tanh", nn.GELU("tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("Softmax", nn.Softmax(dim=-1), _softmax),
    ("LogSoftmax", nn.LogSoftmax(dim=-1), lambda x: np.log(_softmax(x))),
    ("Flatten", nn.Flatten(), lambda x: x.reshape(len(x), -1)),
    ("Identity", nn.Identity(), lambda x: x),
]


@pytest.mark.parametrize("name, module, reference", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_modules_match_numpy_and_finite_differences(name, module, reference):
    x = randn(3, 4, seed=7) * 2
    np.testing.assert_allclose(module(tg.tensor(x, dtype=np.float64)).numpy(), reference(x),
                               rtol=1e-7, atol=1e-10)
    assert check_module_gradients(module, x)


def test_activation_reprs_show_their_settings():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_flatten_merges_the_given_axes():
    x = tg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)


def test_a_whole_mlp_gradchecks():
    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.Tanh(), nn.LayerNorm(4),
                          nn.Linear(4, 2, seed=1), nn.LogSoftmax(dim=-1))
    assert check_module_gradients(model, randn(2, 3))


def test_embedding_padding_positions_give_zeros_whatever_the_padding_row_holds():
    # the output does not depend on the padding row, so its zero gradient is the true one
    layer = nn.Embedding(4, 3, padding_idx=1, seed=0)
    layer.weight.data[1] = 5.0
    out = layer(tg.tensor([[1, 2], [3, 1]]))
    np.testing.assert_array_equal(out.numpy()[0, 0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out.numpy()[1, 1], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out.numpy()[0, 1], layer.weight.numpy()[2])


def test_embedding_second_derivatives_through_the_padding_rule():
    from tinygrad_course.ops.embedding import embedding

    ids = tg.tensor(np.array([[0, 2, 2], [1, 0, 3]]))

    def fn(weight):
        return (embedding(ids, weight, padding_idx=0) ** 2).sum().reshape(1)

    weight = tg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    assert tg.gradcheck(fn, weight)
    assert tg.gradgradcheck(fn, weight)


@settings(max_examples=15, deadline=None)
@given(vocab=st.integers(1, 6), dim=st.integers(1, 3), shape=st.sampled_from([(3,), (2, 3)]),
       padding=st.booleans(), seed=st.integers(0, 10**6))
def test_embedding_op_gradcheck_on_random_ids(vocab, dim, shape, padding, seed):
    from tinygrad_course.ops.embedding import embedding

    rng = np.random.default_rng(seed)
    ids = tg.tensor(rng.integers(0, vocab, size=shape))
    padding_idx = int(rng.integers(0, vocab)) if padding else None
    weight = tg.tensor(rng.standard_normal((vocab, dim)), requires_grad=True, dtype=np.float64)

    def fn(weight):
        return embedding(ids, weight, padding_idx=padding_idx) * 1.5

    assert tg.gradcheck(fn, weight)

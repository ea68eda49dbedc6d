"""Issue 20: activations as modules, the functional forms of the layers, and the losses.

The op table (op_table.COMPOSED) checks each function's forward against NumPy, its gradient
and its second derivative on drawn inputs; the tests here check what the table does not:
the module forms, edge values, PyTorch's rules at kinks, and the errors.
"""

import math

import numpy as np
import pytest
from scipy import special

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course import nn
from tinygrad_course.errors import ArgumentError, DTypeError, ShapeError


def _grad(fn, values):
    x = tg.tensor(values, requires_grad=True, dtype=np.float64)
    fn(x).sum().backward()
    return x.grad.numpy()


# ----- activations -------------------------------------------------------------------------
X = np.array([-50.0, -2.0, -0.5, 0.0, 0.5, 2.0, 50.0])

MODULES = [
    (nn.SiLU(), lambda x: x * special.expit(x)),
    (nn.ELU(alpha=0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    (nn.SELU(), lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                        * np.expm1(x))),
    (nn.Softplus(beta=2.0, threshold=10.0),
     lambda x: np.where(2 * x > 10, x, np.logaddexp(0, 2 * x) / 2)),
    (nn.Mish(), lambda x: x * np.tanh(np.logaddexp(0, x))),
    (nn.Hardtanh(-0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0)),
    (nn.Softsign(), lambda x: x / (1 + np.abs(x))),
    (nn.LogSigmoid(), lambda x: -np.logaddexp(0, -x)),
]


@pytest.mark.parametrize("module,reference", MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_activation_modules_match_numpy_including_large_inputs(module, reference):
    y = module(tg.tensor(X, dtype=np.float64))
    np.testing.assert_allclose(y.numpy(), reference(X), rtol=1e-12, atol=1e-300)
    assert np.isfinite(_grad(module, X)).all()


def test_glu_module_splits_the_chosen_dim():
    x = np.arange(12.0).reshape(2, 6) / 10
    y = nn.GLU(dim=1)(tg.tensor(x, dtype=np.float64)).numpy()
    np.testing.assert_allclose(y, x[:, :3] * special.expit(x[:, 3:]))
    with pytest.raises(ShapeError, match="glu"):
        nn.GLU(dim=0)(tg.ones(3, 4))


def test_derivatives_at_the_kinks_follow_pytorch():
    at_zero = np.array([0.0])
    assert _grad(lambda x: F.elu(x, alpha=0.5), at_zero) == pytest.approx([0.5])
    assert _grad(F.softplus, at_zero) == pytest.approx([0.5])
    assert _grad(F.logsigmoid, at_zero) == pytest.approx([0.5])
    # hardtanh passes no gradient at its bounds (clip would pass it)
    np.testing.assert_array_equal(_grad(F.hardtanh, np.array([-1.0, 0.0, 1.0])), [0, 1, 0])


def test_softplus_second_derivative_at_zero_is_sigmoid_prime():
    x = tg.tensor([0.0], requires_grad=True, dtype=np.float64)
    (g,) = tg.grad(F.softplus(x, beta=2.0).sum(), [x], create_graph=True)
    (h,) = tg.grad(g.sum(), [x])
    assert h.numpy() == pytest.approx([2.0 * 0.25])  # beta sigma'(0)


def test_logsigmoid_and_softplus_keep_tiny_values_in_float64():
    big = tg.tensor([40.0], dtype=np.float64)
    assert F.logsigmoid(big).item() == pytest.approx(-math.exp(-40.0), rel=1e-6)
    assert F.softplus(-big).item() == pytest.approx(math.exp(-40.0), rel=1e-6)


def test_softplus_gradient_is_sigmoid_in_float32_where_one_plus_e_z_rounds():
    """d softplus / dz = sigmoid(z). Around z = -16, 1 + e^z is 1 plus a few float32 ulps;
    a log(1 + u) built from the rounded 1 + u got this gradient 25% wrong there."""
    z = np.linspace(-18.0, -14.0, 41)
    x = tg.tensor(z, requires_grad=True, dtype=np.float32)
    F.softplus(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), special.expit(z.astype(np.float32)), rtol=1e-6)


def test_activation_arguments_are_checked():
    with pytest.raises(ArgumentError, match="softplus"):
        F.softplus(tg.ones(2), beta=0.0)
    with pytest.raises(ArgumentError, match="hardtanh"):
        F.hardtanh(tg.ones(2), 1.0, -1.0)
    with pytest.raises(DTypeError, match="silu"):
        F.silu("x")


# ----- functional forms of the layers --------------------------------------------------------
def test_functional_forms_equal_their_layers():
    x = tg.randn(4, 3, seed=1)
    linear = nn.Linear(3, 2, seed=0)
    np.testing.assert_array_equal(F.linear(x, linear.weight, linear.bias).numpy(),
                                  linear(x).numpy())
    norm = nn.LayerNorm(3)
    np.testing.assert_array_equal(F.layer_norm(x, (3,), norm.weight, norm.bias).numpy(),
                                  norm(x).numpy())
    table = nn.Embedding(5, 2, padding_idx=4, seed=0)
    ids = tg.tensor([[0, 4], [3, 3]])
    np.testing.assert_array_equal(F.embedding(ids, table.weight, padding_idx=4).numpy(),
                                  table(ids).numpy())
    conv = nn.Conv1d(3, 4, 2, seed=0)
    signal = tg.randn(2, 3, 6, seed=2)
    np.testing.assert_array_equal(F.conv1d(signal, conv.weight, conv.bias).numpy(),
                                  conv(signal).numpy())


def test_functional_dropout_is_inverted_and_seeded():
    x = tg.ones(1000)
    y = F.dropout(x, p=0.25, generator=np.random.default_rng(0)).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.05
    again = F.dropout(x, p=0.25, generator=np.random.default_rng(0)).numpy()
    np.testing.assert_array_equal(y, again)
    assert F.dropout(x, p=0.9, training=False) is x
    with pytest.raises(ArgumentError, match="dropout"):
        F.dropout(x, p=1.5)


def test_functional_batch_norm_updates_running_statistics_and_uses_them_in_eval():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 5))
    mean, var = tg.zeros(3, dtype=np.float64), tg.ones(3, dtype=np.float64)
    F.batch_norm(tg.tensor(x, dtype=np.float64), mean, var, training=True, momentum=0.25)
    np.testing.assert_allclose(mean.numpy(), 0.25 * x.mean(axis=(0, 2)))
    np.testing.assert_allclose(var.numpy(), 0.75 + 0.25 * x.var(axis=(0, 2), ddof=1))
    y = F.batch_norm(tg.tensor(x, dtype=np.float64), mean, var, eps=0.0)
    expected = (x - mean.numpy()[:, None]) / np.sqrt(var.numpy()[:, None])
    np.testing.assert_allclose(y.numpy(), expected)
    with pytest.raises(ShapeError, match="batch_norm"):
        F.batch_norm(tg.ones(4, 3), tg.zeros(2), tg.ones(2))


def test_conv1d_padding_modes_pad_then_convolve():
    x = np.arange(10.0).reshape(1, 2, 5)
    for mode, numpy_mode in (("reflect", "reflect"), ("replicate", "edge"),
                             ("circular", "wrap")):
        conv = nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode, seed=0).double()
        padded = np.pad(x, [(0, 0), (0, 0), (2, 2)], mode=numpy_mode)
        plain = F.conv1d(tg.tensor(padded, dtype=np.float64), conv.weight, conv.bias)
        np.testing.assert_allclose(conv(tg.tensor(x, dtype=np.float64)).numpy(),
                                   plain.numpy())
    assert "padding_mode='reflect'" in repr(nn.Conv1d(2, 3, 3, padding=1,
                                                      padding_mode="reflect"))


def test_depthwise_conv1d_filters_each_channel_on_its_own():
    conv = nn.Conv1d(3, 3, 2, groups=3, bias=False, seed=0).double()
    assert conv.weight.shape == (3, 1, 2)
    x = np.random.default_rng(1).standard_normal((2, 3, 6))
    y = conv(tg.tensor(x, dtype=np.float64)).numpy()
    w = conv.weight.numpy()
    expected = w[None, :, 0, :1] * x[:, :, :-1] + w[None, :, 0, 1:] * x[:, :, 1:]
    np.testing.assert_allclose(y, expected)
    with pytest.raises(ShapeError, match="groups"):
        nn.Conv1d(4, 3, 2, groups=2)


def test_one_dimensional_pooling_layers():
    x = np.array([[[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 7.0]]])
    t = tg.tensor(x, dtype=np.float64)
    np.testing.assert_array_equal(nn.MaxPool1d(2)(t).numpy(), [[[5.0, 2.0, 4.0]]])
    np.testing.assert_array_equal(nn.MaxPool1d(3, stride=2, padding=1)(t).numpy(),
                                  [[[5.0, 5.0, 4.0, 7.0]]])
    np.testing.assert_allclose(nn.AvgPool1d(3, stride=2)(t).numpy(),
                               [[[8 / 3, 5 / 3, 14 / 3]]])
    np.testing.assert_allclose(nn.AvgPool1d(2, padding=1, count_include_pad=False)(t).numpy(),
                               [[[1.0, 3.5, 1.5, 5.5]]])
    # adaptive cells over 7 positions into 3: [0, 3), [2, 5), [4, 7)
    np.testing.assert_allclose(nn.AdaptiveAvgPool1d(3)(t).numpy(),
                               [[[8 / 3, 5 / 3, 14 / 3]]])
    assert nn.MaxPool1d(2)(tg.ones(3, 8)).shape == (3, 4)  # unbatched (C, L)
    with pytest.raises(ShapeError, match="max_pool1d"):
        F.max_pool1d(tg.ones(1, 1, 2, 2), 2)


def test_pad_follows_pytorchs_last_axis_first_order():
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    y = F.pad(x, (1, 0, 0, 2), value=-1.0).numpy()
    assert y.shape == (4, 4)
    np.testing.assert_array_equal(y[:2, 0], [-1, -1])
    np.testing.assert_array_equal(y[2:], -1)
    with pytest.raises(ShapeError, match="pad"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ShapeError, match="pad"):
        F.pad(x, (1,))
    with pytest.raises(ArgumentError, match="pad"):
        F.pad(x, (1, 1), mode="mirror")


def test_normalize_similarity_and_distance_at_zero_vectors_stay_finite():
    zero = tg.zeros(2, 3, dtype=np.float64, requires_grad=True)
    out = F.normalize(zero, dim=1) + F.cosine_similarity(zero, zero).reshape(2, 1)
    out.sum().backward()
    assert np.isfinite(zero.grad.numpy()).all()
    np.testing.assert_array_equal(out.numpy(), 0.0)
    same = tg.ones(2, 3, dtype=np.float64)
    np.testing.assert_allclose(F.pairwise_distance(same, same).numpy(), math.sqrt(3) * 1e-6)


# ----- losses ------------------------------------------------------------------------------------
def _pair(seed=0, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    return (tg.tensor(rng.standard_normal(shape), dtype=np.float64),
            tg.tensor(rng.standard_normal(shape), dtype=np.float64))


def test_loss_modules_call_their_functions_with_the_constructor_arguments():
    x, y = _pair()
    logits, labels = x, tg.tensor([0, 2, 1, 2])
    weight = [0.5, 1.0, 2.0]
    signs = tg.tensor([1.0, -1.0, -1.0, 1.0])
    cases = [
        (nn.CrossEntropyLoss(weight=weight, ignore_index=1, label_smoothing=0.1), (logits, labels),
         F.cross_entropy(logits, labels, tg.tensor(weight, dtype=np.float64), ignore_index=1,
                         label_smoothing=0.1)),
        (nn.NLLLoss(reduction="sum"), (logits.log_softmax(1), labels),
         F.nll_loss(logits.log_softmax(1), labels, reduction="sum")),
        (nn.MSELoss(reduction="none"), (x, y), F.mse_loss(x, y, reduction="none")),
        (nn.L1Loss(reduction="sum"), (x, y), F.l1_loss(x, y, reduction="sum")),
        (nn.BCELoss(), (x.sigmoid(), y.sigmoid()), F.binary_cross_entropy(x.sigmoid(),
                                                                          y.sigmoid())),
        (nn.BCEWithLogitsLoss(pos_weight=[1.0, 2.0, 3.0]), (x, y.sigmoid()),
         F.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=tg.tensor(
             [1.0, 2.0, 3.0], dtype=np.float64))),
        (nn.KLDivLoss(reduction="batchmean", log_target=True), (x.log_softmax(1),
                                                                y.log_softmax(1)),
         F.kl_div(x.log_softmax(1), y.log_softmax(1), "batchmean", log_target=True)),
        (nn.HuberLoss(delta=0.3), (x, y), F.huber_loss(x, y, delta=0.3)),
        (nn.SmoothL1Loss(beta=0.3), (x, y), F.smooth_l1_loss(x, y, beta=0.3)),
        (nn.HingeEmbeddingLoss(margin=0.5), (x[:, 0], signs),
         F.hinge_embedding_loss(x[:, 0], signs, margin=0.5)),
        (nn.MarginRankingLoss(margin=0.1), (x[:, 0], y[:, 0], signs),
         F.margin_ranking_loss(x[:, 0], y[:, 0], signs, margin=0.1)),
        (nn.CosineEmbeddingLoss(margin=0.2), (x, y, signs),
         F.cosine_embedding_loss(x, y, signs, margin=0.2)),
        (nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True), (x, y, x * 2),
         F.triplet_margin_loss(x, y, x * 2, margin=0.5, p=1.0, swap=True)),
        (nn.PoissonNLLLoss(log_input=False, full=True), (x.exp(), y.abs() * 3),
         F.poisson_nll_loss(x.exp(), y.abs() * 3, log_input=False, full=True)),
        (nn.GaussianNLLLoss(full=True), (x, y, y.exp()),
         F.gaussian_nll_loss(x, y, y.exp(), full=True)),
        (nn.CosineSimilarity(dim=0), (x, y), F.cosine_similarity(x, y, dim=0)),
        (nn.PairwiseDistance(p=1.0, keepdim=True), (x, y),
         F.pairwise_distance(x, y, p=1.0, keepdim=True)),
    ]
    for module, inputs, expected in cases:
        np.testing.assert_allclose(module(*inputs).numpy(), expected.numpy(), rtol=1e-6,
                                   err_msg=type(module).__name__)


def test_loss_module_weights_are_buffers_and_reductions_are_checked():
    criterion = nn.CrossEntropyLoss(weight=[1, 2, 3])
    assert criterion.weight.dtype == np.float32
    assert list(criterion.state_dict()) == ["weight"]
    assert list(criterion.parameters()) == []
    with pytest.raises(ValueError, match="MSELoss"):
        nn.MSELoss(reduction="average")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


def test_huber_is_delta_times_smooth_l1_with_beta_delta():
    x, y = _pair(1)
    for delta in (0.2, 1.0, 3.0):
        np.testing.assert_allclose(F.huber_loss(x, y, delta=delta).item(),
                                   delta * F.smooth_l1_loss(x, y, beta=delta).item())
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, beta=0.0).item(), F.l1_loss(x, y).item())


def test_gaussian_nll_clamps_the_variance_value_but_not_its_gradient():
    var = tg.tensor([1e-9, 2.0], requires_grad=True, dtype=np.float64)
    x, y = tg.tensor([0.0, 1.0], dtype=np.float64), tg.tensor([0.0, 0.0], dtype=np.float64)
    loss = F.gaussian_nll_loss(x, y, var, eps=1e-6, reduction="sum")
    assert loss.item() == pytest.approx(0.5 * (math.log(1e-6) + math.log(2.0) + 0.5))
    var_grad = var.grad if var.grad is not None else None
    assert var_grad is None
    loss.backward()
    # d/dv 0.5 (log v + d^2 / v) at the clamped value, flowing to var unchanged
    np.testing.assert_allclose(var.grad.numpy(), [0.5 / 1e-6, 0.5 / 2.0 - 0.5 / 4.0])
    with pytest.raises(ArgumentError, match="gaussian_nll_loss"):
        F.gaussian_nll_loss(x, y, tg.tensor([-1.0, 1.0]))
    with pytest.raises(ShapeError, match="gaussian_nll_loss"):
        F.gaussian_nll_loss(x, y, tg.ones(3))


def test_poisson_full_adds_stirlings_approximation_of_log_factorial():
    counts = np.array([0.0, 1.0, 5.0, 20.0])
    rate = tg.tensor(np.log(counts + 0.5), dtype=np.float64)
    full = F.poisson_nll_loss(rate, counts, full=True, reduction="none").numpy()
    plain = F.poisson_nll_loss(rate, counts, reduction="none").numpy()
    log_factorial = special.gammaln(counts + 1)
    # Stirling is close to log y! for y > 1, and nothing is added for y <= 1
    np.testing.assert_allclose((full - plain)[2:], log_factorial[2:], rtol=2e-2)
    np.testing.assert_array_equal((full - plain)[:2], 0.0)


def test_sign_labels_and_shapes_are_checked():
    x, y = _pair()
    with pytest.raises(ArgumentError, match="hinge_embedding_loss"):
        F.hinge_embedding_loss(x, tg.zeros(4, 3))
    with pytest.raises(ShapeError, match="cosine_embedding_loss"):
        F.cosine_embedding_loss(x, y, tg.ones(3))
    with pytest.raises(ShapeError, match="triplet_margin_loss"):
        F.triplet_margin_loss(x, y, tg.ones(4, 2))
    with pytest.raises(ArgumentError, match="huber_loss"):
        F.huber_loss(x, y, delta=0.0)
    with pytest.raises(ShapeError, match="margin_ranking_loss"):
        F.margin_ranking_loss(x, tg.ones(2), tg.ones(4, 3))


def test_cosine_embedding_loss_of_a_zero_vector_is_finite():
    zero = tg.zeros(2, 3, requires_grad=True, dtype=np.float64)
    loss = F.cosine_embedding_loss(zero, tg.ones(2, 3, dtype=np.float64), tg.tensor([1, -1]))
    loss.backward()
    assert loss.item() == pytest.approx(0.5)
    assert np.isfinite(zero.grad.numpy()).all()

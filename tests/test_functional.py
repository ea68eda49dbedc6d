"""functional: activations and losses against NumPy references (PyTorch's formulas), the
information-theory identities as property tests, gradchecks, and clear errors on bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course.errors import DTypeError, ShapeError


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def t64(x, requires_grad=False):
    return tg.tensor(x, dtype=np.float64, requires_grad=requires_grad)


def np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


# ----- activations ------------------------------------------------------------------------------
def test_sigmoid_with_temperature_is_sigmoid_of_x_over_tau():
    x = randn(10)
    for tau in (1.0, 0.5, 3.0):
        np.testing.assert_allclose(F.sigmoid(t64(x), temperature=tau).numpy(),
                                   1 / (1 + np.exp(-x / tau)), rtol=1e-12)
    assert tg.gradcheck(lambda v: F.sigmoid(v, temperature=0.3), x)
    with pytest.raises(ValueError, match="sigmoid: temperature must be > 0, got 0"):
        F.sigmoid(t64(x), temperature=0)


def test_soft_step_approaches_the_step_function_as_temperature_shrinks():
    """Outside +-delta, max |sigmoid(x / tau) - [x > 0]| = sigmoid(-delta / tau) -> 0."""
    delta = 0.1
    x = np.concatenate([np.linspace(-5, -delta, 500), np.linspace(delta, 5, 500)])
    step = (x > 0).astype(np.float64)
    distances = []
    for tau in (1.0, 0.3, 0.1, 0.03, 0.01):
        gap = np.abs(F.sigmoid(t64(x), temperature=tau).numpy() - step).max()
        np.testing.assert_allclose(gap, 1 / (1 + np.exp(delta / tau)), rtol=1e-9)
        distances.append(gap)
    assert all(a > b for a, b in zip(distances, distances[1:]))
    assert distances[-1] < 1e-4


def test_softmax_and_log_softmax_follow_dim():
    x = randn(3, 4)
    np.testing.assert_allclose(F.softmax(t64(x), dim=0).numpy(), np_softmax(x, 0), rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(t64(x)).numpy(), np_log_softmax(x), rtol=1e-12)


# ----- entropy, KL and cross-entropy: the identities -------------------------------------------
@st.composite
def distributions(draw):
    """(logits, p): logits (N, C) and target distributions p with some exact zeros."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * draw(st.sampled_from([0.5, 2.0, 5.0]))
    raw = rng.random((n, c)) * (rng.random((n, c)) > 0.3)
    raw[np.arange(n), rng.integers(0, c, n)] += 0.1  # never an all-zero row
    return logits, raw / raw.sum(axis=1, keepdims=True)


@settings(max_examples=25)
@given(distributions())
def test_cross_entropy_is_entropy_plus_kl(case):
    logits, p = case
    log_q = F.log_softmax(t64(logits))
    ce = F.cross_entropy(t64(logits), t64(p), reduction="none").numpy()
    h = F.entropy(t64(p)).numpy()
    kl = F.kl_div(log_q, t64(p), reduction="none").numpy().sum(axis=-1)
    np.testing.assert_allclose(ce, h + kl, rtol=1e-10, atol=1e-12)


@settings(max_examples=25)
@given(distributions())
def test_kl_is_nonnegative_and_zero_only_for_equal_distributions(case):
    logits, p = case
    q = np_softmax(logits)
    kl = F.kl_div(t64(np.log(q)), t64(p), reduction="none").numpy().sum(axis=-1)
    # Pinsker: KL(p || q) >= ||p - q||_1^2 / 2, so KL > 0 whenever p != q
    assert np.all(kl >= 0.5 * np.abs(p - q).sum(axis=-1) ** 2 - 1e-12)
    assert np.all(kl > 0) or np.any(np.abs(p - q).sum(axis=-1) < 1e-9)
    same = F.kl_div(t64(np.log(np.where(p > 0, p, 1.0))), t64(p), reduction="none")
    np.testing.assert_allclose(same.numpy().sum(axis=-1), 0.0, atol=1e-15)


def test_entropy_of_uniform_is_log_c_and_of_one_hot_is_zero():
    np.testing.assert_allclose(F.entropy(t64(np.full((2, 5), 0.2))).numpy(), np.log(5))
    one_hot = t64(np.eye(4)[[1, 3]], requires_grad=True)
    h = F.entropy(one_hot)
    np.testing.assert_array_equal(h.numpy(), [0.0, 0.0])  # 0 log 0 counts as 0
    h.sum().backward()
    assert np.all(np.isfinite(one_hot.grad.numpy()))
    p = np_softmax(randn(2, 3))
    assert tg.gradcheck(F.entropy, p)


# ----- cross-entropy against PyTorch's formulas -------------------------------------------------
def reference_cross_entropy(x, y, ignore_index=-100, smoothing=0.0, reduction="mean"):
    """PyTorch: (1 - eps) * nll + eps / C * (-sum_c log q_c), ignored labels masked out,
    "mean" over the labels counted. Class axis 1 (or 0 for one example)."""
    axis = 0 if x.ndim == 1 else 1
    logq = np.moveaxis(np_log_softmax(x, axis), axis, -1)
    counted = y != ignore_index
    picked = np.take_along_axis(logq, np.where(counted, y, 0)[..., None], -1)[..., 0]
    loss = ((1 - smoothing) * -picked + smoothing / x.shape[axis] * -logq.sum(-1)) * counted
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / counted.sum()


@pytest.mark.parametrize("shape", [(5,), (4, 5), (3, 5, 2), (2, 5, 2, 3)])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_with_class_indices_matches_pytorch(shape, reduction, smoothing):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    y = rng.integers(0, 5, target_shape)
    if y.ndim:
        y.reshape(-1)[0] = -100  # one ignored position
    got = F.cross_entropy(t64(x), y, reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(got.numpy(), reference_cross_entropy(x, y, -100, smoothing,
                                                                    reduction), rtol=1e-12)


def reference_weighted_cross_entropy(x, y, w, ignore_index=-100, smoothing=0.0,
                                     reduction="mean"):
    """PyTorch's weighted form, (N, C) logits: (1 - eps) w[y] (-log q_y) + eps / C
    sum_c w_c (-log q_c); "mean" divides by the sum of w[y] over the labels counted."""
    logq = np_log_softmax(x, 1)
    counted = y != ignore_index
    safe = np.where(counted, y, 0)
    picked = logq[np.arange(len(y)), safe]
    loss = ((1 - smoothing) * w[safe] * -picked
            + smoothing / x.shape[1] * -(w * logq).sum(1)) * counted
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / (w[safe] * counted).sum()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_class_weights_follow_pytorchs_formula(reduction, smoothing):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((6, 4)) * 2, rng.random(4) + 0.2
    y = np.array([0, 3, 3, -100, 1, 2])
    got = F.cross_entropy(t64(x), y, weight=t64(w), reduction=reduction,
                          label_smoothing=smoothing)
    np.testing.assert_allclose(got.numpy(), reference_weighted_cross_entropy(
        x, y, w, -100, smoothing, reduction), rtol=1e-12)
    if not smoothing:
        nll = F.nll_loss(t64(x).log_softmax(axis=1), y, weight=t64(w), reduction=reduction)
        np.testing.assert_allclose(nll.numpy(), got.numpy(), rtol=1e-12)
    assert tg.gradcheck(lambda logits: F.cross_entropy(
        logits, y, weight=t64(w), reduction=reduction, label_smoothing=smoothing), x)


def test_class_weights_with_probability_targets_and_spatial_inputs():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((3, 4, 2)), rng.random(4) + 0.5
    p = np_softmax(rng.standard_normal((3, 4, 2)), axis=1)
    expected = -(w[None, :, None] * p * np_log_softmax(x, axis=1)).sum(axis=1).mean()
    got = F.cross_entropy(t64(x), t64(p), weight=t64(w))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    labels = np.array([[0, 3], [2, 2], [1, -100]])
    picked = np.take_along_axis(np_log_softmax(x, axis=1), np.where(labels < 0, 0, labels)[:, None],
                                axis=1)[:, 0]
    counted = labels >= 0
    wy = w[np.where(counted, labels, 0)] * counted
    got = F.cross_entropy(t64(x), labels, weight=t64(w))
    np.testing.assert_allclose(got.numpy(), (wy * -picked).sum() / wy.sum(), rtol=1e-12)


def test_class_weights_match_torch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((5, 3)), rng.random(3) + 0.1
    y = np.array([2, 0, 1, 1, -100])
    for smoothing in (0.0, 0.25):
        want = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y),
                                                 weight=torch.from_numpy(w),
                                                 label_smoothing=smoothing).item()
        got = F.cross_entropy(t64(x), y, weight=t64(w), label_smoothing=smoothing).item()
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_bad_class_weights_are_named():
    with pytest.raises(ShapeError, match=r"cross_entropy: weight must have one entry per "
                                         r"class, shape \(4,\), got \(3,\)"):
        F.cross_entropy(tg.randn(2, 4), [0, 1], weight=tg.ones(3))
    with pytest.raises(ValueError, match="class weights of the counted targets sum to 0"):
        F.nll_loss(tg.randn(2, 3), [0, 1], weight=tg.tensor([0.0, 0.0, 1.0]))


def test_cross_entropy_with_probabilities_divides_by_the_number_of_distributions():
    x, p = randn(3, 4, 2), np_softmax(randn(3, 4, 2, seed=1), axis=1)
    per = -(p * np_log_softmax(x, axis=1)).sum(axis=1)
    np.testing.assert_allclose(F.cross_entropy(t64(x), t64(p)).numpy(), per.mean(), rtol=1e-12)
    smoothed = 0.7 * p + 0.3 / 4
    expected = -(smoothed * np_log_softmax(x, axis=1)).sum(axis=1).sum()
    got = F.cross_entropy(t64(x), t64(p), reduction="sum", label_smoothing=0.3)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_gradient_is_p_minus_y(smoothing):
    x, y = randn(6, 4), np.array([0, 3, 3, -100, 1, 2])
    logits = t64(x, requires_grad=True)
    F.cross_entropy(logits, y, label_smoothing=smoothing).backward()
    counted = y != -100
    target = (1 - smoothing) * np.eye(4)[np.where(counted, y, 0)] + smoothing / 4
    expected = (np_softmax(x) - target) * counted[:, None] / counted.sum()
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(logits.grad.numpy()[3], 0.0)  # the ignored row


def test_softmax_cross_entropy_gradient_with_soft_targets_is_p_minus_y():
    x, p = randn(5, 3), np_softmax(randn(5, 3, seed=2))
    logits = t64(x, requires_grad=True)
    F.cross_entropy(logits, t64(p), reduction="sum").backward()
    np.testing.assert_allclose(logits.grad.numpy(), np_softmax(x) - p, rtol=1e-10)


def test_nll_loss_picks_the_log_probability_of_the_true_class():
    logq, y = np_log_softmax(randn(4, 3)), np.array([2, 0, -1, 1])
    got = F.nll_loss(t64(logq), y, ignore_index=-1, reduction="none").numpy()
    np.testing.assert_allclose(got, [-logq[0, 2], -logq[1, 0], 0.0, -logq[3, 1]], rtol=1e-12)
    mean = F.nll_loss(t64(logq), y, ignore_index=-1).numpy()
    np.testing.assert_allclose(mean, got.sum() / 3, rtol=1e-12)
    x = randn(4, 3)
    np.testing.assert_allclose(F.cross_entropy(t64(x), [2, 0, 1, 1]).numpy(),
                               F.nll_loss(F.log_softmax(t64(x)), [2, 0, 1, 1]).numpy())


def test_ignore_index_may_be_a_real_class():
    x, y = randn(3, 4), np.array([0, 2, 0])
    got = F.cross_entropy(t64(x), y, ignore_index=0, reduction="sum").numpy()
    np.testing.assert_allclose(got, -np_log_softmax(x)[1, 2], rtol=1e-12)


# ----- kl_div, regression and binary losses -----------------------------------------------------
def test_kl_div_reductions_follow_pytorch():
    log_q, p = np_log_softmax(randn(4, 3)), np_softmax(randn(4, 3, seed=1))
    pointwise = p * (np.log(p) - log_q)
    for reduction, expected in [("none", pointwise), ("sum", pointwise.sum()),
                                ("mean", pointwise.mean()), ("batchmean", pointwise.sum() / 4)]:
        got = F.kl_div(t64(log_q), t64(p), reduction=reduction).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=reduction)
    with_log_target = F.kl_div(t64(log_q), t64(np.log(p)), reduction="sum", log_target=True)
    np.testing.assert_allclose(with_log_target.numpy(), pointwise.sum(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_mse_and_l1_match_numpy(reduction):
    x, y = randn(3, 4), randn(3, 4, seed=1)
    reduce = {"none": lambda v: v, "sum": np.sum, "mean": np.mean}[reduction]
    np.testing.assert_allclose(F.mse_loss(t64(x), t64(y), reduction).numpy(),
                               reduce((x - y) ** 2), rtol=1e-12)
    np.testing.assert_allclose(F.l1_loss(t64(x), t64(y), reduction).numpy(),
                               reduce(np.abs(x - y)), rtol=1e-12)


def test_binary_cross_entropy_matches_the_formula_and_clamps_logs_at_minus_100():
    p, y, w = _sigmoid(randn(5)), np.array([0.0, 1.0, 1.0, 0.3, 0.0]), randn(5, seed=3)
    expected = -w * (y * np.log(p) + (1 - y) * np.log(1 - p))
    got = F.binary_cross_entropy(t64(p), t64(y), weight=t64(w), reduction="none").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    edge = F.binary_cross_entropy(t64([0.0, 1.0, 0.0]), t64([1.0, 0.0, 0.0]), reduction="none")
    np.testing.assert_array_equal(edge.numpy(), [100.0, 100.0, 0.0])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_bce_with_logits_matches_bce_of_the_sigmoid():
    x, y = randn(6) * 3, np.array([0.0, 1.0, 0.5, 1.0, 0.0, 0.2])
    got = F.binary_cross_entropy_with_logits(t64(x), t64(y), reduction="none").numpy()
    np.testing.assert_allclose(got, -(y * np.log(_sigmoid(x)) + (1 - y) * np.log(1 - _sigmoid(x))),
                               rtol=1e-10)
    pos_weight = np.array([3.0])
    weighted = F.binary_cross_entropy_with_logits(t64(x), t64(y), pos_weight=t64(pos_weight),
                                                  reduction="none").numpy()
    expected = -(3.0 * y * np.log(_sigmoid(x)) + (1 - y) * np.log(1 - _sigmoid(x)))
    np.testing.assert_allclose(weighted, expected, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_exact_at_huge_logits(dtype):
    x = tg.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype, requires_grad=True)
    y = tg.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [0.0, 0.0, 1e4, 1e4])  # log(1 + e^-1e4) = 0
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0])  # sigmoid(x) - y


def test_bce_with_logits_gradient_is_sigmoid_minus_target():
    x, y = randn(7), np.random.default_rng(1).random(7)
    logits = t64(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(logits, t64(y), reduction="sum").backward()
    np.testing.assert_allclose(logits.grad.numpy(), _sigmoid(x) - y, rtol=1e-10)


# ----- gradchecks of every loss -----------------------------------------------------------------
LABELS = np.array([1, 0, 2, -100])
LOSSES = {
    "cross_entropy": (lambda x: F.cross_entropy(x, LABELS, label_smoothing=0.1), [randn(4, 3)]),
    "cross_entropy_3d": (lambda x: F.cross_entropy(x, np.array([[0, 2], [1, 1]])),
                         [randn(2, 3, 2)]),
    "cross_entropy_soft": (lambda x, p: F.cross_entropy(x, p.softmax(axis=-1)),
                           [randn(3, 4), randn(3, 4, seed=1)]),
    "nll_loss": (lambda x: F.nll_loss(x, LABELS, reduction="sum"), [randn(4, 3)]),
    "kl_div": (lambda x, p: F.kl_div(x, p.softmax(axis=-1), reduction="batchmean"),
               [randn(3, 4), randn(3, 4, seed=1)]),
    "mse_loss": (F.mse_loss, [randn(3, 2), randn(3, 2, seed=1)]),
    "l1_loss": (F.l1_loss, [randn(3, 2), randn(3, 2, seed=1)]),
    "binary_cross_entropy": (lambda x, y: F.binary_cross_entropy(x.sigmoid(), y),
                             [randn(5), np.random.default_rng(2).random(5)]),
    "bce_with_logits": (lambda x, y: F.binary_cross_entropy_with_logits(
        x, y, pos_weight=tg.tensor([2.0], dtype=np.float64)), [randn(5), np.linspace(0, 1, 5)]),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradients_match_finite_differences(name):
    fn, inputs = LOSSES[name]
    assert tg.gradcheck(fn, *inputs)


def test_cross_entropy_second_derivatives():
    assert tg.gradgradcheck(lambda x: F.cross_entropy(x, LABELS[:3]), randn(3, 3))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_fused_op_gradients_in_both_inputs_and_second_derivatives(reduction):
    x, y = randn(4, 3), randn(4, 3, seed=1)
    fn = lambda a, b: F.mse_loss(a, b, reduction=reduction)  # noqa: E731
    assert tg.gradcheck(fn, x, y)
    assert tg.gradgradcheck(fn, x, y)
    a, b = t64(x, requires_grad=True), t64(y, requires_grad=True)
    fn(a, b).backward()
    scale = 2 / x.size if reduction == "mean" else 2.0
    np.testing.assert_allclose(a.grad.numpy(), scale * (x - y), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), -scale * (x - y), rtol=1e-12)


@given(st.integers(1, 40), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_mse_loss_float32_agrees_with_a_float64_mean(size, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((size, 3)) * 10, rng.standard_normal((size, 3))
    got = F.mse_loss(tg.tensor(x, dtype=np.float32), tg.tensor(y, dtype=np.float32))
    assert got.dtype == np.float32 and got.shape == ()
    expected = ((x.astype(np.float32).astype(np.float64) - y.astype(np.float32)) ** 2).mean()
    np.testing.assert_allclose(float(got.item()), expected, rtol=1e-5)


@given(st.lists(st.integers(1, 4), min_size=0, max_size=3), st.sampled_from(["mean", "sum"]),
       st.integers(0, 2**31 - 1))
@settings(max_examples=25, deadline=None)
def test_mse_loss_gradcheck_on_any_shape(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    assert tg.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), x, y)


def test_mse_loss_names_inf_in_the_target_and_an_overflow():
    with pytest.raises(ValueError, match="mse_loss got inf in the target"):
        F.mse_loss(tg.tensor([1.0, 2.0]), tg.tensor([np.inf, 0.0]))
    with pytest.raises(ValueError, match="mse_loss: the loss overflowed"), \
            np.errstate(over="ignore"):
        F.mse_loss(tg.tensor([3e38, -3e38]), tg.tensor([-3e38, 3e38]))


# ----- bad input --------------------------------------------------------------------------------
BAD_INPUTS = [
    (lambda: F.cross_entropy(tg.randn(3, 4), [0, 1]), ShapeError,
     r"cross_entropy: input of shape \(3, 4\) needs class-index targets of shape \(3,\), "
     r"got \(2,\)"),
    (lambda: F.cross_entropy(tg.randn(3, 4), [0.0, 1.0, 2.0]), DTypeError,
     "cross_entropy: class-index targets must be integers, got dtype float32"),
    (lambda: F.cross_entropy(tg.randn(3, 4), [0, 4, 1]), ShapeError,
     r"cross_entropy: class labels must be in \[0, 4\).*got label 4"),
    (lambda: F.cross_entropy(tg.randn(3, 4), [0, -2, 1]), ShapeError, "got label -2"),
    (lambda: F.nll_loss(tg.randn(2, 3), [3, 0]), ShapeError, r"nll_loss: class labels must be"),
    (lambda: F.cross_entropy(tg.tensor([[0.0, np.nan]]), [0]), ValueError,
     r"cross_entropy got NaN in the input \(logits\)"),
    (lambda: F.cross_entropy(tg.tensor([[0.0, np.inf]]), [0]), ValueError,
     r"cross_entropy got inf in the input \(logits\)"),
    (lambda: F.mse_loss(tg.tensor([1.0, np.nan]), [0.0, 0.0]), ValueError,
     "mse_loss got NaN in the input"),
    (lambda: F.binary_cross_entropy_with_logits(tg.tensor([np.nan]), [1.0]), ValueError,
     "binary_cross_entropy_with_logits got NaN"),
    (lambda: F.kl_div(tg.tensor([-np.inf, 0.0]), [0.5, 0.5]), ValueError, "kl_div got inf"),
    (lambda: F.cross_entropy(tg.randn(2, 3), [-100, -100]), ValueError,
     "every target equals ignore_index"),
    (lambda: F.cross_entropy(tg.randn(2, 3), [0, 1], reduction="avg"), ValueError,
     r"cross_entropy: reduction must be one of \('none', 'mean', 'sum'\), got 'avg'"),
    (lambda: F.cross_entropy(tg.randn(2, 3), [0, 1], label_smoothing=1.5), ValueError,
     "label_smoothing must be in"),
    (lambda: F.cross_entropy(tg.tensor(1.0), 0), ShapeError, "cross_entropy: input must be"),
    (lambda: F.mse_loss(tg.randn(3), tg.randn(4)), ShapeError,
     r"mse_loss: input has shape \(3,\) but target has shape \(4,\)"),
    (lambda: F.l1_loss(tg.randn(3), tg.tensor([1, 2, 3])), DTypeError,
     "l1_loss: target must be floating"),
    (lambda: F.binary_cross_entropy(tg.tensor([0.5, 1.5]), [1.0, 0.0]), ValueError,
     r"binary_cross_entropy: input must be probabilities in \[0, 1\], got values from 0.5 to "
     "1.5"),
    (lambda: F.kl_div(tg.randn(2, 3), tg.randn(2, 3), reduction="batch"), ValueError,
     "kl_div: reduction must be one of"),
    (lambda: F.one_hot([0, 3], 3), ShapeError, r"one_hot: labels must be in \[0, 3\)"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS,
                         ids=[f"bad{i}" for i in range(len(BAD_INPUTS))])
def test_bad_input_raises_an_error_naming_the_loss(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_one_hot_rows():
    np.testing.assert_array_equal(F.one_hot(tg.tensor([2, 0]), 3).numpy(), [[0, 0, 1],
                                                                             [1, 0, 0]])

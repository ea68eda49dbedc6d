"""Edge cases that once gave wrong numbers: each value and gradient against a hand-derived
expectation or PyTorch's documented convention (torch is not needed to run these).

pow at base 0, reductions over nothing and over 0-d tensors, binary cross-entropy at p = 0
or 1 (and its weights), cross-entropy and softmax at the float32 limits, the tanh GELU at
huge inputs, and dropout / clip_grad_norm_ constants in the tensor's own dtype.
"""

import math
import warnings

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course import nn
from tinygrad_course.errors import ShapeError

FLOATS = [np.float32, np.float64]


def leaf(values, dtype):
    return tg.tensor(np.asarray(values, dtype=dtype), dtype=dtype, requires_grad=True)


def gradients(output, *inputs, upstream=None):
    """d sum(upstream * output) / d each input, as NumPy arrays (upstream: ones by default)."""
    if upstream is None:
        upstream = tg.ones(*output.shape, dtype=output.dtype)
    output.backward(upstream)
    return [t.grad.numpy() for t in inputs]


# ----- pow at base 0 -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_at_base_zero_has_pytorchs_gradients_not_nan(dtype):
    """d(a^b)/da = b a^(b-1), but 0 where b = 0 (0^0 included); d(a^b)/db = a^b ln a, but 0
    where a = 0 and b >= 0. Where the derivative is infinite it says so, never NaN."""
    a = leaf([0.0, 0.0, 0.0, 2.0], dtype)
    b = leaf([0.0, 2.0, 1.0, 0.0], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 * inf computed and hidden on the way
        y = a ** b
        grad_a, grad_b = gradients(y, a, b)
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_a, [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(grad_b, [0.0, 0.0, 0.0, math.log(2.0)], rtol=1e-6)
    assert grad_a.dtype == grad_b.dtype == dtype
    a, b = leaf([0.0], dtype), leaf([0.5], dtype)  # sqrt's slope at 0 is infinite, and says so
    with np.errstate(divide="ignore"):
        grad_a, grad_b = gradients(a ** b, a, b)
    np.testing.assert_array_equal(grad_a, [np.inf])
    np.testing.assert_array_equal(grad_b, [0.0])


def test_pow_with_a_number_base_of_zero_has_a_zero_exponent_gradient():
    b = leaf([0.0, 2.0, 0.5], np.float32)
    y = 0.0 ** b
    (grad_b,) = gradients(y, b)
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad_b, [0.0, 0.0, 0.0])


def test_pow_second_derivatives_at_base_zero_are_finite():
    """d/da of dy/da = b (b - 1) a^(b-2): at a = 0, b = 2 it is 2; where b = 0 it is 0."""
    a = leaf([0.0, 0.0, 0.0], np.float64)
    b = leaf([0.0, 2.0, 3.0], np.float64)
    grad_a, grad_b = tg.grad((a ** b).sum(), [a, b], create_graph=True)
    np.testing.assert_array_equal(grad_a.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad_b.numpy(), [0.0, 0.0, 0.0])
    second_a, second_b = tg.grad(grad_a.sum(), [a, b])
    np.testing.assert_array_equal(second_a.numpy(), [0.0, 2.0, 0.0])
    assert np.isfinite(second_b.numpy()).all()


def test_pow_away_from_zero_still_matches_finite_differences():
    a = np.array([[0.5, 1.7], [2.2, 0.9]])
    b = np.array([0.0, -1.3])  # includes b = 0, where only the base's gradient is masked
    assert tg.gradcheck(lambda x, e: x ** e, a, b)
    assert tg.gradgradcheck(lambda x, e: x ** e, a, np.array([0.4, -1.3]))


# ----- reductions over an empty axis -------------------------------------------------------------
def test_mean_and_var_of_nothing_are_nan_and_sum_is_zero():
    x = tg.zeros(0, 3, requires_grad=True)
    np.testing.assert_array_equal(x.sum(axis=0).numpy(), [0.0, 0.0, 0.0])
    for reduce in (tg.mean, tg.var):
        assert np.isnan(reduce(x, axis=0).numpy()).all() and reduce(x, axis=0).shape == (3,)
        assert np.isnan(reduce(x).numpy()) and reduce(x).dtype == np.float32
        assert reduce(x, axis=1).shape == (0,)  # no output element: nothing undefined
    assert np.isnan(tg.var(x, axis=0, ddof=1).numpy()).all()  # whatever ddof
    x.mean(axis=0).backward(tg.ones(3))
    assert x.grad.shape == (0, 3)


def test_var_with_elements_but_no_degrees_of_freedom_still_raises():
    with pytest.raises(ShapeError, match="var: 2 elements with ddof=2 leave no degrees"):
        tg.zeros(2).var(ddof=2)


def test_logsumexp_of_nothing_is_minus_inf():
    x = tg.zeros(0, 2, dtype=np.float64, requires_grad=True)
    out = x.logsumexp(axis=0)
    np.testing.assert_array_equal(out.numpy(), [-np.inf, -np.inf])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(x.logsumexp(axis=0, keepdims=True).numpy(), [[-np.inf] * 2])
    assert x.logsumexp(axis=1).shape == (0,)
    x.logsumexp(axis=1).sum().backward()
    assert x.grad.shape == (0, 2)


def test_softmax_and_log_softmax_of_an_empty_tensor_are_empty():
    x = tg.zeros(0, 3, requires_grad=True)
    for axis in (0, 1):
        assert x.softmax(axis=axis).shape == (0, 3)
        with np.errstate(divide="ignore"):  # log of an empty sum, broadcast onto nothing
            assert x.log_softmax(axis=axis).shape == (0, 3)
    x.softmax(axis=0).backward(tg.zeros(0, 3))
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_over_an_empty_axis_raise_by_name(name):
    x = tg.zeros(0, 3)
    with pytest.raises(ShapeError, match=rf"{name}: cannot reduce an empty tensor of shape "
                                         r"\(0, 3\) over axis 0, which has no elements"):
        getattr(x, name)(axis=0)
    with pytest.raises(ShapeError, match=f"{name}: cannot reduce an empty tensor"):
        getattr(x, name)()
    assert getattr(x, name)(axis=1).shape == (0,)  # the empty axis is not reduced: fine


# ----- reductions of a 0-d tensor ----------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, -1, (0,), None])
def test_reductions_of_a_0d_tensor_accept_axis_0_and_minus_1(axis):
    """As PyTorch: a 0-d tensor's dim 0 (or -1) names its one element."""
    expected = {"sum": (2.5, 1.0), "mean": (2.5, 1.0), "max": (2.5, 1.0), "min": (2.5, 1.0),
                "logsumexp": (2.5, 1.0), "var": (0.0, 0.0), "softmax": (1.0, 0.0),
                "log_softmax": (0.0, 0.0)}
    for name, (value, slope) in expected.items():
        x = tg.tensor(2.5, requires_grad=True)
        out = getattr(x, name)(axis=axis)
        assert out.shape == () and out.item() == value, name
        out.backward()
        assert x.grad.item() == slope, name


def test_reductions_of_a_0d_tensor_refuse_other_axes():
    x = tg.tensor(1.0)
    for axis in (1, -2):
        with pytest.raises(ShapeError, match=f"sum: axis {axis} is out of range for a tensor "
                                             "of 0 dims"):
            x.sum(axis=axis)
    with pytest.raises(ShapeError, match=r"softmax: repeated axis in \(0, -1\)"):
        x.softmax(axis=(0, -1))
    assert tg.tensor(3.0).argmax(axis=0).item() == 0
    assert tg.tensor(3.0).sum(axis=0, keepdims=True).shape == ()


# ----- binary cross-entropy at p = 0 and 1 -------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_cross_entropy_pushes_a_confidently_wrong_prediction_back(dtype):
    """PyTorch's rule: dL/dp = (p - y) / max(p (1 - p), 1e-12). At p = 0 with y = 1 that is
    -1e12 (p must go up), at p = 1 with y = 0 +1e12; a right prediction at the edge gets 0."""
    p = leaf([0.0, 1.0, 0.0, 1.0, 0.0], dtype)
    y = leaf([1.0, 0.0, 0.0, 1.0, 0.25], dtype)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0, 0.0, 0.0, 25.0], rtol=1e-6)
    grad_p, grad_y = gradients(loss, p, y)
    np.testing.assert_allclose(grad_p, [-1e12, 1e12, 0.0, 0.0, -0.25e12], rtol=1e-6)
    np.testing.assert_allclose(grad_y, [100.0, -100.0, 100.0, -100.0, 100.0], rtol=1e-6)
    assert grad_p.dtype == dtype


def test_binary_cross_entropy_mean_gradient_at_the_edges_and_one_step_of_descent():
    p = leaf([0.0, 1.0], np.float32)
    loss = F.binary_cross_entropy(p, tg.tensor([1.0, 0.0]))
    assert loss.item() == pytest.approx(100.0)
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), [-5e11, 5e11], rtol=1e-6)  # 1e12 / N
    stepped = p.numpy() - 1e-12 * p.grad.numpy()
    assert 0.0 < stepped[0] < 1.0 and 0.0 < stepped[1] < 1.0  # both moved toward the label


def test_binary_cross_entropy_interior_gradients_are_exact():
    rng = np.random.default_rng(0)
    p, y, w = rng.uniform(0.05, 0.95, 6), rng.random(6), rng.uniform(0.5, 2.0, 6)
    probabilities = leaf(p, np.float64)
    F.binary_cross_entropy(probabilities, tg.tensor(y, dtype=np.float64),
                           weight=tg.tensor(w, dtype=np.float64), reduction="sum").backward()
    np.testing.assert_allclose(probabilities.grad.numpy(), w * (p - y) / (p * (1 - p)),
                               rtol=1e-12)
    assert tg.gradcheck(lambda q, t: F.binary_cross_entropy(q, t), p, y)
    assert tg.gradgradcheck(lambda q, t: F.binary_cross_entropy(q, t, reduction="sum"), p, y)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_learns_from_confidently_wrong_logits_at_the_dtype_limits(dtype):
    huge = np.finfo(dtype).max / 2
    x = leaf([-1e4, 1e4, huge, -huge], dtype)
    y = tg.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1e4, 1e4, huge, huge], rtol=1e-6)
    (grad,) = gradients(loss, x)
    np.testing.assert_array_equal(grad, [-1.0, 1.0, 1.0, -1.0])  # sigmoid(x) - y
    x.grad = None
    weighted = F.binary_cross_entropy_with_logits(x, y, pos_weight=tg.tensor([3.0], dtype=dtype),
                                                  reduction="none")
    (grad,) = gradients(weighted, x)
    np.testing.assert_array_equal(grad, [-3.0, 1.0, 1.0, -3.0])  # pos_weight scales y = 1


# ----- BCE weights: wrong shapes and NaN refused by name -----------------------------------------
def test_bce_weights_that_would_broadcast_the_loss_to_another_shape_are_refused():
    p, y = tg.tensor([0.2, 0.5, 0.9]), tg.tensor([0.0, 1.0, 1.0])
    with pytest.raises(ShapeError, match=r"binary_cross_entropy: weight of shape \(3, 1\) does "
                                         r"not broadcast to the input's shape \(3,\)"):
        F.binary_cross_entropy(p, y, weight=tg.tensor([[1.0], [2.0], [3.0]]))
    with pytest.raises(ShapeError, match=r"binary_cross_entropy: weight of shape \(2,\)"):
        F.binary_cross_entropy(p, y, weight=[1.0, 2.0])
    logits, targets = tg.zeros(2, 3), tg.ones(2, 3)
    with pytest.raises(ShapeError, match=r"binary_cross_entropy_with_logits: pos_weight of "
                                         r"shape \(2,\) does not broadcast to the input's shape "
                                         r"\(2, 3\)"):
        F.binary_cross_entropy_with_logits(logits, targets, pos_weight=[1.0, 2.0])
    with pytest.raises(ShapeError, match=r"binary_cross_entropy_with_logits: weight of shape "
                                         r"\(1, 2, 3\)"):
        F.binary_cross_entropy_with_logits(logits, targets, weight=tg.ones(1, 2, 3))
    # shapes that broadcast to the input's own shape are fine: one per class, or one number
    per_class = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=[1.0, 2.0, 4.0],
                                                   reduction="sum")
    assert per_class.item() == pytest.approx(7 * 2 * math.log(2), rel=1e-6)
    scalar = F.binary_cross_entropy(p, y, weight=2.0, reduction="sum")
    assert scalar.item() == pytest.approx(2 * F.binary_cross_entropy(p, y, reduction="sum").item())


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bce_weights_with_nan_or_inf_are_refused(bad):
    p, y = tg.tensor([0.2, 0.5]), tg.tensor([0.0, 1.0])
    kind = "NaN" if np.isnan(bad) else "inf"
    with pytest.raises(ValueError, match=f"binary_cross_entropy got {kind} in the weight"):
        F.binary_cross_entropy(p, y, weight=[1.0, bad])
    with pytest.raises(ValueError, match=f"binary_cross_entropy_with_logits got {kind} in the "
                                         "pos_weight"):
        F.binary_cross_entropy_with_logits(p, y, pos_weight=[bad])
    with pytest.raises(ValueError, match=f"binary_cross_entropy_with_logits got {kind} in the "
                                         "weight"):
        F.binary_cross_entropy_with_logits(p, y, weight=tg.tensor([bad, 1.0]))


# ----- cross-entropy and softmax at the dtype's limits -------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_at_the_dtype_limits_is_finite_and_right(dtype):
    """Logits [M, -M, 0] with M the largest finite number: class 0 has probability 1 (loss 0,
    gradient q - y = 0); class 2 has log-probability -M (loss M, gradient [1, 0, -1])."""
    big = np.finfo(dtype).max
    z = leaf([[big, -big, 0.0], [big, -big, 0.0]], dtype)
    loss = F.cross_entropy(z, np.array([0, 2]), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [0.0, big])
    (grad,) = gradients(loss, z)
    np.testing.assert_array_equal(grad, [[0.0, 0.0, 0.0], [1.0, 0.0, -1.0]])
    z.grad = None
    one_hot = tg.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype)
    soft = F.cross_entropy(z, one_hot, reduction="none")  # the class-probabilities path
    np.testing.assert_array_equal(soft.numpy(), [0.0, big])
    (grad,) = gradients(soft, z)
    np.testing.assert_array_equal(grad, [[0.0, 0.0, 0.0], [1.0, 0.0, -1.0]])
    z.grad = None
    F.cross_entropy(z[:1], np.array([0])).backward()  # the mean: 0, and backward accepts it
    np.testing.assert_array_equal(z.grad.numpy(), np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_log_softmax_and_logsumexp_at_the_dtype_limits(dtype):
    big = np.finfo(dtype).max
    values = [big, -big, 0.0]
    upstream = tg.tensor([0.3, -1.2, 0.7], dtype=dtype)
    x = leaf(values, dtype)
    np.testing.assert_array_equal(x.softmax().numpy(), [1.0, 0.0, 0.0])
    (grad,) = gradients(x.softmax(), x, upstream=upstream)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0])  # y (g - sum g y), y one-hot
    x = leaf(values, dtype)
    np.testing.assert_array_equal(x.log_softmax().numpy(), [0.0, -np.inf, -big])
    (grad,) = gradients(x.log_softmax(), x, upstream=upstream)
    np.testing.assert_allclose(grad, [0.3 - (-0.2), -1.2, 0.7], rtol=1e-6)  # g - e^y sum g
    x = leaf(values, dtype)
    assert x.logsumexp().item() == big
    (grad,) = gradients(x.logsumexp(), x)
    np.testing.assert_array_equal(grad, [1.0, 0.0, 0.0])


# ----- gelu(approximate="tanh") at huge inputs ---------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_gelu_tanh_gradient_is_finite_and_right_at_huge_inputs(dtype):
    x = leaf([1e13, -1e13, 1e30, -1e30], dtype)
    y = tg.gelu(x, approximate="tanh")
    np.testing.assert_array_equal(y.numpy(), np.array([1e13, 0.0, 1e30, 0.0], dtype=dtype))
    (grad,) = gradients(y, x)
    np.testing.assert_array_equal(grad, [1.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("dtype", FLOATS)
def test_gelu_tanh_matches_its_unbounded_formula_and_derivative(dtype):
    """Clipping x inside the tanh changes no output bit, and the gradient is the formula's."""
    x = np.concatenate([np.linspace(-12.0, 12.0, 4801), [-3e5, 3e5]]).astype(dtype)
    c, k = dtype(math.sqrt(2 / math.pi)), dtype(0.044715)
    with np.errstate(over="ignore"):
        unbounded = x * dtype(0.5) * (np.tanh((x + x * x * x * k) * c) + dtype(1))
    t = leaf(x, dtype)
    y = tg.gelu(t, approximate="tanh")
    np.testing.assert_array_equal(y.numpy(), unbounded)
    (grad,) = gradients(y, t)
    x64 = x.astype(np.float64)
    tanh_u = np.tanh(math.sqrt(2 / math.pi) * (x64 + 0.044715 * x64 ** 3))
    chain = 0.5 * x64 * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x64 ** 2)  # times tanh'
    derivative = 0.5 * (1 + tanh_u) + chain * (1 - tanh_u ** 2)
    # rounding: 1 - tanh^2 is off by a few units in the last place of 1 (it cancels near
    # tanh = +-1), and the chain rule multiplies that by the factor ``chain``
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(grad - derivative) <= 4 * eps * (1 + np.abs(chain)))
    saturated = np.abs(x64) >= 10
    np.testing.assert_array_equal(grad[saturated], (x64[saturated] > 0).astype(dtype))


# ----- constants in the tensor's own dtype -------------------------------------------------------
def test_dropout_scales_float64_by_the_exact_inverse_keep_probability():
    x = tg.ones(2000, dtype=np.float64)
    y = nn.Dropout(p=0.1, seed=0)(x).numpy()
    assert y.dtype == np.float64
    assert set(np.unique(y)) == {0.0, 1 / 0.9}  # 1.1111111111111112, not float32's 1.1111112
    y32 = nn.Dropout(p=0.1, seed=0)(tg.ones(2000)).numpy()
    assert y32.dtype == np.float32 and set(np.unique(y32)) == {0.0, np.float32(1 / 0.9)}
    np.testing.assert_array_equal(y32 == 0, y == 0)  # the same seed, the same mask


def test_clip_grad_norm_returns_the_norm_in_the_gradients_dtype():
    def parameter(grad, dtype):
        p = tg.tensor(np.zeros(len(grad)), dtype=dtype, requires_grad=True)
        p.grad = tg.tensor(grad, dtype=dtype)
        return p

    grad = [1.0, 1e-9]  # norm sqrt(1 + 1e-18): 1 in any dtype, so use a sum that float32 loses
    params = [parameter(grad, np.float64), parameter([3e-8], np.float64)]
    total = nn.utils.clip_grad_norm_(params, max_norm=10.0)
    assert total.dtype == np.float64
    assert total.item() == math.sqrt(1.0 + 1e-18 + 9e-16)
    assert total.item() != float(np.float32(total.item()))  # float32 would have rounded it
    total32 = nn.utils.clip_grad_norm_([parameter(grad, np.float32)], max_norm=10.0)
    assert total32.dtype == np.float32
    mixed = nn.utils.clip_grad_norm_([parameter(grad, np.float32), parameter(grad, np.float64)],
                                     max_norm=10.0)
    assert mixed.dtype == np.float64
    inf_norm = nn.utils.clip_grad_norm_(params, max_norm=10.0, norm_type=math.inf)
    assert inf_norm.dtype == np.float64 and inf_norm.item() == 1.0

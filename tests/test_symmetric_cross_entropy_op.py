"""The fused symmetric cross-entropy op (ops/fused/symmetric_cross_entropy.py), CLIP's loss
on square logits Z (N, N): (CE(Z, diagonal) + CE(Z^T, diagonal)) / 2.

Checked against the two cross-entropies it replaces, against the closed-form gradient
(softmax over rows + softmax over columns - 2 I) / 2N, with gradcheck / gradgradcheck, and
on random float32 logits drawn by hypothesis."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course.ops.nn import symmetric_cross_entropy


def _logits(n, seed=0, scale=3.0, dtype=None):
    rng = np.random.default_rng(seed)
    return tg.tensor(scale * rng.standard_normal((n, n)), dtype=dtype, requires_grad=True)


def _composed(z):
    targets = tg.arange(z.shape[0])
    return (F.cross_entropy(z, targets) + F.cross_entropy(z.T, targets)) / 2


@pytest.mark.parametrize("n", [1, 2, 5, 16])
def test_matches_the_two_cross_entropies_in_value_and_gradient(n):
    z = _logits(n)
    fused, composed = symmetric_cross_entropy(z), _composed(z)
    np.testing.assert_allclose(fused.item(), composed.item(), rtol=1e-5, atol=1e-6)
    (got,), (expected,) = tg.grad(fused, [z]), tg.grad(composed, [z])
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-6)


def test_gradient_is_row_softmax_plus_column_softmax_minus_two_identity():
    n = 6
    z = _logits(n, seed=3)
    (symmetric_cross_entropy(z) * 4.0).backward()
    e = np.exp(z.numpy().astype(np.float64))
    rows, cols = e / e.sum(axis=1, keepdims=True), e / e.sum(axis=0, keepdims=True)
    expected = 4.0 * (rows + cols - 2 * np.eye(n)) / (2 * n)
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(z.grad.numpy().sum(), 0.0, atol=1e-5)  # rows/cols sum to 1


@pytest.mark.parametrize("n", [1, 3, 4])
def test_gradcheck_and_gradgradcheck(n):
    z = _logits(n, seed=n, scale=1.0)
    assert tg.gradcheck(lambda z: symmetric_cross_entropy(z).reshape(1), z)
    assert tg.gradgradcheck(lambda z: symmetric_cross_entropy(z).reshape(1), z)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), scale=st.floats(0.1, 30.0), seed=st.integers(0, 10**6))
def test_float32_logits_match_a_float64_reference(n, scale, seed):
    z = _logits(n, seed=seed, scale=scale, dtype="float32")
    loss = symmetric_cross_entropy(z)
    assert loss.dtype == np.float32
    z64 = z.numpy().astype(np.float64)

    def lse(a, axis):
        top = a.max(axis=axis)
        return top + np.log(np.exp(a - np.expand_dims(top, axis)).sum(axis=axis))

    expected = (lse(z64, 1).mean() + lse(z64, 0).mean() - 2 * np.trace(z64) / n) / 2
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5, atol=1e-5 * scale)
    loss.backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_bad_logits_raise_named_errors():
    with pytest.raises(tg.ShapeError, match=r"symmetric_cross_entropy: expected square logits"):
        symmetric_cross_entropy(tg.zeros(3, 4))
    with pytest.raises(tg.ShapeError, match=r"symmetric_cross_entropy: expected square logits"):
        symmetric_cross_entropy(tg.zeros(4))
    bad = np.zeros((3, 3))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"symmetric_cross_entropy got NaN in the logits "
                                         r"\(shape \(3, 3\)\)"):
        symmetric_cross_entropy(tg.tensor(bad))
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="symmetric_cross_entropy got inf in the logits"):
        symmetric_cross_entropy(tg.tensor(bad))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 6), scale=st.floats(0.1, 5.0), seed=st.integers(0, 10**6))
def test_gradcheck_on_random_logits(n, scale, seed):
    z = _logits(n, seed=seed, scale=scale)
    assert tg.gradcheck(lambda z: symmetric_cross_entropy(z).reshape(1), z)

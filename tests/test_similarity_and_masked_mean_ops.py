"""The two fused ops of CLIP's head: ``similarity_logits`` (ops/fused/similarity.py),
exp(min(tau, tau_max)) U V^T, and ``masked_mean`` (ops/reduce.py), the mean over the kept
positions of padded sequences.

Both are also rows of tests/op_table.py (gradcheck, forward against NumPy, gradgradcheck on
hypothesis-drawn inputs). Here: equality with the composed ops they replace, in values and
gradients, the clamp's gradient rule, rows that keep nothing, and the named errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course.ops.reduce import masked_mean
from tinygrad_course.ops.similarity import similarity_logits


def _embeddings(seed, n=4, m=3, d=5, tau=0.7):
    rng = np.random.default_rng(seed)
    u = tg.tensor(rng.standard_normal((n, d)), requires_grad=True)
    v = tg.tensor(rng.standard_normal((m, d)), requires_grad=True)
    return u, v, tg.tensor(tau, requires_grad=True), tg.tensor(rng.standard_normal((n, m)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), tau=st.floats(-2.0, 3.0),
       max_log_scale=st.sampled_from([None, -1.0, 0.5, 1.0, 4.0]))
def test_similarity_logits_equal_the_composed_ops(seed, tau, max_log_scale):
    u, v, t, w = _embeddings(seed, tau=tau)
    fused = similarity_logits(u, v, t, max_log_scale)
    scale = t.exp() if max_log_scale is None else t.clip(max=max_log_scale).exp()
    composed = scale * (u @ v.T)
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-5, atol=1e-5)
    got = tg.grad((fused * w).sum(), [u, v, t])
    expected = tg.grad((composed * w).sum(), [u, v, t])
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-4)


def test_clamped_log_scale_gets_a_zero_gradient_and_the_boundary_passes_it():
    u, v, t, w = _embeddings(1, tau=2.0)
    (similarity_logits(u, v, t, 1.0) * w).sum().backward()
    assert t.grad is not None and t.grad.shape == () and t.grad.item() == 0.0
    np.testing.assert_allclose(
        similarity_logits(u, v, t, 1.0).numpy(), np.e * (u.numpy() @ v.numpy().T), rtol=1e-5)
    # at tau == tau_max the gradient passes, as torch.clamp's does
    u, v, t, w = _embeddings(1, tau=1.0)
    logits = similarity_logits(u, v, t, 1.0)
    (logits * w).sum().backward()
    np.testing.assert_allclose(t.grad.item(), (w.numpy() * logits.numpy()).sum(), rtol=1e-5)


def test_similarity_logits_keep_float32_and_name_bad_inputs():
    u, v, t, _ = _embeddings(2)
    assert similarity_logits(u, v, t).dtype == np.float32
    with pytest.raises(tg.ShapeError, match=r"similarity_logits: u must be a 2-d Tensor"):
        similarity_logits(u.reshape(-1), v, t)
    with pytest.raises(tg.ShapeError, match=r"similarity_logits: u \(4, 5\) and v \(3, 4\)"):
        similarity_logits(u, v[:, :4], t)
    with pytest.raises(tg.ShapeError, match=r"log_scale must be a 0-d Tensor, got \(1,\)"):
        similarity_logits(u, v, t.reshape(1))
    with pytest.raises(tg.DTypeError, match=r"share one floating dtype"):
        similarity_logits(u, v.astype("float64"), t)


def test_similarity_logits_gradgradcheck_clamped_and_open():
    for tau in (0.3, 2.0):
        u, v, t, _ = _embeddings(3, n=2, m=3, d=2, tau=tau)
        f = lambda u, v, t: similarity_logits(u, v, t, 1.0)  # noqa: E731
        assert tg.gradcheck(f, u, v, t)
        assert tg.gradgradcheck(f, u, v, t)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 4), length=st.integers(1, 5),
       features=st.sampled_from([(), (3,), (2, 2)]))
def test_masked_mean_equals_the_composed_weighted_sum(seed, n, length, features):
    rng = np.random.default_rng(seed)
    x = tg.tensor(rng.standard_normal((n, length) + features), requires_grad=True)
    keep = rng.random((n, length)) < 0.6
    fused = masked_mean(x, keep)
    k = tg.tensor(keep.astype(np.float32))
    weights = (k / k.sum(axis=1, keepdims=True).clip(min=1.0)).reshape(
        (n, length) + (1,) * len(features))
    composed = (x * weights).sum(axis=1)
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-6, atol=1e-6)
    w = tg.tensor(rng.standard_normal(fused.shape))
    (got,), (expected,) = tg.grad((fused * w).sum(), [x]), tg.grad((composed * w).sum(), [x])
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_masked_mean_of_a_row_that_keeps_nothing_is_zero_with_no_gradient():
    x = tg.tensor(np.arange(12.0).reshape(2, 3, 2), requires_grad=True)
    keep = np.array([[True, False, True], [False, False, False]])
    y = masked_mean(x, tg.tensor(keep))
    np.testing.assert_allclose(y.numpy(), [[2.0, 3.0], [0.0, 0.0]])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0], [[0.5, 0.5], [0, 0], [0.5, 0.5]])
    np.testing.assert_allclose(x.grad.numpy()[1], 0.0)


def test_masked_mean_names_bad_masks():
    x = tg.zeros(2, 3, 4)
    with pytest.raises(tg.ShapeError, match=r"masked_mean: expected x \(N, L, \.\.\.\) and "
                                            r"keep \(N, L\), got x \(2, 3, 4\) and keep \(3, 2\)"):
        masked_mean(x, np.ones((3, 2), bool))
    with pytest.raises(tg.DTypeError, match=r"masked_mean: keep must be bool"):
        masked_mean(x, np.ones((2, 3)))
    with pytest.raises(tg.ShapeError, match=r"masked_mean: expected x"):
        masked_mean(tg.zeros(3), np.ones(3, bool))

"""The fused softmax cross-entropy op (ops/fused/cross_entropy.py):
loss_n = -sum_c y_nc log softmax(z_n)_c.

Checked against the unfused composition, against the closed-form gradient q - y, and with
gradcheck / gradgradcheck for logits and (soft) targets."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.ops.nn import softmax_cross_entropy


def _logits_and_targets(shape, axis, seed=0, target_grad=False):
    rng = np.random.default_rng(seed)
    z = tg.tensor(rng.standard_normal(shape), requires_grad=True)
    y = rng.random(shape) + 0.1
    y = y / y.sum(axis=axis, keepdims=True)
    return z, tg.tensor(y, requires_grad=target_grad)


@pytest.mark.parametrize("shape, axis", [((5,), 0), ((4, 5), 1), ((3, 4, 2), 1), ((3, 4), -1)])
def test_matches_minus_sum_of_target_times_log_softmax(shape, axis):
    z, y = _logits_and_targets(shape, axis, target_grad=True)
    fused = softmax_cross_entropy(z, y, axis=axis)
    unfused = -(y * z.log_softmax(axis=axis)).sum(axis=axis)
    np.testing.assert_allclose(fused.numpy(), unfused.numpy(), rtol=1e-5, atol=1e-6)
    upstream = tg.tensor(np.random.default_rng(1).standard_normal(fused.shape))
    for got, expected in zip(tg.grad(fused, [z, y], grad_output=upstream),
                             tg.grad(unfused, [z, y], grad_output=upstream)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_gradient_of_one_hot_targets_is_softmax_minus_target():
    z, _ = _logits_and_targets((6, 4), 1)
    labels = np.array([0, 3, 1, 1, 2, 0])
    y = tg.tensor(np.eye(4)[labels])
    softmax_cross_entropy(z, y, axis=1).sum().backward()
    q = np.exp(z.numpy()) / np.exp(z.numpy()).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad.numpy(), q - np.eye(4)[labels], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("target_grad", [False, True])
@pytest.mark.parametrize("shape, axis", [((4, 3), 1), ((2, 3, 2), 1)])
def test_gradcheck_and_gradgradcheck(shape, axis, target_grad):
    z, y = _logits_and_targets(shape, axis, target_grad=target_grad)

    def fn(z, y):
        return softmax_cross_entropy(z, y, axis=axis)

    assert tg.gradcheck(fn, z, y)
    assert tg.gradgradcheck(fn, z, y)


def test_cross_entropy_still_equals_the_definition_with_ignored_labels():
    from tinygrad_course import functional as F

    z, _ = _logits_and_targets((5, 4), 1)
    labels = np.array([1, -100, 3, 0, 3])
    loss = F.cross_entropy(z, tg.tensor(labels))
    logp = z.numpy() - np.log(np.exp(z.numpy()).sum(axis=1, keepdims=True))
    kept = labels != -100
    expected = -logp[kept, labels[kept]].mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)


def test_rejects_shape_mismatch():
    z, y = _logits_and_targets((4, 3), 1)
    with pytest.raises(tg.ShapeError, match="softmax_cross_entropy: logits of shape"):
        softmax_cross_entropy(z, tg.ones(4, 2), axis=1)

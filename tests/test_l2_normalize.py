"""ops.normalization.l2_normalize: y = x / sqrt(sum(x^2) + eps) along one axis, as one op."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.errors import DTypeError, ShapeError
from tinygrad_course.ops.normalization import l2_normalize


def reference(x, axis, eps):
    return x / np.sqrt((x * x).sum(axis=axis, keepdims=True) + eps)


@pytest.mark.parametrize("shape, axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1)])
def test_forward_matches_the_formula_and_gives_unit_vectors(shape, axis):
    host = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y = l2_normalize(tg.tensor(host), axis=axis)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), reference(host.astype(np.float64), axis, 1e-8),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(y.numpy(), axis=axis), 1.0, rtol=1e-5)


@pytest.mark.parametrize("shape, axis, eps", [((3, 4), -1, 1e-8), ((3, 4), 0, 0.5),
                                              ((2, 3, 4), 1, 1e-8), ((4,), 0, 0.1)])
def test_gradient_and_second_derivative(shape, axis, eps):
    x = np.random.default_rng(1).standard_normal(shape)
    assert tg.gradcheck(lambda t: l2_normalize(t, axis=axis, eps=eps), x)
    assert tg.gradgradcheck(lambda t: l2_normalize(t, axis=axis, eps=eps), x)


def test_gradient_is_orthogonal_to_the_output():
    # with eps = 0, y has unit length and x -> c x leaves y unchanged: dL/dx . y = 0
    x = tg.randn(4, 6, seed=2, dtype=np.float64, requires_grad=True)
    y = l2_normalize(x, eps=0.0)
    (y * tg.randn(4, 6, seed=3, dtype=np.float64)).sum().backward()
    np.testing.assert_allclose((x.grad.numpy() * y.numpy()).sum(axis=1), 0.0, atol=1e-12)


def test_bad_inputs_raise_named_errors():
    with pytest.raises(ShapeError, match="l2_normalize: needs a tensor of at least 1 dim"):
        l2_normalize(tg.tensor(3.0))
    with pytest.raises(ShapeError, match="l2_normalize: axis 2 is out of range"):
        l2_normalize(tg.zeros(3, 4), axis=2)
    with pytest.raises(DTypeError, match="l2_normalize: needs a floating tensor"):
        l2_normalize(tg.tensor(np.arange(4)))

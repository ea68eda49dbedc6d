"""The fused linear op y = x W^T + b (ops/fused/linear.py): same values and gradients as the unfused
x @ W.T + b, gradcheck and gradgradcheck over input ranks, with and without bias."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.ops.linear import linear


def _tensors(x_shape, out=3, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    x = tg.tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = tg.tensor(rng.standard_normal((out, x_shape[-1])), requires_grad=True)
    b = tg.tensor(rng.standard_normal(out), requires_grad=True) if bias else None
    return x, w, b


@pytest.mark.parametrize("x_shape", [(4,), (5, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_the_unfused_ops_in_value_and_gradient(x_shape, bias):
    x, w, b = _tensors(x_shape, bias=bias)
    upstream = tg.tensor(np.random.default_rng(1).standard_normal(x_shape[:-1] + (3,)))
    fused = linear(x, w, b)
    unfused = x @ w.T + b if bias else x @ w.T
    np.testing.assert_allclose(fused.numpy(), unfused.numpy(), rtol=1e-6, atol=1e-6)
    params = [x, w] + ([b] if bias else [])
    got = tg.grad(fused, params, grad_output=upstream)
    expected = tg.grad(unfused, params, grad_output=upstream)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("x_shape", [(4,), (5, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck_and_gradgradcheck(x_shape, bias):
    x, w, b = _tensors(x_shape, bias=bias)
    inputs = (x, w, b) if bias else (x, w)

    def fn(*args):
        return linear(*args)

    assert tg.gradcheck(fn, *inputs)
    assert tg.gradgradcheck(fn, *inputs)


def test_weight_gradient_is_in_the_weights_row_major_layout():
    x, w, b = _tensors((8, 5))
    linear(x, w, b).sum().backward()
    assert w.grad.numpy().flags.c_contiguous


def test_only_the_needed_gradients_are_computed():
    x, w, b = _tensors((6, 4))
    x.requires_grad = False
    linear(x, w, b).sum().backward()
    assert x.grad is None and w.grad is not None and b.grad is not None
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 6.0))


def test_linear_rejects_mismatched_shapes():
    x, w, b = _tensors((2, 4))
    with pytest.raises(tg.ShapeError, match=r"linear: input \(2, 5\) and weight \(3, 4\)"):
        linear(tg.ones(2, 5), w, b)
    with pytest.raises(tg.ShapeError, match="linear: bias of shape"):
        linear(x, w, tg.ones(4))

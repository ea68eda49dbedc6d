"""Tensor.register_hook: look at or replace a tensor's gradient during backward (PyTorch's).

Each test states the gradient by hand and checks what the hook saw and what reached the
leaves: hooks on op outputs and on leaves, a tensor used twice (the hook sees the sum, once),
replacement changing everything downstream, removal, order, retain_grad, tg.grad and
create_graph, and the named errors.
"""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import ArgumentError, BackwardError, ShapeError


def _t(values, requires_grad=True):
    return tg.tensor(np.asarray(values, dtype=np.float64), dtype=np.float64,
                     requires_grad=requires_grad)


def test_a_hook_sees_the_gradient_of_a_layers_output():
    layer = nn.Linear(3, 2, seed=0).double()
    x = _t(np.random.default_rng(1).normal(size=(4, 3)))
    y = layer(x)
    seen = []
    y.register_hook(seen.append)  # returns None: looks only
    target = np.random.default_rng(2).normal(size=(4, 2))
    ((y - _t(target, False)) ** 2).sum().backward()
    expected = 2 * (y.numpy() - target)  # dL/dy of the squared error
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0].numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected.T @ x.numpy(), rtol=1e-12)


def test_replacing_an_intermediate_gradient_changes_everything_below_it():
    x = _t([1.0, 2.0, 3.0])
    h = x * x  # dh/dx = 2x
    h.register_hook(lambda grad: grad * 10.0)
    (h * 3.0).sum().backward()  # dL/dh = 3, replaced by 30
    np.testing.assert_allclose(x.grad.numpy(), 30.0 * 2 * x.numpy())


def test_a_leaf_hook_sees_the_sum_over_every_use_once_before_grad():
    x = _t([1.0, -2.0])
    calls = []

    def halve(grad):
        calls.append(grad.numpy().copy())
        return grad * 0.5

    x.register_hook(halve)
    (x * x + 4.0 * x).sum().backward()  # dL/dx = 2x + 4, from two uses
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 * x.numpy() + 4)
    np.testing.assert_allclose(x.grad.numpy(), (2 * x.numpy() + 4) / 2)
    (x * 1.0).sum().backward()  # a second backward: the hook runs again, grad accumulates
    np.testing.assert_allclose(x.grad.numpy(), (2 * x.numpy() + 4) / 2 + 0.5)


def test_an_op_output_used_twice_is_hooked_once_with_the_sum():
    x = _t([2.0])
    h = x * 3.0
    calls = []
    h.register_hook(lambda grad: calls.append(float(grad.item())))
    (h * h + h).sum().backward()  # dL/dh = 2h + 1 = 13
    assert calls == [13.0]
    assert x.grad.item() == 39.0


def test_hooks_run_in_order_and_each_sees_the_previous_result():
    x = _t([1.0])
    seen = []
    x.register_hook(lambda g: (seen.append(("first", g.item())), g + 1.0)[1])
    x.register_hook(lambda g: (seen.append(("second", g.item())), g * 10.0)[1])
    (x * 2.0).sum().backward()
    assert seen == [("first", 2.0), ("second", 3.0)]
    assert x.grad.item() == 30.0


def test_remove_takes_the_hook_off_and_twice_is_harmless():
    x = _t([1.0, 1.0])
    handle = x.register_hook(lambda g: g * 0.0)
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    handle.remove()
    handle.remove()
    x.grad = None
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])
    with x.register_hook(lambda g: g * 2.0):
        x.grad = None
        (x * 5.0).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [10.0, 10.0])
    x.grad = None
    (x * 5.0).sum().backward()  # the block removed it
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_a_hook_on_the_root_and_retain_grad_see_the_replaced_gradient():
    x = _t([1.0, 2.0])
    y = x * 3.0
    y.retain_grad()
    y.register_hook(lambda g: g * 2.0)
    loss = y.sum()
    loss.register_hook(lambda g: g * 5.0)
    loss.backward()
    np.testing.assert_array_equal(y.grad.numpy(), [10.0, 10.0])  # hooked before retained
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])


def test_hooks_act_in_tg_grad_and_in_second_derivatives():
    x = _t([1.5])
    y = x * x
    y.register_hook(lambda g: g * x)  # a graph-building replacement: dL/dy -> x dL/dy
    (g,) = tg.grad(y.sum(), [x], create_graph=True)  # = x * 2x = 2 x^2
    assert g.item() == pytest.approx(2 * 1.5 ** 2)
    (gg,) = tg.grad(g.sum(), [x])  # d(2 x^2)/dx = 4x
    assert gg.item() == pytest.approx(4 * 1.5)


def test_a_hook_off_the_path_of_the_gradient_never_runs():
    x, z = _t([1.0]), _t([2.0])
    side = z * 2.0
    side.register_hook(lambda g: pytest.fail("side is not on the path to the loss"))
    (x * 3.0).sum().backward()
    assert x.grad.item() == 3.0 and z.grad is None


def test_gradient_clipping_per_parameter_with_a_hook():
    layer = nn.Linear(4, 3, seed=3).double()
    layer.weight.register_hook(lambda g: g.clip(-0.1, 0.1))
    x = _t(np.random.default_rng(4).normal(size=(8, 4)) * 10, False)
    layer(x).sum().backward()
    unclipped = np.ones((8, 3)).T @ x.numpy()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.clip(unclipped, -0.1, 0.1))
    np.testing.assert_allclose(layer.bias.grad.numpy(), [8.0, 8.0, 8.0])  # no hook there


def test_bad_hooks_raise_named_errors():
    x = _t([1.0, 2.0])
    with pytest.raises(ArgumentError, match="register_hook"):
        x.register_hook("not a function")
    with pytest.raises(BackwardError, match="register_hook: .*does not require grad"):
        _t([1.0], requires_grad=False).register_hook(print)

    def wrong_shape(grad):
        return grad.sum()

    handle = x.register_hook(wrong_shape)
    with pytest.raises(ShapeError, match="hook 'wrong_shape' returned a gradient of shape"):
        (x * 2.0).sum().backward()
    handle.remove()
    x.register_hook(lambda g: g.numpy())
    with pytest.raises(BackwardError, match="returned a ndarray"):
        (x * 2.0).sum().backward()


def test_tensors_start_without_hooks():
    x = _t([1.0])
    assert x._backward_hooks is None and (x * 2.0)._backward_hooks is None

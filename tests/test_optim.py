"""Optimisers: each step against the update computed by hand from PyTorch's formulas, state
saving and resuming, parameter groups, gradient clipping, and bad arguments."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import nn, optim
from tinygrad_course.errors import BackwardError, ShapeError

W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.25]])
GRADS = [np.array([[0.1, -0.2, 0.3], [0.0, 1.0, -2.0]]),
         np.array([[-0.3, 0.1, 0.2], [0.5, -1.0, 0.4]]),
         np.array([[0.2, 0.2, -0.1], [1.0, 0.3, 0.0]])]


def run(make_optimizer, grads=GRADS, w0=W0):
    """Apply the given gradients one step each; return the weights after every step."""
    w = tg.tensor(w0, dtype=np.float64, requires_grad=True)
    opt = make_optimizer([w])
    history = []
    for g in grads:
        w.grad = tg.tensor(g, dtype=np.float64)
        opt.step()
        history.append(w.numpy().copy())
    return history


def assert_steps(history, expected):
    for i, (got, want) in enumerate(zip(history, expected)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=f"step {i + 1}")


# ----- SGD ----------------------------------------------------------------------------------
def test_plain_sgd_steps_against_the_gradient():
    g1, g2, _ = GRADS
    w1 = W0 - 0.1 * g1
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1), GRADS[:2]), [w1, w1 - 0.1 * g2])


def test_sgd_momentum_by_hand():
    g1, g2, g3 = GRADS
    b1 = g1                      # the first step starts the velocity at g
    b2 = 0.9 * b1 + g2
    b3 = 0.9 * b2 + g3
    w1 = W0 - 0.1 * b1
    w2 = w1 - 0.1 * b2
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9)), [w1, w2, w2 - 0.1 * b3])


def test_sgd_dampening_scales_new_gradients_after_the_first_step():
    g1, g2, _ = GRADS
    b2 = 0.9 * g1 + 0.5 * g2
    w1 = W0 - 0.1 * g1
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5), GRADS[:2]),
                 [w1, w1 - 0.1 * b2])


def test_sgd_nesterov_looks_ahead_along_the_velocity():
    g1, g2, _ = GRADS
    b1, b2 = g1, 0.9 * g1 + g2
    w1 = W0 - 0.1 * (g1 + 0.9 * b1)
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), GRADS[:2]),
                 [w1, w1 - 0.1 * (g2 + 0.9 * b2)])


def test_sgd_weight_decay_adds_l2_gradient_before_momentum():
    g1, g2, _ = GRADS
    d1 = g1 + 0.01 * W0
    w1 = W0 - 0.1 * d1
    b2 = 0.9 * d1 + (g2 + 0.01 * w1)
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
                     GRADS[:2]), [w1, w1 - 0.1 * b2])


# ----- Adam and AdamW -----------------------------------------------------------------------
def adam_reference(grads, w0, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False, amsgrad=False):
    """Adam written out from the paper's equations, one step at a time."""
    w, m, v, v_max, history = w0.copy(), 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        v_max = np.maximum(v_max, v) if amsgrad else v
        m_hat, v_hat = m / (1 - betas[0] ** t), v_max / (1 - betas[1] ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(w)
    return history


def test_adam_first_step_moves_every_weight_by_about_lr():
    """After bias correction, m_hat = g and v_hat = g^2 at t = 1: the step is lr * g / |g|."""
    (w1,) = run(lambda p: optim.Adam(p, lr=0.01), GRADS[:1])
    g = GRADS[0]
    np.testing.assert_allclose(w1, W0 - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("options", [{}, {"betas": (0.5, 0.9)}, {"weight_decay": 0.1},
                                     {"amsgrad": True}], ids=str)
def test_adam_matches_the_equations(options):
    history = run(lambda p: optim.Adam(p, lr=1e-2, **options))
    assert_steps(history, adam_reference(GRADS, W0, **options))


def test_adamw_decays_the_weights_directly():
    history = run(lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1))
    assert_steps(history, adam_reference(GRADS, W0, weight_decay=0.1, decoupled=True))
    adam = run(lambda p: optim.Adam(p, lr=1e-2, weight_decay=0.1))
    assert not np.allclose(history[-1], adam[-1])  # coupled and decoupled decay differ


def test_amsgrad_changes_the_step_when_the_gradient_shrinks():
    shrinking = [np.full((2, 3), 1.0), np.full((2, 3), 0.01)]
    plain = run(lambda p: optim.Adam(p, lr=1e-2), shrinking)
    ams = run(lambda p: optim.Adam(p, lr=1e-2, amsgrad=True), shrinking)
    assert np.all(np.abs(ams[1] - ams[0]) < np.abs(plain[1] - plain[0]))


# ----- shared optimiser behaviour -----------------------------------------------------------
def test_parameters_without_gradient_are_left_alone_and_zero_grad_clears():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    a.grad = tg.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(a.numpy(), [0.5, 1.5])
    np.testing.assert_array_equal(b.numpy(), [3.0])
    assert b not in opt.state
    opt.zero_grad()
    assert a.grad is None


def test_param_groups_have_their_own_hyper_parameters_and_lr_changes_act_at_once():
    a = tg.tensor([1.0], requires_grad=True)
    b = tg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    a.grad, b.grad = tg.tensor([1.0]), tg.tensor([1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.99], rtol=1e-6)
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    np.testing.assert_allclose(a.item(), 0.4, rtol=1e-6)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.01)], ids=["SGD", "Adam"])
def test_state_dict_lets_training_resume_exactly(make):
    uninterrupted = run(make)[-1]
    w = tg.tensor(W0, dtype=np.float64, requires_grad=True)
    opt = make([w])
    for g in GRADS[:2]:
        w.grad = tg.tensor(g, dtype=np.float64)
        opt.step()
    saved_state, saved_w = opt.state_dict(), w.numpy().copy()
    assert all(isinstance(v, np.ndarray) for s in saved_state["state"].values()
               for v in s.values() if not isinstance(v, int))
    resumed = tg.tensor(saved_w, dtype=np.float64, requires_grad=True)
    fresh = make([resumed])
    fresh.load_state_dict(saved_state)
    resumed.grad = tg.tensor(GRADS[2], dtype=np.float64)
    fresh.step()
    np.testing.assert_allclose(resumed.numpy(), uninterrupted, rtol=1e-12)


def test_load_state_dict_with_wrong_shapes_raises_and_changes_nothing():
    w = tg.tensor(W0, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = tg.ones(2, 3)
    opt.step()
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][0]["momentum_buffer"] = np.zeros((3, 2), dtype=np.float32)
    bad["param_groups"][0]["lr"] = 123.0
    with pytest.raises(ShapeError, match=r"state 'momentum_buffer' of parameter 0 has shape "
                                         r"\(3, 2\), the parameter has \(2, 3\)"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["momentum_buffer"],
                                  before["state"][0]["momentum_buffer"])


def test_bad_optimiser_arguments_raise_clear_errors():
    w = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="SGD: invalid learning rate lr=-0.1"):
        optim.SGD([w], lr=-0.1)
    with pytest.raises(ValueError, match="SGD: nesterov needs momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Adam: invalid"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="got a single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="a parameter appears twice"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="requires_grad=True"):
        optim.SGD([tg.zeros(2)], lr=0.1)


def test_sgd_with_momentum_solves_least_squares():
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((20, 3)), rng.standard_normal(20)
    w = tg.zeros(3, dtype=np.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.01, momentum=0.9)
    A_t, b_t = tg.tensor(A, dtype=np.float64), tg.tensor(b, dtype=np.float64)
    for _ in range(300):
        opt.zero_grad()
        ((A_t @ w - b_t) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(w.numpy(), np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-6)


# ----- gradient clipping --------------------------------------------------------------------
def _with_grads(*grads):
    params = []
    for g in grads:
        p = tg.zeros(*np.shape(g), dtype=np.float64, requires_grad=True)
        p.grad = tg.tensor(g, dtype=np.float64)
        params.append(p)
    return params


def test_clip_grad_norm_scales_to_max_norm_and_keeps_the_direction():
    params = _with_grads([3.0, 0.0], [[4.0]], [0.0, 12.0])
    total = nn.utils.clip_grad_norm_(params, max_norm=1.3)
    assert math.isclose(float(total), 13.0, rel_tol=1e-6)  # sqrt(9 + 16 + 144)
    clipped = np.concatenate([p.grad.numpy().ravel() for p in params])
    np.testing.assert_allclose(clipped, np.array([3.0, 0.0, 4.0, 0.0, 12.0]) * 1.3 / 13.0,
                               rtol=1e-6)


def test_clip_grad_norm_leaves_small_gradients_and_supports_inf_norm():
    params = _with_grads([0.3, -0.4])
    assert math.isclose(float(nn.utils.clip_grad_norm_(params, 1.0)), 0.5, rel_tol=1e-6)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.3, -0.4])
    params = _with_grads([1.0, -4.0], [2.0])
    assert float(nn.utils.clip_grad_norm_(params, 2.0, norm_type=math.inf)) == 4.0
    np.testing.assert_allclose(params[0].grad.numpy(), [0.5, -2.0], rtol=1e-6)


def test_clip_grad_norm_reports_non_finite_norms():
    params = _with_grads([np.inf, 1.0])
    with pytest.raises(BackwardError, match="clip_grad_norm_: the total gradient norm is inf"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clips_each_element():
    params = _with_grads([-3.0, 0.5, 2.0])
    nn.utils.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), [-1.0, 0.5, 1.0])

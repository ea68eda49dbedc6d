"""Learning-rate schedules against their closed forms, stepped as in a training loop."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import optim
from tinygrad_course.optim import lr_scheduler as L


def make_optimizer(lr=0.1, groups=1):
    params = [{"params": [tg.zeros(2, requires_grad=True)], "lr": lr * (i + 1)}
              for i in range(groups)]
    return optim.SGD(params, lr=lr)


def lrs_over(scheduler, steps):
    """The lr in force at t = 0, 1, ..., steps - 1 (scheduler.step() after each update)."""
    seen = []
    for _ in range(steps):
        seen.append(scheduler.get_last_lr())
        assert [g["lr"] for g in scheduler.optimizer.param_groups] == seen[-1]
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(seen)


def test_step_lr_multiplies_by_gamma_every_step_size_steps():
    got = lrs_over(L.StepLR(make_optimizer(0.1), step_size=3, gamma=0.5), 10)[:, 0]
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (t // 3) for t in range(10)], rtol=1e-12)


def test_linear_lr_defaults_warm_up_from_a_third_over_five_steps():
    got = lrs_over(L.LinearLR(make_optimizer(0.3)), 8)[:, 0]
    factors = [1 / 3 + (2 / 3) * min(t, 5) / 5 for t in range(8)]
    np.testing.assert_allclose(got, [0.3 * f for f in factors], rtol=1e-12)
    assert got[0] == pytest.approx(0.1) and got[5] == got[7] == pytest.approx(0.3)


def test_linear_lr_can_decay_to_zero():
    got = lrs_over(L.LinearLR(make_optimizer(1.0), start_factor=1.0, end_factor=0.0,
                              total_iters=4), 6)[:, 0]
    np.testing.assert_allclose(got, [1.0, 0.75, 0.5, 0.25, 0.0, 0.0], atol=1e-15)


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing_follows_half_a_cosine(eta_min):
    T = 10
    got = lrs_over(L.CosineAnnealingLR(make_optimizer(0.1, groups=2), T_max=T,
                                       eta_min=eta_min), T + 1)
    for group, base in enumerate([0.1, 0.2]):
        closed = [eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2
                  for t in range(T + 1)]
        np.testing.assert_allclose(got[:, group], closed, rtol=1e-12, atol=1e-15)
    assert got[T, 0] == pytest.approx(eta_min) and got[T // 2, 0] == pytest.approx(
        (0.1 + eta_min) / 2)


def test_lambda_lr_may_have_one_function_per_group():
    opt = make_optimizer(0.1, groups=2)
    got = lrs_over(L.LambdaLR(opt, [lambda t: 0.9 ** t, lambda t: 1 / (t + 1)]), 4)
    np.testing.assert_allclose(got[:, 0], [0.1 * 0.9 ** t for t in range(4)], rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], [0.2 / (t + 1) for t in range(4)], rtol=1e-12)


def test_sequential_lr_is_warmup_then_cosine_each_restarting_at_its_milestone():
    opt = make_optimizer(0.1)
    warmup, total = 4, 12
    scheduler = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.25, total_iters=warmup),
                                     L.CosineAnnealingLR(opt, T_max=total - warmup)],
                               milestones=[warmup])
    got = lrs_over(scheduler, total + 1)[:, 0]
    expected = [0.1 * (0.25 + 0.75 * t / warmup) for t in range(warmup)] + [
        0.1 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) / 2
        for t in range(warmup, total + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got.argmax() == warmup and got[-1] == pytest.approx(0.0)


def test_sequential_lr_checks_its_arguments():
    opt, other = make_optimizer(), make_optimizer()
    with pytest.raises(ValueError, match="2 schedulers need 1 milestones, got 0"):
        L.SequentialLR(opt, [L.StepLR(opt, 2), L.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="same optimizer"):
        L.SequentialLR(opt, [L.StepLR(opt, 2), L.StepLR(other, 3)], milestones=[2])


def test_schedulers_resume_from_their_state_dict():
    opt = make_optimizer(0.1)
    scheduler = L.CosineAnnealingLR(opt, T_max=8)
    lrs_over(scheduler, 3)
    state = scheduler.state_dict()
    assert state == {"last_epoch": 3, "base_lrs": [0.1]}
    resumed_opt = make_optimizer(0.1)
    resumed = L.CosineAnnealingLR(resumed_opt, T_max=8)
    resumed.load_state_dict(state)
    assert resumed.get_last_lr() == scheduler.get_last_lr()
    assert resumed_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_a_second_scheduler_keeps_the_original_base_lr():
    opt = make_optimizer(0.1)
    L.StepLR(opt, step_size=1, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    assert L.LinearLR(opt, start_factor=0.5, total_iters=2).base_lrs == [0.1]


def test_bad_scheduler_arguments_raise():
    opt = make_optimizer()
    with pytest.raises(ValueError, match="StepLR: step_size must be >= 1"):
        L.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="LinearLR: need 0 < start_factor <= 1"):
        L.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be >= 1"):
        L.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="LambdaLR: got 2 lr_lambdas for 1 param groups"):
        L.LambdaLR(opt, [lambda t: 1.0, lambda t: 1.0])
    with pytest.raises(TypeError, match="expected an Optimizer"):
        L.StepLR([tg.zeros(1)], step_size=1)


def test_linear_scaling_rule():
    assert optim.linear_scaling_rule(0.1, base_batch=32, batch=256) == pytest.approx(0.8)
    assert L.linear_scaling_rule(0.4, 128, 32) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="linear_scaling_rule: base_batch must be >= 1, got 0"):
        L.linear_scaling_rule(0.1, 0, 32)

"""Issue 20: the learning-rate schedules beyond step/linear/cosine, each against its closed
form (or PyTorch's documented recurrence) for a number of steps, with get_last_lr,
state_dict/load_state_dict, and the errors."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import optim
from tinygrad_course.errors import ArgumentError, DTypeError
from tinygrad_course.optim import lr_scheduler as S

BASE = 0.5


def _sgd(lr=BASE, **kwargs):
    return optim.SGD([tg.zeros(2, requires_grad=True)], lr=lr, **kwargs)


def _curve(scheduler, steps):
    """The lr the optimiser holds at t = 0 .. steps - 1 (step() after each)."""
    lrs = []
    for _ in range(steps):
        lrs.append(scheduler.optimizer.param_groups[0]["lr"])
        assert scheduler.get_last_lr() == [lrs[-1]]
        scheduler.step()
    return lrs


def _sgdr(t, first, mult):
    """Cosine cycles of lengths first, first * mult, ...: [0, 3), [3, 9), [9, 21), [21, 45)."""
    start, length = 0, first
    while t >= start + length:
        start, length = start + length, length * mult
    return BASE * (1 + math.cos(math.pi * (t - start) / length)) / 2


CLOSED_FORMS = [
    ("MultiStepLR", lambda o: S.MultiStepLR(o, milestones=[5, 2, 9], gamma=0.5),
     lambda t: BASE * 0.5 ** sum(t >= m for m in (2, 5, 9))),
    ("ExponentialLR", lambda o: S.ExponentialLR(o, gamma=0.8), lambda t: BASE * 0.8 ** t),
    ("ConstantLR", lambda o: S.ConstantLR(o, factor=0.25, total_iters=4),
     lambda t: BASE * (0.25 if t < 4 else 1.0)),
    ("PolynomialLR", lambda o: S.PolynomialLR(o, total_iters=6, power=2.0),
     lambda t: BASE * (1 - min(t, 6) / 6) ** 2),
    ("MultiplicativeLR", lambda o: S.MultiplicativeLR(o, lambda k: 1 / (1 + k)),
     lambda t: BASE / math.factorial(t + 1)),
    ("CosineAnnealingWarmRestarts T_mult=1",
     lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4, eta_min=0.1),
     lambda t: 0.1 + (BASE - 0.1) * (1 + math.cos(math.pi * (t % 4) / 4)) / 2),
    ("CosineAnnealingWarmRestarts T_mult=2",
     lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), lambda t: _sgdr(t, 3, 2)),
    ("ChainedScheduler", lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.1,
                                                                    total_iters=3),
                                                       S.ExponentialLR(o, gamma=0.9)]),
     lambda t: BASE * (0.1 if t < 3 else 1.0) * 0.9 ** t),
    ("SequentialLR warmup then cosine",
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=3),
                                  S.CosineAnnealingLR(o, T_max=10)], milestones=[3]),
     lambda t: BASE * (0.1 + 0.9 * t / 3) if t < 3
     else BASE * (1 + math.cos(math.pi * (t - 3) / 10)) / 2),
]


@pytest.mark.parametrize("name,make,closed_form", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_schedule_matches_its_closed_form(name, make, closed_form):
    lrs = _curve(make(_sgd()), 25)
    np.testing.assert_allclose(lrs, [closed_form(t) for t in range(25)], rtol=1e-12)


@pytest.mark.parametrize("name,make,closed_form", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_state_dict_resumes_the_schedule(name, make, closed_form):
    first = make(_sgd())
    _curve(first, 7)
    saved = first.state_dict()
    optimizer = _sgd()
    resumed = make(optimizer)
    resumed.load_state_dict(saved)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(closed_form(7), rel=1e-12)
    resumed.step()
    assert resumed.get_last_lr()[0] == pytest.approx(closed_form(8), rel=1e-12)


def _one_cycle_reference(t, total, max_lr, pct, div, final_div, strategy):
    initial, final = max_lr / div, max_lr / div / final_div
    up_end = pct * total - 1

    def anneal(a, b, f):
        return b + (a - b) * (1 + math.cos(math.pi * f)) / 2 if strategy == "cos" else (
            a + (b - a) * f)
    if t <= up_end:
        return anneal(initial, max_lr, t / up_end)
    return anneal(max_lr, final, (t - up_end) / (total - 1 - up_end))


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_rises_then_falls_and_moves_momentum_the_other_way(strategy):
    optimizer = _sgd(momentum=0.9)
    sched = S.OneCycleLR(optimizer, max_lr=1.0, total_steps=20, pct_start=0.25,
                         anneal_strategy=strategy, div_factor=10.0, final_div_factor=100.0)
    momenta = []
    lrs = []
    for _ in range(20):
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        sched.step()
    expected = [_one_cycle_reference(t, 20, 1.0, 0.25, 10.0, 100.0, strategy) for t in range(20)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] == pytest.approx(1e-3)
    assert momenta[0] == pytest.approx(0.95) and min(momenta) == pytest.approx(0.85)
    assert momenta[int(np.argmax(lrs))] == pytest.approx(0.85)  # peak lr, lowest momentum
    with pytest.raises(ArgumentError, match="OneCycleLR"):
        for _ in range(5):
            sched.step()


def test_one_cycle_sets_beta1_of_adam_and_three_phase_returns_to_the_start():
    adam = optim.Adam([tg.zeros(2, requires_grad=True)], lr=1.0)
    sched = S.OneCycleLR(adam, max_lr=1.0, epochs=2, steps_per_epoch=10, three_phase=True,
                         pct_start=0.25)
    assert adam.param_groups[0]["betas"] == (0.95, 0.999)
    lrs = _curve(sched, 20)
    assert lrs[4] == pytest.approx(1.0)  # up by step pct * total - 1 = 4
    assert lrs[8] == pytest.approx(1.0 / 25)  # back to the initial lr by step 8
    with pytest.raises(ArgumentError, match="OneCycleLR"):
        S.OneCycleLR(optim.Adagrad([tg.zeros(1, requires_grad=True)]), max_lr=1.0,
                     total_steps=10)


def test_cyclic_lr_triangle_modes():
    tri = _curve(S.CyclicLR(_sgd(momentum=0.9), base_lr=0.1, max_lr=1.0, step_size_up=2), 9)
    np.testing.assert_allclose(tri, [0.1, 0.55, 1.0, 0.55, 0.1, 0.55, 1.0, 0.55, 0.1])
    halving = _curve(S.CyclicLR(_sgd(momentum=0.9), base_lr=0.1, max_lr=1.0, step_size_up=2,
                                mode="triangular2"), 9)
    np.testing.assert_allclose(halving[4:], [0.1, 0.325, 0.55, 0.325, 0.1])
    decaying = _curve(S.CyclicLR(_sgd(momentum=0.9), base_lr=0.1, max_lr=1.0, step_size_up=1,
                                 step_size_down=3, mode="exp_range", gamma=0.9), 5)
    np.testing.assert_allclose(decaying, [0.1, 0.1 + 0.9 * 0.9, 0.1 + 0.9 * 2 / 3 * 0.81,
                                          0.1 + 0.9 / 3 * 0.729, 0.1])
    optimizer = _sgd(momentum=0.9)
    S.CyclicLR(optimizer, base_lr=0.1, max_lr=1.0, step_size_up=2).step()
    assert optimizer.param_groups[0]["momentum"] == pytest.approx(0.85)


def test_reduce_lr_on_plateau_waits_patience_then_cools_down():
    optimizer = _sgd(lr=1.0)
    sched = S.ReduceLROnPlateau(optimizer, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    # bad epochs from the 3rd metric: 3 in a row (> patience 2) halves the lr at epoch 5;
    # one epoch of cooldown, then 3 more bad ones: epoch 9; then the floor min_lr = 0.2
    assert lrs == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    saved = sched.state_dict()
    again = S.ReduceLROnPlateau(_sgd(lr=0.25), factor=0.5, patience=2, min_lr=0.2)
    again.load_state_dict(saved)
    assert again.best == 3 and again.num_bad_epochs == saved["num_bad_epochs"]
    maximizing = S.ReduceLROnPlateau(_sgd(lr=1.0), mode="max", patience=0,
                                     threshold_mode="abs", threshold=0.1)
    for accuracy in [0.5, 0.55, 0.7]:
        maximizing.step(accuracy)
    assert maximizing.get_last_lr() == [0.1]  # 0.55 < 0.5 + 0.1: not an improvement
    with pytest.raises(DTypeError, match="ReduceLROnPlateau"):
        maximizing.step("low")


def test_scheduler_arguments_are_checked():
    with pytest.raises(ArgumentError, match="ConstantLR"):
        S.ConstantLR(_sgd(), factor=2.0)
    with pytest.raises(ArgumentError, match="CyclicLR"):
        S.CyclicLR(_sgd(momentum=0.9), 0.1, 1.0, mode="sawtooth")
    with pytest.raises(ArgumentError, match="OneCycleLR"):
        S.OneCycleLR(_sgd(momentum=0.9), max_lr=1.0)
    with pytest.raises(ArgumentError, match="ReduceLROnPlateau"):
        S.ReduceLROnPlateau(_sgd(), mode="lowest")
    with pytest.raises(DTypeError, match="ChainedScheduler"):
        S.ChainedScheduler([])

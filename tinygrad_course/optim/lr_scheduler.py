"""Learning-rate schedules: the step size as a function of the step (or epoch) count t.

Each scheduler wraps an optimiser and rewrites ``group["lr"]`` of every parameter group.
Use it as in PyTorch: build the optimiser, then the scheduler (which sets lr for t = 0), and
call ``scheduler.step()`` once per step or epoch AFTER ``optimizer.step()``:

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = CosineAnnealingLR(opt, T_max=epochs)
    for epoch in range(epochs):
        train_one_epoch(model, opt)        # optimizer.step() inside
        sched.step()

Every schedule here has a closed form lr(t) = f(base_lr, t), written in ``lr_at``; base_lr
is the group's lr when the first scheduler was attached (kept as ``group["initial_lr"]``):

    StepLR             base * gamma^floor(t / step_size)
    LinearLR           base * (s + (e - s) * min(t, T) / T)          (warmup when s < e)
    CosineAnnealingLR  eta_min + (base - eta_min) * (1 + cos(pi t / T_max)) / 2
    LambdaLR           base * lr_lambda(t)
    SequentialLR       schedulers[i] from milestone i on, its own t restarting at 0 there

``linear_scaling_rule`` is the rule of thumb for changing the batch size: batch x k -> lr x k.
"""

import bisect
import math
import operator

from ..errors import ArgumentError, DTypeError
from .optimizer import Optimizer, check_hyperparameter


def _count(owner, name, value, low):
    """An integer setting (a number of steps) >= low, or an error naming the scheduler."""
    try:
        value = operator.index(value)
    except TypeError:
        raise DTypeError(f"{owner}: {name} must be an integer, got {value!r}") from None
    if value < low:
        raise ArgumentError(f"{owner}: {name} must be >= {low}, got {value}")
    return value


class LRScheduler:
    """Base class: keeps the step count ``last_epoch`` and writes lr_at(base_lr, t) into
    the optimiser's groups. Subclasses define only ``lr_at``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise DTypeError(f"{type(self).__name__}: expected an Optimizer, got "
                             f"{type(optimizer).__name__}")
        last_epoch = _count(type(self).__name__, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: resuming at last_epoch={last_epoch} "
                               "needs 'initial_lr' in every param group (load the optimiser's "
                               "state_dict first)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr, t):
        """The learning rate at step t >= 0 for a group whose initial lr is base_lr."""
        raise NotImplementedError(f"{type(self).__name__} must define lr_at()")

    def group_lr(self, group, base_lr, t):
        """The lr of param group number ``group`` at step t (the same rule for every group,
        except in LambdaLR, which may have one function per group)."""
        return self.lr_at(base_lr, t)

    def get_lr(self):
        """The learning rates for the current step, one per parameter group."""
        return [self.group_lr(i, base, self.last_epoch) for i, base in enumerate(self.base_lrs)]

    def get_last_lr(self):
        """The learning rates the last step() set, one per parameter group."""
        return list(self._last_lr)

    def step(self):
        """Advance t by one and set every group's lr to lr_at(base_lr, t)."""
        self.last_epoch += 1
        self._set(self.get_lr())

    def _set(self, lrs):
        for lr in lrs:  # e.g. a LambdaLR function that returned NaN or a string
            check_hyperparameter(type(self).__name__, f"lr at step {self.last_epoch}", lr,
                                 "learning rate")
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict):
        """Restore the step count (and base lrs) and set the lr that belongs to it."""
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = [float(lr) for lr in state_dict["base_lrs"]]
        self._set(self.get_lr())

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    """Multiply the lr by gamma every step_size steps: base * gamma^floor(t / step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        check_hyperparameter("StepLR", "gamma", gamma, "decay factor")
        self.step_size, self.gamma = _count("StepLR", "step_size", step_size, 1), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from start_factor (t = 0) to end_factor
    (t >= total_iters), then constant. With start_factor < 1 this is linear warmup:
    base * (s + (e - s) * min(t, T) / T)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        check_hyperparameter("LinearLR", "start_factor", start_factor, "factor")
        check_hyperparameter("LinearLR", "end_factor", end_factor, "factor")
        if not 0.0 < start_factor <= 1.0 or not 0.0 <= end_factor <= 1.0:
            raise ArgumentError(f"LinearLR: need 0 < start_factor <= 1 and 0 <= end_factor <= 1, "
                             f"got {start_factor} and {end_factor}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = _count("LinearLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        progress = min(t, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr (t = 0) down to eta_min (t = T_max):

        lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2

    Large early steps explore; the slow approach to eta_min lets the weights settle. Past
    T_max the cosine continues (it rises again), as in PyTorch; stop at T_max for plain decay.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        check_hyperparameter("CosineAnnealingLR", "eta_min", eta_min, "minimum learning rate")
        self.T_max = _count("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        cosine = math.cos(math.pi * t / self.T_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + cosine) / 2


class LambdaLR(LRScheduler):
    """lr(t) = base_lr * lr_lambda(t): any schedule as a function of the step. ``lr_lambda`` is
    one function for every group, or a list with one function per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 1
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if not all(callable(f) for f in lambdas):
            raise DTypeError(f"LambdaLR: lr_lambda must be a function of the step (or a list "
                             f"of them), got {lr_lambda!r:.60}")
        if len(lambdas) != groups:
            raise ArgumentError(f"LambdaLR: got {len(lambdas)} lr_lambdas for {groups} param "
                                "groups")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def group_lr(self, group, base_lr, t):
        return base_lr * self.lr_lambdas[group](t)


class SequentialLR(LRScheduler):
    """Schedules one after another: schedulers[0] until milestones[0], then schedulers[1]
    (its own t restarting at 0) until milestones[1], and so on.

    Warmup then cosine decay over ``total`` steps:
        SequentialLR(opt, [LinearLR(opt, start_factor=0.01, total_iters=w),
                           CosineAnnealingLR(opt, T_max=total - w)], milestones=[w])
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        schedulers, milestones = list(schedulers), list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ArgumentError(f"SequentialLR: {len(schedulers)} schedulers need "
                             f"{len(schedulers) - 1} milestones, got {len(milestones)}")
        if not all(isinstance(s, LRScheduler) for s in schedulers):
            raise DTypeError(f"SequentialLR: schedulers must be LRSchedulers, got "
                             f"{[type(s).__name__ for s in schedulers]}")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ArgumentError("SequentialLR: every scheduler must wrap the same optimizer")
        if milestones != sorted(milestones) or any(m < 1 for m in milestones):
            raise ArgumentError(f"SequentialLR: milestones must be increasing and >= 1, got "
                             f"{milestones}")
        self.schedulers, self.milestones = schedulers, milestones
        super().__init__(optimizer, last_epoch)

    def _current(self, t):
        """The scheduler in charge at step t, and t counted from its milestone."""
        i = bisect.bisect_right(self.milestones, t)
        return self.schedulers[i], t - (self.milestones[i - 1] if i else 0)

    def group_lr(self, group, base_lr, t):
        scheduler, local_t = self._current(t)
        return scheduler.group_lr(group, base_lr, local_t)


def linear_scaling_rule(base_lr, base_batch, batch):
    """The learning rate for ``batch`` given one that works for ``base_batch``: lr x k for
    batch x k (Goyal et al., 2017). A minibatch gradient averages B per-example gradients; k
    times more examples per step and k times fewer steps per epoch keep the distance moved
    per epoch about the same when each step is k times longer (best with a warmup)."""
    check_hyperparameter("linear_scaling_rule", "base_lr", base_lr, "learning rate")
    _count("linear_scaling_rule", "base_batch", base_batch, 1)
    _count("linear_scaling_rule", "batch", batch, 1)
    return base_lr * batch / base_batch


__all__ = ["LRScheduler", "StepLR", "LinearLR", "CosineAnnealingLR", "LambdaLR",
           "SequentialLR", "linear_scaling_rule"]

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
    MultiStepLR        base * gamma^(milestones passed)      ExponentialLR  base * gamma^t
    ConstantLR         base * factor until total_iters       PolynomialLR   base (1 - t/T)^p
    MultiplicativeLR   base * prod_{k<=t} lr_lambda(k)
    CosineAnnealingWarmRestarts   cosine cycles of length T_0, T_0 T_mult, ... (SGDR)
    OneCycleLR, CyclicLR          rise and fall between two rates (momentum the other way)
    ChainedScheduler   the factors of several schedules multiplied
    ReduceLROnPlateau  lr * factor when a metric stops improving (step(metric), not t)

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


class MultiStepLR(LRScheduler):
    """Multiply the lr by gamma at each milestone: base * gamma^(number of milestones <= t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        check_hyperparameter("MultiStepLR", "gamma", gamma, "decay factor")
        milestones = [_count("MultiStepLR", "milestone", m, 0) for m in milestones]
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """Multiply the lr by gamma every step: base * gamma^t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        check_hyperparameter("ExponentialLR", "gamma", gamma, "decay factor")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** t


class ConstantLR(LRScheduler):
    """base * factor for the first total_iters steps, then base (a crude warmup)."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        check_hyperparameter("ConstantLR", "factor", factor, "factor")
        if factor > 1:
            raise ArgumentError(f"ConstantLR: factor must be in [0, 1], got {factor}")
        self.factor = factor
        self.total_iters = _count("ConstantLR", "total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (self.factor if t < self.total_iters else 1.0)


class PolynomialLR(LRScheduler):
    """base * (1 - min(t, T) / T)^power: power 1 is linear decay to 0 at T = total_iters."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        check_hyperparameter("PolynomialLR", "power", power, "power")
        self.total_iters = _count("PolynomialLR", "total_iters", total_iters, 1)
        self.power = power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (1 - min(t, self.total_iters) / self.total_iters) ** self.power


class MultiplicativeLR(LRScheduler):
    """lr(t) = lr(t - 1) * lr_lambda(t) for t >= 1: base times the product of the factors
    lr_lambda(1) ... lr_lambda(t). One function for every group, or one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 1
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if not all(callable(f) for f in lambdas) or len(lambdas) != groups:
            raise DTypeError(f"MultiplicativeLR: lr_lambda must be a function of the step, or "
                             f"one per param group ({groups}), got {lr_lambda!r:.60}")
        self.lr_lambdas = lambdas
        self._products = {}  # group -> (t, product of its factors up to t)
        super().__init__(optimizer, last_epoch)

    def group_lr(self, group, base_lr, t):
        done, product = self._products.get(group, (0, 1.0))
        if done > t:
            done, product = 0, 1.0
        for k in range(done + 1, t + 1):
            product *= self.lr_lambdas[group](k)
        self._products[group] = (t, product)
        return base_lr * product


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine decay from base to eta_min over T_i steps, then a restart at base; the cycles
    grow by T_mult: T_i = T_0 T_mult^i (SGDR, Loshchilov & Hutter).

        lr(t) = eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) / 2,
        T_cur = the steps since the last restart."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = _count("CosineAnnealingWarmRestarts", "T_0", T_0, 1)
        self.T_mult = _count("CosineAnnealingWarmRestarts", "T_mult", T_mult, 1)
        check_hyperparameter("CosineAnnealingWarmRestarts", "eta_min", eta_min,
                             "minimum learning rate")
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def cycle_position(self, t):
        """(T_cur, T_i): steps into the current cycle, and its length."""
        if self.T_mult == 1:
            return t % self.T_0, self.T_0
        start, length = 0, self.T_0
        while t >= start + length:
            start, length = start + length, length * self.T_mult
        return t - start, length

    def lr_at(self, base_lr, t):
        t_cur, t_i = self.cycle_position(t)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def _momentum_key(owner, optimizer):
    """'momentum' (SGD, RMSprop) or 'betas' (Adam family): what cycle_momentum changes."""
    defaults = optimizer.defaults
    if "momentum" in defaults:
        return "momentum"
    if "betas" in defaults:
        return "betas"
    raise ArgumentError(f"{owner}: cycle_momentum=True needs an optimiser with momentum or "
                        f"betas, got {type(optimizer).__name__} (pass cycle_momentum=False)")


class _CyclingMomentum(LRScheduler):
    """A schedule that sets the lr itself (not from the group's lr) and, with cycle_momentum,
    moves the momentum (or beta1) against the lr: high lr, low momentum."""

    def _set(self, lrs):
        super()._set(lrs)
        if not self.cycle_momentum:
            return
        momentum = self.momentum_at(self.last_epoch)
        for group in self.optimizer.param_groups:
            if self.momentum_key == "betas":
                group["betas"] = (momentum,) + tuple(group["betas"][1:])
            else:
                group["momentum"] = momentum

    def group_lr(self, group, base_lr, t):
        return self.lr_at(base_lr, t)


def _anneal(strategy, start, end, fraction):
    if strategy == "cos":
        return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2
    return start + (end - start) * fraction


class OneCycleLR(_CyclingMomentum):
    """The 1cycle policy (Smith): the lr rises from max_lr / div_factor to max_lr over the
    first pct_start of total_steps, then falls to initial_lr / final_div_factor (cosine or
    linear); momentum moves the other way, max_momentum -> base_momentum -> max_momentum.
    three_phase=True: up, back down to the initial lr symmetrically, then the final fall."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        name = "OneCycleLR"
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ArgumentError(f"{name}: give total_steps, or epochs and steps_per_epoch")
            total_steps = _count(name, "epochs", epochs, 1) * _count(
                name, "steps_per_epoch", steps_per_epoch, 1)
        self.total_steps = _count(name, "total_steps", total_steps, 2)
        check_hyperparameter(name, "max_lr", max_lr, "learning rate")
        check_hyperparameter(name, "pct_start", pct_start, "fraction", below=1.0)
        for what, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            check_hyperparameter(name, what, value, "factor")
            if value <= 0:
                raise ArgumentError(f"{name}: {what} must be > 0, got {value}")
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                                f"{anneal_strategy!r}")
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        initial = max_lr / div_factor
        final = initial / final_div_factor
        up = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:  # (end step, lr there, momentum there)
            self.phases = [(up, max_lr, base_momentum), (2 * up, initial, max_momentum),
                           (last, final, max_momentum)]
        else:
            self.phases = [(up, max_lr, base_momentum), (last, final, max_momentum)]
        self.initial_lr, self.max_momentum = initial, max_momentum
        if cycle_momentum:
            self.momentum_key = _momentum_key(name, optimizer)
        super().__init__(optimizer, last_epoch)

    def _phase_value(self, t, index):
        if t > self.total_steps:
            raise ArgumentError(f"OneCycleLR: stepped {t} times, past total_steps="
                                f"{self.total_steps}")
        start, value = 0.0, (self.initial_lr, self.max_momentum)[index]
        for i, (end, lr, momentum) in enumerate(self.phases):
            target = (lr, momentum)[index]
            if t <= end or i == len(self.phases) - 1:
                # (the step() after the last batch reaches t = total_steps: hold the end)
                fraction = min((t - start) / (end - start), 1.0) if end > start else 1.0
                return _anneal(self.anneal_strategy, value, target, fraction)
            start, value = end, target
        return value

    def lr_at(self, base_lr, t):
        return self._phase_value(t, 0)

    def momentum_at(self, t):
        return self._phase_value(t, 1)


class CyclicLR(_CyclingMomentum):
    """The lr goes back and forth between base_lr and max_lr (Smith's cyclical learning
    rates): step_size_up steps up, step_size_down (default: the same) down.

        cycle = floor(1 + t / (up + down)),  x = position in the cycle in [0, 1)
        lr = base_lr + (max_lr - base_lr) * height(x) * scale
    mode 'triangular' (scale 1), 'triangular2' (halved each cycle), 'exp_range' (gamma^t),
    or any scale_fn with scale_mode 'cycle' or 'iterations'. Momentum moves the other way
    (max_momentum at base_lr) when cycle_momentum=True."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        name = "CyclicLR"
        check_hyperparameter(name, "base_lr", base_lr, "learning rate")
        check_hyperparameter(name, "max_lr", max_lr, "learning rate")
        up = _count(name, "step_size_up", step_size_up, 1)
        down = up if step_size_down is None else _count(name, "step_size_down",
                                                        step_size_down, 1)
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if scale_fn is None:
            if mode not in ("triangular", "triangular2", "exp_range"):
                raise ArgumentError(f"{name}: mode must be 'triangular', 'triangular2' or "
                                    f"'exp_range', got {mode!r}")
            scale_fn = {"triangular": lambda x: 1.0,
                        "triangular2": lambda x: 1 / 2.0 ** (x - 1),
                        "exp_range": lambda x: gamma ** x}[mode]
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.scale_fn, self.scale_mode = scale_fn, scale_mode
        self.base_lr, self.max_lr, self.cycle_momentum = base_lr, max_lr, cycle_momentum
        self.base_momentum, self.max_momentum = base_momentum, max_momentum
        if cycle_momentum:
            self.momentum_key = _momentum_key(name, optimizer)
        super().__init__(optimizer, last_epoch)

    def _height(self, t):
        """(how far up the cycle is in [0, 1], the scale of this cycle or step)."""
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return height, self.scale_fn(cycle if self.scale_mode == "cycle" else t)

    def lr_at(self, base_lr, t):
        height, scale = self._height(t)
        return self.base_lr + (self.max_lr - self.base_lr) * height * scale

    def momentum_at(self, t):
        height, scale = self._height(t)
        return self.max_momentum - (self.max_momentum - self.base_momentum) * height * scale


class ChainedScheduler(LRScheduler):
    """Several schedules at once, their factors multiplied:

        lr(t) = base * prod over schedulers s of (s's lr(t) / base)

    e.g. ConstantLR(factor=0.1, total_iters=5) chained with ExponentialLR(gamma=0.9) gives
    0.1 * 0.9^t for five steps, then 0.9^t. (The same as PyTorch's for multiplicative
    schedules; PyTorch applies each scheduler to the lr the others left.)"""

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if not schedulers or not all(isinstance(s, LRScheduler) for s in schedulers):
            raise DTypeError("ChainedScheduler: schedulers must be a non-empty list of "
                             "LRSchedulers")
        optimizer = optimizer or schedulers[0].optimizer
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ArgumentError("ChainedScheduler: every scheduler must wrap the same optimizer")
        self.schedulers = schedulers
        super().__init__(optimizer)

    def group_lr(self, group, base_lr, t):
        lr = base_lr
        for scheduler in self.schedulers:
            lr *= scheduler.group_lr(group, base_lr, t) / base_lr if base_lr else 1.0
        return lr


class ReduceLROnPlateau:
    """Lower the lr when a metric has stopped improving: step(metric) once per epoch.

    An improvement is metric < best * (1 - threshold) in mode 'min' with threshold_mode
    'rel' (metric < best - threshold with 'abs'; the reverse in mode 'max'). After more than
    ``patience`` epochs without one, lr <- max(lr * factor, min_lr) (skipped when the change
    is below eps), then ``cooldown`` epochs pass before counting again. Not a function of t:
    it reacts to the metric, so it keeps its counters in state_dict()."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise DTypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"{name}: mode must be 'min' or 'max' and threshold_mode 'rel' "
                                f"or 'abs', got {mode!r} and {threshold_mode!r}")
        check_hyperparameter(name, "factor", factor, "factor", below=1.0)
        check_hyperparameter(name, "threshold", threshold, "threshold")
        check_hyperparameter(name, "eps", eps, "epsilon")
        groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(min_lrs) != groups:
            raise ArgumentError(f"{name}: got {len(min_lrs)} min_lr values for {groups} param "
                                "groups")
        for value in min_lrs:
            check_hyperparameter(name, "min_lr", value, "minimum learning rate")
        self.optimizer, self.mode, self.factor = optimizer, mode, factor
        self.patience = _count(name, "patience", patience, 0)
        self.cooldown = _count(name, "cooldown", cooldown, 0)
        self.threshold, self.threshold_mode, self.min_lrs, self.eps = (threshold,
                                                                       threshold_mode,
                                                                       min_lrs, eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, metric, best):
        if self.mode == "min":
            bound = best * (1 - self.threshold) if self.threshold_mode == "rel" else (
                best - self.threshold)
            return metric < bound
        bound = best * (1 + self.threshold) if self.threshold_mode == "rel" else (
            best + self.threshold)
        return metric > bound

    def step(self, metrics):
        """Record this epoch's metric (a number, e.g. the validation loss)."""
        try:
            metric = float(metrics)
        except (TypeError, ValueError):
            raise DTypeError(f"ReduceLROnPlateau.step: the metric must be a number, got "
                             f"{metrics!r:.40}") from None
        if math.isnan(metric):
            raise ArgumentError("ReduceLROnPlateau.step: the metric is NaN")
        self.last_epoch += 1
        if self.is_better(metric, self.best):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {"best": self.best, "num_bad_epochs": self.num_bad_epochs,
                "cooldown_counter": self.cooldown_counter, "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict):
        self.best = float(state_dict["best"])
        self.num_bad_epochs = int(state_dict["num_bad_epochs"])
        self.cooldown_counter = int(state_dict["cooldown_counter"])
        self.last_epoch = int(state_dict["last_epoch"])
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


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
           "SequentialLR", "MultiStepLR", "ExponentialLR", "ConstantLR", "PolynomialLR",
           "MultiplicativeLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR",
           "ChainedScheduler", "ReduceLROnPlateau", "linear_scaling_rule"]

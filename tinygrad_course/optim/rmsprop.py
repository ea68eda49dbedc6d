"""Adagrad, RMSprop and Adadelta: per-weight step sizes from the squares of past gradients.

With g = dL/dw + weight_decay * w (negated first when maximize=True), PyTorch's rules and
state names:

    Adagrad   sum <- sum + g^2;   w <- w - lr_t g / (sqrt(sum) + eps),
              lr_t = lr / (1 + (t - 1) lr_decay)
              (every gradient ever seen counts: steps only shrink)
    RMSprop   square_avg <- alpha square_avg + (1 - alpha) g^2     (forgets: a running mean)
              centered:  grad_avg <- alpha grad_avg + (1 - alpha) g, and the denominator is
                         sqrt(square_avg - grad_avg^2) + eps (the variance, not the mean square)
              plain:     denominator sqrt(square_avg) + eps
              momentum:  momentum_buffer <- momentum b + g / denominator;  w <- w - lr b
              else       w <- w - lr g / denominator
    Adadelta  square_avg <- rho square_avg + (1 - rho) g^2
              delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
              acc_delta <- rho acc_delta + (1 - rho) delta^2;   w <- w - lr delta
              (the ratio of two running RMS values has the units of w: lr = 1 works)
"""

from ..errors import ArgumentError
from .optimizer import Optimizer, check_flag, check_hyperparameter


def _check_common(optimizer, group, *rates):
    name = type(optimizer).__name__
    check_hyperparameter(name, "lr", group["lr"], "learning rate")
    check_hyperparameter(name, "eps", group["eps"], "epsilon")
    check_hyperparameter(name, "weight_decay", group["weight_decay"], "weight decay")
    check_flag(name, "maximize", group["maximize"])
    for rate in rates:
        check_hyperparameter(name, rate, group[rate], "decay rate")
        if group[rate] > 1:
            raise ArgumentError(f"{name}: invalid decay rate {rate}={group[rate]!r}; expected "
                                "a number in [0, 1]")


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def check_hyperparameters(self, group):
        _check_common(self, group)
        check_hyperparameter("Adagrad", "lr_decay", group["lr_decay"], "learning-rate decay")
        check_hyperparameter("Adagrad", "initial_accumulator_value",
                             group["initial_accumulator_value"], "initial accumulator value")

    def state_layout(self, group):
        return {"step": "count", "sum": "array"}

    def update(self, w, g, state, group, xp):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        if "step" not in state:
            state.update(step=0, sum=xp.full_like(w, group["initial_accumulator_value"]))
        state["step"] += 1
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] = state["sum"] + g * g
        return w - lr * g / (xp.sqrt(state["sum"]) + group["eps"])


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def check_hyperparameters(self, group):
        _check_common(self, group, "alpha")
        check_hyperparameter("RMSprop", "momentum", group["momentum"], "momentum")
        check_flag("RMSprop", "centered", group["centered"])

    def state_layout(self, group):
        layout = {"step": "count", "square_avg": "array"}
        if group["momentum"]:
            layout["momentum_buffer"] = "array"
        if group["centered"]:
            layout["grad_avg"] = "array"
        return layout

    def update(self, w, g, state, group, xp):
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        if "step" not in state:
            state.update(step=0, square_avg=xp.zeros_like(w))
            if momentum:
                state["momentum_buffer"] = xp.zeros_like(w)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(w)
        state["step"] += 1
        state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
        mean_square = state["square_avg"]
        if group["centered"]:
            state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
            mean_square = mean_square - state["grad_avg"] ** 2
        denominator = xp.sqrt(mean_square) + eps
        if momentum:
            state["momentum_buffer"] = momentum * state["momentum_buffer"] + g / denominator
            return w - group["lr"] * state["momentum_buffer"]
        return w - group["lr"] * g / denominator


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        _check_common(self, group, "rho")

    def state_layout(self, group):
        return {"step": "count", "square_avg": "array", "acc_delta": "array"}

    def update(self, w, g, state, group, xp):
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        if "step" not in state:
            state.update(step=0, square_avg=xp.zeros_like(w), acc_delta=xp.zeros_like(w))
        state["step"] += 1
        state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g * g
        delta = xp.sqrt(state["acc_delta"] + eps) / xp.sqrt(state["square_avg"] + eps) * g
        state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
        return w - group["lr"] * delta

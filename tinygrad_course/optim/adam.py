"""Adam and AdamW: per-weight step sizes from running moments of the gradient.

    m <- beta1 * m + (1 - beta1) * g                 first moment (mean of g)
    v <- beta2 * v + (1 - beta2) * g^2               second moment (mean of g^2)
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)     bias correction (m, v start at 0)
    w <- w - lr * m_hat / (sqrt(v_hat) + eps)

Weight decay: Adam adds weight_decay * w to g (L2 in the loss, then rescaled by v_hat);
AdamW decays the weight directly, w <- w - lr * weight_decay * w, before the step
("decoupled" weight decay, Loshchilov & Hutter). amsgrad keeps the maximum v seen
(max_exp_avg_sq), so the step size never grows back.

Three relatives, each PyTorch's update rule with PyTorch's state names:
    Adamax  u <- max(beta2 u, |g| + eps) (exp_inf), an infinity-norm v;  w -= lr/(1-beta1^t) m/u
    NAdam   Adam with Nesterov momentum: the step mixes m and g with the momentum schedule
            mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), psi = momentum_decay (mu_product = prod mu)
    RAdam   Adam whose adaptive step is switched on by the rectification term r_t once the
            variance of v_hat is finite (rho_t > 5); before that, momentum SGD with m_hat
"""

import math

from ..errors import DTypeError
from .optimizer import Optimizer, check_flag, check_hyperparameter


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        check_adam_family(self, group)
        check_flag(type(self).__name__, "amsgrad", group["amsgrad"])

    def state_layout(self, group):
        """What update() keeps per weight: the step count t, m and v (and max v_hat)."""
        return {"step": "count", "exp_avg": "array", "exp_avg_sq": "array",
                "max_exp_avg_sq": "optional array"}

    def update(self, w, g, state, group, xp):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if group["weight_decay"]:
            if self.decoupled:
                w = w * (1 - lr * group["weight_decay"])
            else:
                g = g + group["weight_decay"] * w
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(w)
            state["exp_avg_sq"] = xp.zeros_like(w)
        state["step"] += 1
        t = state["step"]
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        v = state["exp_avg_sq"]
        if group["amsgrad"]:
            v = xp.maximum(state.get("max_exp_avg_sq", v), v)
            state["max_exp_avg_sq"] = v
        m_hat = state["exp_avg"] / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        return w - lr * m_hat / (xp.sqrt(v_hat) + eps)


def _pair(betas):
    return tuple(betas) if isinstance(betas, (tuple, list)) else betas


def check_adam_family(optimizer, group):
    """lr, betas (two numbers in [0, 1)), eps, weight_decay and maximize of the Adam family."""
    name = type(optimizer).__name__
    check_hyperparameter(name, "lr", group["lr"], "learning rate")
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise DTypeError(f"{name}: invalid betas={betas!r}; expected two numbers "
                         "(beta1, beta2), each in [0, 1)")
    for i, beta in enumerate(betas):
        check_hyperparameter(name, f"betas[{i}]", beta, "beta", below=1.0)
    check_hyperparameter(name, "eps", group["eps"], "epsilon")
    check_hyperparameter(name, "weight_decay", group["weight_decay"], "weight decay")
    check_flag(name, "maximize", group["maximize"])


class AdamW(Adam):
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class Adamax(Optimizer):
    """m <- beta1 m + (1 - beta1) g;   u <- max(beta2 u, |g| + eps);
    w <- w - lr / (1 - beta1^t) * m / u      (g includes weight_decay * w)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def check_hyperparameters(self, group):
        check_adam_family(self, group)

    def state_layout(self, group):
        return {"step": "count", "exp_avg": "array", "exp_inf": "array"}

    def update(self, w, g, state, group, xp):
        (beta1, beta2), eps = group["betas"], group["eps"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        if "step" not in state:
            state.update(step=0, exp_avg=xp.zeros_like(w), exp_inf=xp.zeros_like(w))
        state["step"] += 1
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_inf"] = xp.maximum(beta2 * state["exp_inf"], xp.abs(g) + eps)
        step_size = group["lr"] / (1 - beta1 ** state["step"])
        return w - step_size * state["exp_avg"] / state["exp_inf"]


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016), as torch.optim.NAdam:

        mu_t = beta1 (1 - 0.5 * 0.96^(t psi)),  mu_product <- mu_product * mu_t
        m, v as Adam;  denom = sqrt(v / (1 - beta2^t)) + eps
        w <- w - lr (1 - mu_t) / (1 - mu_product) * g / denom
               - lr mu_{t+1} / (1 - mu_product mu_{t+1}) * m / denom

    weight_decay adds weight_decay * w to g, or with decoupled_weight_decay=True shrinks w by
    (1 - lr weight_decay) first, as AdamW does."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        check_adam_family(self, group)
        check_hyperparameter("NAdam", "momentum_decay", group["momentum_decay"],
                             "momentum decay")
        check_flag("NAdam", "decoupled_weight_decay", group["decoupled_weight_decay"])

    def state_layout(self, group):
        return {"step": "count", "mu_product": "number", "exp_avg": "array",
                "exp_avg_sq": "array"}

    def update(self, w, g, state, group, xp):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        w, g = _weight_decay(w, g, group, lr)
        if "step" not in state:
            state.update(step=0, mu_product=1.0, exp_avg=xp.zeros_like(w),
                         exp_avg_sq=xp.zeros_like(w))
        state["step"] += 1
        t, psi = state["step"], group["momentum_decay"]
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        denom = xp.sqrt(state["exp_avg_sq"] / (1 - beta2 ** t)) + eps
        return (w - lr * (1 - mu) / (1 - mu_product) * g / denom
                - lr * mu_next / (1 - mu_product * mu_next) * state["exp_avg"] / denom)


class RAdam(Optimizer):
    """Rectified Adam (Liu et al., 2019), as torch.optim.RAdam:

        m, v as Adam;  m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:  r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                    w <- w - lr m_hat r_t sqrt(1 - beta2^t) / (sqrt(v) + eps)
        otherwise:  w <- w - lr m_hat     (v is too noisy in the first steps to divide by)

    weight_decay as NAdam's (decoupled_weight_decay=True: AdamW-style)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        check_adam_family(self, group)
        check_flag("RAdam", "decoupled_weight_decay", group["decoupled_weight_decay"])

    def state_layout(self, group):
        return {"step": "count", "exp_avg": "array", "exp_avg_sq": "array"}

    def update(self, w, g, state, group, xp):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        w, g = _weight_decay(w, g, group, lr)
        if "step" not in state:
            state.update(step=0, exp_avg=xp.zeros_like(w), exp_avg_sq=xp.zeros_like(w))
        state["step"] += 1
        t = state["step"]
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        m_hat = state["exp_avg"] / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        if rho_t <= 5:
            return w - lr * m_hat
        rectification = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                  / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive = math.sqrt(1 - beta2 ** t) / (xp.sqrt(state["exp_avg_sq"]) + eps)
        return w - lr * m_hat * rectification * adaptive


def _weight_decay(w, g, group, lr):
    """L2 weight decay folded into g, or (decoupled_weight_decay) w shrunk directly."""
    decay = group["weight_decay"]
    if not decay:
        return w, g
    if group["decoupled_weight_decay"]:
        return w * (1 - lr * decay), g
    return w, g + decay * w

"""Adam and AdamW: per-weight step sizes from running moments of the gradient.

    m <- beta1 * m + (1 - beta1) * g                 first moment (mean of g)
    v <- beta2 * v + (1 - beta2) * g^2               second moment (mean of g^2)
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)     bias correction (m, v start at 0)
    w <- w - lr * m_hat / (sqrt(v_hat) + eps)

Weight decay: Adam adds weight_decay * w to g (L2 in the loss, then rescaled by v_hat);
AdamW decays the weight directly, w <- w - lr * weight_decay * w, before the step
("decoupled" weight decay, Loshchilov & Hutter). amsgrad keeps the maximum v_hat seen.
"""

from ..errors import DTypeError
from .optimizer import Optimizer, check_flag, check_hyperparameter


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        betas = tuple(betas) if isinstance(betas, (tuple, list)) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def check_hyperparameters(self, group):
        name = type(self).__name__
        check_hyperparameter(name, "lr", group["lr"], "learning rate")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise DTypeError(f"{name}: invalid betas={betas!r}; expected two numbers "
                             "(beta1, beta2), each in [0, 1)")
        for i, beta in enumerate(betas):
            check_hyperparameter(name, f"betas[{i}]", beta, "beta", below=1.0)
        check_hyperparameter(name, "eps", group["eps"], "epsilon")
        check_hyperparameter(name, "weight_decay", group["weight_decay"], "weight decay")
        check_flag(name, "amsgrad", group["amsgrad"])

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


class AdamW(Adam):
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

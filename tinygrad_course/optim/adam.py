"""Adam and AdamW: per-weight step sizes from running moments of the gradient.

    m <- beta1 * m + (1 - beta1) * g                 first moment (mean of g)
    v <- beta2 * v + (1 - beta2) * g^2               second moment (mean of g^2)
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)     bias correction (m, v start at 0)
    w <- w - lr * m_hat / (sqrt(v_hat) + eps)

Weight decay: Adam adds weight_decay * w to g (L2 in the loss, then rescaled by v_hat);
AdamW decays the weight directly, w <- w - lr * weight_decay * w, before the step
("decoupled" weight decay, Loshchilov & Hutter). amsgrad keeps the maximum v_hat seen.
"""

from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas}, eps={eps} "
                             f"or weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

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

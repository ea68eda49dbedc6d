"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay.

With g = dL/dw + weight_decay * w (L2 regularisation folded into the gradient):

    plain       w <- w - lr * g
    momentum    b <- momentum * b + (1 - dampening) * g   (b = g on the first step)
                w <- w - lr * b
    nesterov    w <- w - lr * (g + momentum * b)          (look ahead along the velocity)

maximize=True climbs instead: g is negated first (Optimizer.step). These are PyTorch's
formulas (lr multiplies the velocity, not the gradient inside it), so
changing lr mid-training changes the step at once.
"""

from ..errors import ArgumentError
from .optimizer import Optimizer, check_flag, check_hyperparameter


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        check_hyperparameter("SGD", "lr", group["lr"], "learning rate")
        check_hyperparameter("SGD", "momentum", group["momentum"], "momentum")
        check_hyperparameter("SGD", "dampening", group["dampening"], "dampening", below=1.0)
        check_hyperparameter("SGD", "weight_decay", group["weight_decay"], "weight decay")
        check_flag("SGD", "nesterov", group["nesterov"])
        check_flag("SGD", "maximize", group["maximize"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ArgumentError("SGD: nesterov needs momentum > 0 and dampening = 0")

    def state_layout(self, group):
        """What update() keeps per weight: the velocity b, when there is momentum."""
        return {"momentum_buffer": "array" if group["momentum"] else "optional array"}

    def update(self, w, g, state, group, xp):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                buf = g.copy()
            else:
                buf = momentum * state["momentum_buffer"] + (1 - group["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + momentum * buf if group["nesterov"] else buf
        step = g * group["lr"]
        if step.ndim == 0:  # a 0-d gradient can come as a NumPy scalar, which has no memory
            return w - step
        return xp.subtract(w, step, out=step)  # w - lr g, written into the step's memory

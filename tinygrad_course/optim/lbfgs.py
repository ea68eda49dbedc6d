"""L-BFGS: a quasi-Newton method. Where gradient descent steps along -g, L-BFGS steps along
-H g, with H an estimate of the inverse Hessian built from the last ``history_size`` pairs

    s_k = w_{k+1} - w_k   (the step)      y_k = g_{k+1} - g_k   (how the gradient changed)

by the two-loop recursion (Nocedal & Wright, Algorithm 7.4), with H_0 = (s.y / y.y) I. On a
smooth convex problem (a quadratic, a logistic regression) it converges in a handful of
steps where gradient descent needs thousands: the contrast the lecture draws.

Each ``step(closure)`` runs up to max_iter iterations; the closure must clear the
gradients, compute the loss, call backward() and return the loss. line_search_fn:
    None           a fixed step lr (the first one scaled to min(1, 1 / ||g||_1) lr)
    "strong_wolfe" a line search that finds t with sufficient decrease and a flat enough
                   slope:  f(w + t d) <= f(w) + c1 t g.d   and   |g(w + t d).d| <= c2 |g.d|
                   (c1 = 1e-4, c2 = 0.9), bracketing then zooming with cubic interpolation
                   (Nocedal & Wright, Algorithms 3.5 and 3.6).
Every parameter is one block of one flat vector; there is a single parameter group.
"""

import math

from ..autograd import set_grad_enabled
from ..errors import ArgumentError, DTypeError
from .optimizer import Optimizer, check_hyperparameter


class LBFGS(Optimizer):
    def __init__(self, params, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
            max_eval = max_iter * 5 // 4  # (a max_iter that is no integer: refused below)
        elif max_eval is None:
            max_eval = max_iter
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ArgumentError("LBFGS: takes one parameter group (its parameters form one "
                                "vector)")
        self._history = None  # directions, steps, 1 / (y.s), H_0 scale, d, t, previous g, f

    def check_hyperparameters(self, group):
        check_hyperparameter("LBFGS", "lr", group["lr"], "learning rate")
        check_hyperparameter("LBFGS", "tolerance_grad", group["tolerance_grad"], "tolerance")
        check_hyperparameter("LBFGS", "tolerance_change", group["tolerance_change"], "tolerance")
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DTypeError(f"LBFGS: {name} must be an integer >= 1, got {value!r}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ArgumentError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                                f"{group['line_search_fn']!r}")

    def state_layout(self, group):
        """Checkpoints keep the counters; the curvature history restarts after a load."""
        return {"func_evals": "count", "n_iter": "count"}

    # ----- the parameters as one flat vector ------------------------------------------------
    def _flat_grad(self):
        params = self.param_groups[0]["params"]
        xp = params[0].xp
        return xp.concatenate([(p.grad.data if p.grad is not None else xp.zeros_like(p.data))
                               .reshape(-1).astype(params[0].dtype) for p in params])

    def _flat_params(self):
        params = self.param_groups[0]["params"]
        return params[0].xp.concatenate([p.data.reshape(-1) for p in params])

    def _set_params(self, flat):
        offset = 0
        for p in self.param_groups[0]["params"]:
            p.data = flat[offset:offset + p.size].reshape(p.shape).astype(p.dtype)
            offset += p.size

    def _evaluate(self, closure):
        with set_grad_enabled(True):
            loss = closure()
        return _number(loss), self._flat_grad()

    def step(self, closure=None):
        """Run up to max_iter L-BFGS iterations; returns the loss at the start."""
        if closure is None:
            raise ArgumentError("LBFGS.step: needs a closure that clears the gradients, "
                                "recomputes the loss, calls backward() and returns the loss")
        group = self.param_groups[0]
        lr, history_size = group["lr"], group["history_size"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state.setdefault(group["params"][0], {"func_evals": 0, "n_iter": 0})
        with set_grad_enabled(True):
            first_loss = closure()
        loss, g = _number(first_loss), self._flat_grad()
        evals = 1
        state["func_evals"] += 1
        xp = group["params"][0].xp
        if _max_abs(xp, g) <= tolerance_grad:
            return first_loss
        memory = self._history
        for iteration in range(1, group["max_iter"] + 1):
            state["n_iter"] += 1
            if memory is None:  # the first iteration (or after a load): steepest descent
                memory = {"dirs": [], "steps": [], "rho": [], "scale": 1.0}
                d = -g
                t = min(1.0, 1.0 / float(xp.abs(g).sum().item())) * lr
            else:
                y, s = g - memory["g"], memory["d"] * memory["t"]
                ys = _dot(y, s)
                if ys > 1e-10:  # keep the pair only when the curvature is positive
                    if len(memory["dirs"]) == history_size:
                        for key in ("dirs", "steps", "rho"):
                            memory[key].pop(0)
                    memory["dirs"].append(y)
                    memory["steps"].append(s)
                    memory["rho"].append(1.0 / ys)
                    memory["scale"] = ys / _dot(y, y)
                d = _two_loop(g, memory)
                t = lr
            memory["g"], memory["f"] = g.copy(), loss
            slope = _dot(g, d)
            if slope > -tolerance_change:  # not a descent direction any more
                break
            start = self._flat_params()
            if group["line_search_fn"] == "strong_wolfe":
                def at(step_length, start=start, d=d):
                    self._set_params(start + step_length * d)
                    return self._evaluate(closure)
                t, loss, g, used = _strong_wolfe(at, t, d, loss, g, slope, tolerance_change,
                                                 max_evals=25)
                self._set_params(start + t * d)
            else:
                self._set_params(start + t * d)
                used = 0
                if iteration != group["max_iter"]:
                    loss, g = self._evaluate(closure)
                    used = 1
            memory["d"], memory["t"] = d, t
            evals += used
            state["func_evals"] += used
            if (iteration == group["max_iter"] or evals >= group["max_eval"]
                    or _max_abs(xp, g) <= tolerance_grad
                    or _max_abs(xp, d * t) <= tolerance_change
                    or abs(loss - memory["f"]) < tolerance_change):
                break
        self._history = memory
        return first_loss

    def load_state_dict(self, state_dict, allow_nonfinite=False):
        super().load_state_dict(state_dict, allow_nonfinite)
        self._history = None


def _number(loss):
    if loss is None:
        raise ArgumentError("LBFGS.step: the closure returned None; it must return the loss")
    return float(loss.item()) if hasattr(loss, "item") else float(loss)


def _dot(a, b):
    return float((a * b).sum().item())


def _max_abs(xp, v):
    return float(xp.abs(v).max().item()) if v.size else 0.0


def _two_loop(g, memory):
    """-H g by the two-loop recursion over the stored (s, y) pairs."""
    q = -g
    alphas = []
    for s, y, rho in zip(reversed(memory["steps"]), reversed(memory["dirs"]),
                         reversed(memory["rho"])):
        alpha = rho * _dot(s, q)
        q = q - alpha * y
        alphas.append(alpha)
    r = q * memory["scale"]
    for (s, y, rho), alpha in zip(zip(memory["steps"], memory["dirs"], memory["rho"]),
                                  reversed(alphas)):
        beta = rho * _dot(y, r)
        r = r + (alpha - beta) * s
    return r


def _cubic_minimum(t1, f1, slope1, t2, f2, slope2, low, high):
    """The minimiser of the cubic through (t1, f1) and (t2, f2) with slopes slope1, slope2,
    clamped to [low, high]; the midpoint when the cubic has no minimum."""
    d1 = slope1 + slope2 - 3 * (f1 - f2) / (t1 - t2)
    square = d1 * d1 - slope1 * slope2
    if square < 0:
        return (low + high) / 2
    d2 = math.copysign(math.sqrt(square), t2 - t1)
    t = t2 - (t2 - t1) * (slope2 + d2 - d1) / (slope2 - slope1 + 2 * d2)
    return min(max(t, low), high)


def _strong_wolfe(at, t, d, f0, g0, slope0, tolerance_change, max_evals, c1=1e-4, c2=0.9):
    """A step length t satisfying the strong Wolfe conditions along d. ``at(t)`` returns
    (f, g) at w + t d. Returns (t, f(t), g(t), evaluations)."""
    d_size = max(float(abs(d).max().item()), 1e-300)
    previous = (0.0, f0, g0, slope0)
    evals = 0
    bracket = None
    while evals < max_evals:
        f, g = at(t)
        evals += 1
        slope = _dot(g, d)
        if f > f0 + c1 * t * slope0 or (evals > 1 and f >= previous[1]):
            bracket = [previous, (t, f, g, slope)]
            break
        if abs(slope) <= -c2 * slope0:
            return t, f, g, evals
        if slope >= 0:
            bracket = [(t, f, g, slope), previous]
            break
        low, high = t + 0.01 * (t - previous[0]), 10 * t
        previous, t = (t, f, g, slope), _cubic_minimum(previous[0], previous[1], previous[3],
                                                       t, f, slope, low, high)
    if bracket is None:
        return previous[0], previous[1], previous[2], evals
    # zoom: bracket[0] is the best point so far (sufficient decrease, lowest f)
    while evals < max_evals:
        (t_lo, f_lo, g_lo, slope_lo), (t_hi, f_hi, _, slope_hi) = bracket
        if abs(t_hi - t_lo) * d_size < tolerance_change:
            break
        low, high = min(t_lo, t_hi), max(t_lo, t_hi)
        t = _cubic_minimum(t_lo, f_lo, slope_lo, t_hi, f_hi, slope_hi, low, high)
        margin = 0.1 * (high - low)
        if min(t - low, high - t) < margin:  # too near an end: it would crawl; bisect
            t = (low + high) / 2
        f, g = at(t)
        evals += 1
        slope = _dot(g, d)
        if f > f0 + c1 * t * slope0 or f >= f_lo:
            bracket[1] = (t, f, g, slope)
        else:
            if abs(slope) <= -c2 * slope0:
                return t, f, g, evals
            if slope * (t_hi - t_lo) >= 0:
                bracket[1] = bracket[0]
            bracket[0] = (t, f, g, slope)
    t, f, g, _ = bracket[0]
    return t, f, g, evals


__all__ = ["LBFGS"]

"""Issue 20: the optimisers beyond SGD and Adam, each against PyTorch's documented update
rule written out in NumPy, for several steps on a quadratic whose gradient changes every
step; maximize, step(closure), checkpoints with PyTorch's state names; and L-BFGS with a
strong-Wolfe line search fitting a quadratic and a logistic regression to high precision."""

import math

import numpy as np
import pytest
from scipy import optimize

import tinygrad_course as tg
from tinygrad_course import optim
from tinygrad_course.errors import ArgumentError, CheckpointError, DTypeError

CURVATURE = np.array([0.5, 2.0, 4.0, 1.0])
SHIFT = np.array([1.0, -2.0, 0.5, 0.0])
START = np.array([1.5, -0.5, 2.0, -3.0])
STEPS = 7


def _gradient(w):
    """d/dw of sum(0.5 a w^2 + b w) = a w + b."""
    return CURVATURE * w + SHIFT


def _run(make, steps=STEPS, maximize=False):
    w = tg.tensor(START, requires_grad=True, dtype=np.float64)
    opt = make([w])
    for _ in range(steps):
        opt.zero_grad()
        loss = (0.5 * tg.tensor(CURVATURE) * w * w + tg.tensor(SHIFT) * w).sum()
        (-loss if maximize else loss).backward()
        opt.step()
    return w.numpy(), opt


def _reference(rule, steps=STEPS, weight_decay=0.0, maximize=False, **settings):
    """Iterate ``rule(w, g, state, t, **settings)`` with g the (negated, decayed) gradient."""
    w, state = START.copy(), {}
    for t in range(1, steps + 1):
        g = _gradient(w)
        g = g if not maximize else g  # maximize of -loss: the same direction as loss
        w = rule(w, g, state, t, weight_decay=weight_decay, **settings)
    return w


def _rmsprop(w, g, s, t, lr, alpha, eps, weight_decay, momentum, centered):
    g = g + weight_decay * w
    s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
    avg = s["v"]
    if centered:
        s["m"] = alpha * s.get("m", 0) + (1 - alpha) * g
        avg = avg - s["m"] ** 2
    avg = np.sqrt(avg) + eps
    if momentum:
        s["b"] = momentum * s.get("b", 0) + g / avg
        return w - lr * s["b"]
    return w - lr * g / avg


def _adagrad(w, g, s, t, lr, lr_decay, eps, weight_decay, init):
    g = g + weight_decay * w
    s["sum"] = s.get("sum", init) + g * g
    return w - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)


def _adadelta(w, g, s, t, lr, rho, eps, weight_decay):
    g = g + weight_decay * w
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0) + (1 - rho) * delta * delta
    return w - lr * delta


def _adamax(w, g, s, t, lr, b1, b2, eps, weight_decay):
    g = g + weight_decay * w
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + eps)
    return w - lr / (1 - b1 ** t) * s["m"] / s["u"]


def _decay(w, g, lr, weight_decay, decoupled):
    if decoupled:
        return w * (1 - lr * weight_decay), g
    return w, g + weight_decay * w


def _nadam(w, g, s, t, lr, b1, b2, eps, weight_decay, psi, decoupled):
    w, g = _decay(w, g, lr, weight_decay, decoupled)
    mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    s["prod"] = s.get("prod", 1.0) * mu
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    denom = np.sqrt(s["v"] / (1 - b2 ** t)) + eps
    return (w - lr * (1 - mu) / (1 - s["prod"]) * g / denom
            - lr * mu_next / (1 - s["prod"] * mu_next) * s["m"] / denom)


def _radam(w, g, s, t, lr, b1, b2, eps, weight_decay, decoupled):
    w, g = _decay(w, g, lr, weight_decay, decoupled)
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    m_hat = s["m"] / (1 - b1 ** t)
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
    if rho <= 5:
        return w - lr * m_hat
    r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return w - lr * m_hat * r * math.sqrt(1 - b2 ** t) / (np.sqrt(s["v"]) + eps)


def _amsgrad(w, g, s, t, lr, b1, b2, eps, weight_decay):
    g = g + weight_decay * w
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
    return w - lr * (s["m"] / (1 - b1 ** t)) / (np.sqrt(s["vmax"] / (1 - b2 ** t)) + eps)


CASES = [
    ("RMSprop", lambda p, wd: optim.RMSprop(p, lr=0.05, alpha=0.9, weight_decay=wd),
     _rmsprop, dict(lr=0.05, alpha=0.9, eps=1e-8, momentum=0.0, centered=False)),
    ("RMSprop centered momentum",
     lambda p, wd: optim.RMSprop(p, lr=0.02, alpha=0.8, momentum=0.7, centered=True,
                                 weight_decay=wd),
     _rmsprop, dict(lr=0.02, alpha=0.8, eps=1e-8, momentum=0.7, centered=True)),
    ("Adagrad", lambda p, wd: optim.Adagrad(p, lr=0.3, lr_decay=0.1, weight_decay=wd,
                                             initial_accumulator_value=0.2),
     _adagrad, dict(lr=0.3, lr_decay=0.1, eps=1e-10, init=0.2)),
    ("Adadelta", lambda p, wd: optim.Adadelta(p, lr=0.9, rho=0.8, weight_decay=wd),
     _adadelta, dict(lr=0.9, rho=0.8, eps=1e-6)),
    ("Adamax", lambda p, wd: optim.Adamax(p, lr=0.1, betas=(0.8, 0.95), weight_decay=wd),
     _adamax, dict(lr=0.1, b1=0.8, b2=0.95, eps=1e-8)),
    ("NAdam", lambda p, wd: optim.NAdam(p, lr=0.1, betas=(0.8, 0.95), weight_decay=wd),
     _nadam, dict(lr=0.1, b1=0.8, b2=0.95, eps=1e-8, psi=4e-3, decoupled=False)),
    ("NAdam decoupled", lambda p, wd: optim.NAdam(p, lr=0.1, weight_decay=wd,
                                                  momentum_decay=0.1,
                                                  decoupled_weight_decay=True),
     _nadam, dict(lr=0.1, b1=0.9, b2=0.999, eps=1e-8, psi=0.1, decoupled=True)),
    ("RAdam", lambda p, wd: optim.RAdam(p, lr=0.1, betas=(0.8, 0.5), weight_decay=wd),
     _radam, dict(lr=0.1, b1=0.8, b2=0.5, eps=1e-8, decoupled=False)),
    ("RAdam decoupled", lambda p, wd: optim.RAdam(p, lr=0.1, betas=(0.8, 0.5),
                                                  weight_decay=wd, decoupled_weight_decay=True),
     _radam, dict(lr=0.1, b1=0.8, b2=0.5, eps=1e-8, decoupled=True)),
    ("Adam amsgrad", lambda p, wd: optim.Adam(p, lr=0.1, betas=(0.5, 0.9), amsgrad=True,
                                              weight_decay=wd),
     _amsgrad, dict(lr=0.1, b1=0.5, b2=0.9, eps=1e-8)),
]


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("name,make,rule,settings", CASES, ids=[c[0] for c in CASES])
def test_update_rule_matches_pytorchs_formula(name, make, rule, settings, weight_decay):
    got, _ = _run(lambda p: make(p, weight_decay))
    expected = _reference(rule, weight_decay=weight_decay, **settings)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert not np.allclose(got, START)  # it moved


def test_radam_switches_from_momentum_to_the_adaptive_step():
    """With beta2 = 0.5, rho_t > 5 from step 3 on; with 0.999 not within 7 steps."""
    early, _ = _run(lambda p: optim.RAdam(p, lr=0.1, betas=(0.8, 0.999)))
    m_only = _reference(_radam, lr=0.1, b1=0.8, b2=0.999, eps=1e-8, decoupled=False)
    np.testing.assert_allclose(early, m_only, rtol=1e-10)


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, maximize=True),
    lambda p: optim.Adam(p, lr=0.1, maximize=True),
    lambda p: optim.AdamW(p, lr=0.1, maximize=True),
    lambda p: optim.RMSprop(p, lr=0.01, maximize=True),
    lambda p: optim.Adagrad(p, lr=0.1, maximize=True),
    lambda p: optim.Adadelta(p, maximize=True),
    lambda p: optim.Adamax(p, maximize=True),
    lambda p: optim.NAdam(p, maximize=True),
    lambda p: optim.RAdam(p, maximize=True),
])
def test_maximize_on_minus_the_loss_equals_minimizing_the_loss(make):
    down, _ = _run(lambda p: type(make(p))(p, **_settings(make(p))))
    up, _ = _run(make, maximize=True)
    np.testing.assert_allclose(up, down, rtol=1e-12)


def _settings(opt):
    """The optimiser's group settings with maximize turned off."""
    group = {k: v for k, v in opt.param_groups[0].items() if k not in ("params",
                                                                       "initial_lr")}
    return {**group, "maximize": False}


def test_step_with_a_closure_returns_its_loss_and_steps():
    w = tg.tensor([3.0], requires_grad=True, dtype=np.float64)
    opt = optim.RMSprop([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tg.no_grad():  # the closure records its graph even inside no_grad
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(9.0)
    assert w.item() < 3.0


@pytest.mark.parametrize("make,keys", [
    (lambda p: optim.RMSprop(p, momentum=0.5, centered=True),
     {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    (lambda p: optim.RMSprop(p), {"step", "square_avg"}),
    (lambda p: optim.Adagrad(p), {"step", "sum"}),
    (lambda p: optim.Adadelta(p), {"step", "square_avg", "acc_delta"}),
    (lambda p: optim.Adamax(p), {"step", "exp_avg", "exp_inf"}),
    (lambda p: optim.NAdam(p), {"step", "mu_product", "exp_avg", "exp_avg_sq"}),
    (lambda p: optim.RAdam(p), {"step", "exp_avg", "exp_avg_sq"}),
    (lambda p: optim.Adam(p, amsgrad=True), {"step", "exp_avg", "exp_avg_sq",
                                             "max_exp_avg_sq"}),
])
def test_state_has_pytorchs_names_and_a_checkpoint_resumes_exactly(make, keys):
    _, opt = _run(make, steps=3)
    saved = opt.state_dict()
    assert set(saved["state"][0]) == keys
    # resume: 4 more steps from the checkpoint equal 7 uninterrupted steps
    w = tg.tensor(_run(make, steps=3)[0], requires_grad=True, dtype=np.float64)
    resumed = make([w])
    resumed.load_state_dict(saved)
    for _ in range(STEPS - 3):
        resumed.zero_grad()
        (0.5 * tg.tensor(CURVATURE) * w * w + tg.tensor(SHIFT) * w).sum().backward()
        resumed.step()
    np.testing.assert_allclose(w.numpy(), _run(make)[0], rtol=1e-12)
    broken = {**saved, "state": {0: {k: v for k, v in saved["state"][0].items()
                                     if k != "step"}}}
    with pytest.raises(CheckpointError, match="lacks"):
        make([tg.zeros(4, requires_grad=True, dtype=np.float64)]).load_state_dict(broken)


def test_hyperparameters_are_checked_with_named_errors():
    p = [tg.zeros(2, requires_grad=True)]
    with pytest.raises(ArgumentError, match="RMSprop"):
        optim.RMSprop(p, alpha=-0.1)
    with pytest.raises(ArgumentError, match="Adadelta"):
        optim.Adadelta(p, rho=1.5)
    with pytest.raises(DTypeError, match="NAdam"):
        optim.NAdam(p, betas=0.9)
    with pytest.raises(DTypeError, match="Adam"):
        optim.Adam(p, maximize="yes")
    with pytest.raises(ArgumentError, match="LBFGS"):
        optim.LBFGS(p, line_search_fn="backtracking")


# ----- L-BFGS -----------------------------------------------------------------------------------
def _closure(opt, loss_fn):
    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


def test_lbfgs_with_strong_wolfe_solves_a_quadratic_in_few_evaluations():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((6, 6))
    a = m @ m.T + 6 * np.eye(6)  # symmetric positive definite, condition number ~ 10
    b = rng.standard_normal(6)
    w = tg.zeros(6, requires_grad=True, dtype=np.float64)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=50,
                      tolerance_grad=1e-12, tolerance_change=1e-15)
    at = tg.tensor(a, dtype=np.float64)
    bt = tg.tensor(b, dtype=np.float64)
    opt.step(_closure(opt, lambda: 0.5 * (w * (at @ w)).sum() - (bt * w).sum()))
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(a, b), atol=1e-9)
    assert opt.state[w]["func_evals"] <= 20  # gradient descent would need hundreds


def test_lbfgs_fits_a_logistic_regression_to_the_optimum():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((80, 3))
    y = (x @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.standard_normal(80) > 0).astype(float)
    penalty = 0.1

    def objective(v):
        z = x @ v[:3] + v[3]
        return np.mean(np.logaddexp(0, z) - y * z) + 0.5 * penalty * v[:3] @ v[:3]

    best = optimize.minimize(objective, np.zeros(4), method="BFGS", options={"gtol": 1e-12})
    w = tg.zeros(3, requires_grad=True, dtype=np.float64)
    b = tg.zeros(1, requires_grad=True, dtype=np.float64)
    opt = optim.LBFGS([w, b], line_search_fn="strong_wolfe", tolerance_grad=1e-9,
                      tolerance_change=1e-15)
    xt, yt = tg.tensor(x, dtype=np.float64), tg.tensor(y, dtype=np.float64)

    def loss_fn():
        logits = xt @ w + b
        return (tg.functional.binary_cross_entropy_with_logits(logits, yt)
                + 0.5 * penalty * (w * w).sum())

    opt.step(_closure(opt, loss_fn))
    np.testing.assert_allclose(np.concatenate([w.numpy(), b.numpy()]), best.x, atol=1e-7)
    print("logistic regression: L-BFGS iterations", opt.state[w]["n_iter"], "evaluations",
          opt.state[w]["func_evals"])
    assert opt.state[w]["n_iter"] < 20  # converged before max_iter (GD needs thousands)


def test_lbfgs_without_line_search_descends_and_needs_a_closure():
    w = tg.tensor([2.0, -1.0], requires_grad=True, dtype=np.float64)
    opt = optim.LBFGS([w], lr=0.5, max_iter=30)
    opt.step(_closure(opt, lambda: ((w - tg.tensor([1.0, 1.0])) ** 2).sum()))
    # on this quadratic H is exact after one pair, so each step of lr = 0.5 halves the error
    # until the loss changes by less than tolerance_change (1e-9): error ~ 1e-5
    np.testing.assert_allclose(w.numpy(), [1.0, 1.0], atol=3e-5)
    with pytest.raises(ArgumentError, match="closure"):
        opt.step()

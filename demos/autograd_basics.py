"""Reverse-mode autograd checked by hand: gradient and Hessian-vector product vs finite differences.

f(W, x) = sum(tanh(W x)). Backward gives df/dW = (1 - tanh(Wx)^2) x^T in one pass; finite
differences need two evaluations of f per element of W. With create_graph=True the backward
builds a graph of its own, so the Hessian-vector product H v = d/dW (df/dW . v) is one more
backward, compared here with (grad(W + h v) - grad(W - h v)) / 2h.

How small should the disagreement be? A central difference has two errors: truncation,
about h^2 |f'''| / 6, and rounding, about eps |f| / h (float64: eps = 2.2e-16). Their sum is
smallest near h = eps^(1/3) ~ 6e-6, where it is ~1e-10 per entry of the gradient. The demo
sweeps h and plots the error of both checks against it: the V shape is the finite
differences' own error, and its bottom is the reference the autograd numbers are judged by
(backward itself is exact up to float64 rounding).
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting


def f(w, x):
    return (w @ x).tanh().sum()


def numeric_gradient(w_host, x, h):
    """Central differences of f in every entry of W: (f(W + h e_ij) - f(W - h e_ij)) / 2h."""
    numeric = np.zeros_like(w_host)
    for index in np.ndindex(*w_host.shape):
        bump = np.zeros_like(w_host)
        bump[index] = h
        numeric[index] = (f(tg.tensor(w_host + bump, dtype=np.float64), x).item()
                          - f(tg.tensor(w_host - bump, dtype=np.float64), x).item()) / (2 * h)
    return numeric


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n = 4 if args.quick else 16
    rng = np.random.default_rng(0)
    w_host, x_host, v_host = (rng.standard_normal(s) for s in [(n, n), (n,), (n, n)])
    w = tg.tensor(w_host, dtype=np.float64, requires_grad=True)
    x = tg.tensor(x_host, dtype=np.float64)

    f(w, x).backward()
    analytic = w.grad.numpy()
    v = tg.tensor(v_host, dtype=np.float64)
    (grad_w,) = tg.grad(f(w, x), [w], create_graph=True)
    (hvp,) = tg.grad((grad_w * v).sum(), [w])

    def gradient_at(w_values):
        wt = tg.tensor(w_values, dtype=np.float64, requires_grad=True)
        f(wt, x).backward()
        return wt.grad.numpy()

    def hvp_numeric(h):
        return (gradient_at(w_host + h * v_host) - gradient_at(w_host - h * v_host)) / (2 * h)

    steps = np.logspace(-10, -1, 10 if args.quick else 19)
    grad_errors = np.array([np.abs(analytic - numeric_gradient(w_host, x, h)).max()
                            for h in steps])
    hvp_errors = np.array([np.abs(hvp.numpy() - hvp_numeric(h)).max() for h in steps])
    grad_error = float(np.abs(analytic - numeric_gradient(w_host, x, 1e-6)).max())
    hvp_error = float(np.abs(hvp.numpy() - hvp_numeric(1e-5)).max())

    print(f"f(W, x) = sum(tanh(W x)) with W of shape {w_host.shape}")
    print(f"max |backward - finite differences| of df/dW : {grad_error:.2e} (h = 1e-6); "
          f"best over h {grad_errors.min():.2e} at h = {steps[grad_errors.argmin()]:.0e}")
    print(f"max |Hessian-vector product - finite diff.|  : {hvp_error:.2e} (h = 1e-5); "
          f"best over h {hvp_errors.min():.2e} at h = {steps[hvp_errors.argmin()]:.0e}")
    print(f"graph nodes in to_dot(f): {tg.to_dot(f(w, x)).count('shape=box')} ops")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        ax.loglog(steps, grad_errors, "o-", label="gradient: backward vs finite differences")
        ax.loglog(steps, hvp_errors, "s-", label="Hessian-vector product (create_graph)")
        ax.set(xlabel="finite-difference step h", ylabel="max |autograd - finite differences|",
               title=f"f(W, x) = sum(tanh(W x)), W {n}x{n}, float64")
        ax.legend(fontsize=8)
        print("figure:", _plotting.save(fig, "autograd_basics"))
    return {"grad_max_error": grad_error, "hvp_max_error": hvp_error,
            "grad_best_error": float(grad_errors.min()),
            "grad_best_step": float(steps[grad_errors.argmin()]),
            "hvp_best_error": float(hvp_errors.min()),
            "hvp_best_step": float(steps[hvp_errors.argmin()])}


if __name__ == "__main__":
    main()

"""Reverse-mode autograd checked by hand: gradient and Hessian-vector product vs finite differences.

f(W, x) = sum(tanh(W x)). Backward gives df/dW = (1 - tanh(Wx)^2) x^T in one pass; finite
differences need two evaluations of f per element of W. With create_graph=True the backward
builds a graph of its own, so the Hessian-vector product H v = d/dW (df/dW . v) is one more
backward, compared here with (grad(W + h v) - grad(W - h v)) / 2h.
"""

import argparse

import numpy as np

import tinygrad_course as tg


def f(w, x):
    return (w @ x).tanh().sum()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    args = parser.parse_args(argv)
    n = 4 if args.quick else 16
    rng = np.random.default_rng(0)
    w_host, x_host, v_host = (rng.standard_normal(s) for s in [(n, n), (n,), (n, n)])
    w = tg.tensor(w_host, dtype=np.float64, requires_grad=True)
    x = tg.tensor(x_host, dtype=np.float64)

    f(w, x).backward()
    analytic = w.grad.numpy()
    eps = 1e-6
    numeric = np.zeros_like(w_host)
    for index in np.ndindex(*w_host.shape):
        bump = np.zeros_like(w_host)
        bump[index] = eps
        numeric[index] = (f(tg.tensor(w_host + bump, dtype=np.float64), x).item()
                          - f(tg.tensor(w_host - bump, dtype=np.float64), x).item()) / (2 * eps)
    grad_error = float(np.abs(analytic - numeric).max())

    v = tg.tensor(v_host, dtype=np.float64)
    (grad_w,) = tg.grad(f(w, x), [w], create_graph=True)
    (hvp,) = tg.grad((grad_w * v).sum(), [w])

    def gradient_at(w_values):
        wt = tg.tensor(w_values, dtype=np.float64, requires_grad=True)
        f(wt, x).backward()
        return wt.grad.numpy()

    h = 1e-5
    hvp_numeric = (gradient_at(w_host + h * v_host) - gradient_at(w_host - h * v_host)) / (2 * h)
    hvp_error = float(np.abs(hvp.numpy() - hvp_numeric).max())

    print(f"f(W, x) = sum(tanh(W x)) with W of shape {w_host.shape}")
    print(f"max |backward - finite differences| of df/dW : {grad_error:.2e}")
    print(f"max |Hessian-vector product - finite diff.|  : {hvp_error:.2e}")
    print(f"graph nodes in to_dot(f): {tg.to_dot(f(w, x)).count('shape=box')} ops")
    return {"grad_max_error": grad_error, "hvp_max_error": hvp_error}


if __name__ == "__main__":
    main()

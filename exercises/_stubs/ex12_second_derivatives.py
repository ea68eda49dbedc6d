# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 12: second derivatives, a Hessian-vector product and a Newton step
#
# For a scalar $f(x)$ with $x \in \mathbb{R}^n$, the Hessian $H_{ij} = \partial^2 f /
# \partial x_i \partial x_j$ has $n^2$ entries, but many methods only need products $Hv$.
#
# **Derive** that $Hv = \nabla_x \left( \nabla_x f(x) \cdot v \right)$ for a constant $v$:
# the gradient of one scalar, the directional derivative of $f$'s gradient along $v$. So two
# backward passes give $Hv$ without forming $H$, provided the first backward builds a graph
# that the second can go through: `tg.grad(..., create_graph=True)`.
#
# Then **Newton's method**: near $x$, $f(x + d) \approx f(x) + \nabla f \cdot d +
# \frac{1}{2} d^T H d$; show that the $d$ minimising the right side solves $H d = -\nabla f$.
# For a quadratic $f(x) = \frac{1}{2} x^T A x - b^T x$ ($A$ symmetric positive definite) the
# approximation is exact: $\nabla f = Ax - b$, $H = A$, and **one** step
# $x - H^{-1}\nabla f$ lands on the minimum $A^{-1} b$ from anywhere.
#
# Write `hvp(f, x, v)` with two calls of `tg.grad`, and `newton_step(f, x)`, which builds
# $H$ one column at a time with `hvp` on the unit vectors and solves with
# `np.linalg.solve`.
#
# **Shapes**: x, v 1-d NumPy float64 arrays (n,); f maps a Tensor (n,) to a 0-d Tensor;
# both functions return NumPy arrays (n,).
#
# **What the checker runs**: `hvp` on a quadratic (where $Hv = Av$), `hvp` on a non-quadratic
# function against finite differences of its gradient, one Newton step on a quadratic, and
# a hypothesis property over quadratics of sizes 1 to 4.
#
# **The real thing**: `tinygrad_course/autograd.py` (`grad`, and `create_graph` in the
# module docstring), and `gradgradcheck` in `tinygrad_course/gradcheck.py`, which checks the
# same double backward for every op.
#
# <details><summary>Hint 1: the first derivative, kept differentiable</summary>
#
# `x_t = tg.tensor(x, dtype=np.float64, requires_grad=True)`, then
# `(g,) = tg.grad(f(x_t), [x_t], create_graph=True)`: g is a Tensor with a graph back to x_t.
# </details>
#
# <details><summary>Hint 2: the second</summary>
#
# `(hv,) = tg.grad((g * v_t).sum(), [x_t])` with `v_t` a constant tensor of v. Without
# `create_graph=True` in the first call, g has no graph and the second call has nothing to
# differentiate.
# </details>
#
# <details><summary>Hint 3: the Newton step</summary>
#
# Column i of H is `hvp(f, x, e_i)`. Stack the columns, compute the gradient (one ordinary
# `tg.grad`), and return `x - np.linalg.solve(H, gradient)`.
# </details>

# %%
import numpy as np  # noqa: F401

import tinygrad_course as tg  # noqa: F401


def hvp(f, x, v):
    """The Hessian of f at x times v, by double backward; NumPy (n,) in and out."""
    raise NotImplementedError("second_derivatives: write hvp(f, x, v)")


def newton_step(f, x):
    """x - H(x)^-1 grad f(x), with H built from hvp; NumPy (n,) in and out."""
    raise NotImplementedError("second_derivatives: write newton_step(f, x)")


# %% [markdown]
# Run the checks (or: `python -m exercises check second_derivatives`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("second_derivatives", globals())

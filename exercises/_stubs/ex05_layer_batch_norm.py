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
# # Exercise 5: LayerNorm, then BatchNorm in training mode
#
# Both standardise a group of $n$ numbers and then rescale each feature:
#
# $$\mu = \frac{1}{n}\sum_i x_i, \quad \sigma^2 = \frac{1}{n}\sum_i (x_i - \mu)^2, \quad
# \hat{x}_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y_i = \gamma \hat{x}_i + \beta$$
#
# (the variance divides by $n$, not $n - 1$). **LayerNorm** takes the group along the last
# axis: x of shape (..., D), one $\mu, \sigma$ per row, $\gamma, \beta$ of shape (D,).
# **BatchNorm** (training mode) takes it along the batch axis: x of shape (N, D), one
# $\mu, \sigma$ per feature, computed from the batch itself, $\gamma, \beta$ of shape (D,).
#
# **Derive** the backward. With $g_i = \gamma \,\partial L / \partial y_i$ and
# $r = 1/\sqrt{\sigma^2 + \epsilon}$, every $x_i$ reaches $\hat{x}_j$ three ways: directly,
# through $\mu$, and through $\sigma^2$. Adding the three paths gives
#
# $$\frac{\partial L}{\partial x_i} = r \left( g_i - \overline{g} - \hat{x}_i \,
# \overline{g \hat{x}} \right)$$
#
# where the bars are means over the group. Show it (work out $\partial \mu / \partial x_i$ and
# $\partial \sigma^2 / \partial x_i$ first). Then $\partial L / \partial \gamma$ and
# $\partial L / \partial \beta$: sums over every axis that is *not* the feature axis.
#
# **What the checker runs**: both forwards against NumPy, gradcheck of each (all three
# inputs), and a hypothesis property over shapes (a group of 1 included) and groups whose
# values are all equal, where $\sigma^2 = 0$ and only $\epsilon$ keeps $r$ finite.
#
# **The real thing**: `tinygrad_course/ops/fused/layer_norm.py` (`LayerNorm`, the same
# formula over the last k axes; its docstring has the derivation's result).
#
# <details><summary>Hint 1: the two small derivatives</summary>
#
# $\partial \mu / \partial x_i = 1/n$. $\partial \sigma^2 / \partial x_i = \frac{2}{n}(x_i - \mu)$
# (the terms through $\mu$ sum to zero, because $\sum_j (x_j - \mu) = 0$).
# </details>
#
# <details><summary>Hint 2: one function for both layers</summary>
#
# The two ops differ only in the axis of the group (-1 or 0). Write the forward and the
# three-term backward once with an `axis` argument, `keepdims=True` on every mean, and keep
# `x_hat` and `r` on `self`.
# </details>
#
# <details><summary>Hint 3: when the third term is missing</summary>
#
# Without the $\hat{x}\,\overline{g\hat{x}}$ term the gradient ignores that moving one $x_i$
# changes $\sigma$ for the whole group; gradcheck then shows errors in every element.
# </details>

# %%
from tinygrad_course import Function, Tensor  # noqa: F401  (Tensor(array, dtype=..., device=...))


class LayerNorm(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta over the last axis; x (..., D)."""

    def forward(self, x, gamma, beta, eps=1e-5):
        raise NotImplementedError("layer_batch_norm: write LayerNorm.forward")

    def backward(self, grad):
        raise NotImplementedError("layer_batch_norm: write LayerNorm.backward: "
                                  "(dL/dx, dL/dgamma, dL/dbeta)")


class BatchNorm(Function):
    """The same over the batch axis (training mode: the batch's own statistics); x (N, D)."""

    def forward(self, x, gamma, beta, eps=1e-5):
        raise NotImplementedError("layer_batch_norm: write BatchNorm.forward")

    def backward(self, grad):
        raise NotImplementedError("layer_batch_norm: write BatchNorm.backward")


# %% [markdown]
# Run the checks (or: `python -m exercises check layer_batch_norm`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("layer_batch_norm", globals())

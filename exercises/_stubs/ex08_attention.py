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
# # Exercise 8: the backward of attention, by hand
#
# Scaled dot-product attention for queries $Q$ (T_q, d), keys $K$ (T_k, d), values
# $V$ (T_k, d_v), with any leading batch axes shared by all three:
#
# $$S = s\, Q K^T \;\; (s = 1/\sqrt{d}), \qquad P = \mathrm{softmax}_{\text{rows}}(S), \qquad
# O = P V \;\; (T_q, d_v)$$
#
# **Derive** the backward as a chain of four small steps, with $G = \partial L / \partial O$:
#
# 1. $O = PV$ is a matmul: $\partial L / \partial V = ?$ and $\partial L / \partial P = ?$
#    (exercise 3).
# 2. Softmax, row by row: with $dP = \partial L / \partial P$, show that
#    $dS_{ij} = P_{ij} \left( dP_{ij} - \sum_{k} dP_{ik} P_{ik} \right)$.
# 3. $S = s\,QK^T$ is a matmul again: $\partial L / \partial Q = s \, dS\, K$ and
#    $\partial L / \partial K = ?$.
#
# **Shapes**: Q (..., T_q, d), K (..., T_k, d), V (..., T_k, d_v), the same leading axes;
# T_q and T_k may differ, so may d and d_v: a shape check catches many slips.
#
# **What the checker runs**: the forward against NumPy, gradcheck on unbatched inputs with
# T_q != T_k, and a hypothesis property over batch axes and sizes (1 included).
#
# **The real thing**: `tinygrad_course/ops/fused/attention.py` (`ScaledDotProductAttention`:
# the same four steps, plus masks and dropout).
#
# <details><summary>Hint 1: step 2</summary>
#
# $\partial P_{ik} / \partial S_{ij} = P_{ik}(\delta_{kj} - P_{ij})$. Sum
# $dP_{ik} \, \partial P_{ik} / \partial S_{ij}$ over $k$.
# </details>
#
# <details><summary>Hint 2: forward stability</summary>
#
# Subtract each row's maximum from $S$ before the exponential, as in exercise 4: the
# softmax does not change.
# </details>
#
# <details><summary>Hint 3: batched transposes</summary>
#
# With batch axes, "transpose" means `.swapaxes(-1, -2)` (on arrays and on Tensors); `.T`
# reverses every axis. Keep P from the forward.
# </details>

# %%
from tinygrad_course import Function, Tensor  # noqa: F401


class Attention(Function):
    """O = softmax(Q K^T / sqrt(d)) V over the last two axes."""

    def forward(self, q, k, v):
        raise NotImplementedError("attention: write Attention.forward")

    def backward(self, grad):
        raise NotImplementedError("attention: write Attention.backward: (dQ, dK, dV)")


# %% [markdown]
# Run the checks (or: `python -m exercises check attention`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("attention", globals())

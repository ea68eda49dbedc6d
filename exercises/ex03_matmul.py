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
# # Exercise 3: matrix multiplication, batched and with vectors
#
# For $Y = A B$ with $A$ of shape (m, n) and $B$ of shape (n, p), $Y_{ij} = \sum_k A_{ik} B_{kj}$.
#
# **Derive** the two gradients from the index form (write $\partial L / \partial A_{ik}$ as a
# sum over the entries of $Y$ that $A_{ik}$ touches), then recognise the sums as products:
#
# $$\frac{\partial L}{\partial A} = G\,(\;?\;), \qquad \frac{\partial L}{\partial B} = (\;?\;)\,G,
# \qquad G = \frac{\partial L}{\partial Y} \text{ of shape } (m, p)$$
#
# A shape check is a quick test of a guess: only one arrangement of $G$ and $B$ gives an
# (m, n) result.
#
# Then extend it to what `numpy.matmul` accepts:
#
# - **batches**: A of shape (..., m, n), B of shape (..., n, p); the batch axes broadcast like
#   elementwise ops (a (4, n) matrix times a (2, 3, n, p) stack is fine). "Transpose" now
#   means swapping the *last two* axes only.
# - **1-d vectors**: a 1-d A of shape (n,) acts as a (1, n) row, a 1-d B as an (n, 1) column,
#   and that added axis is removed from Y.
#
# **What the checker runs**: the forward against NumPy, gradcheck on 2-d and on batched
# operands, a hypothesis property over batch broadcasting and 1-d vectors, and
# gradgradcheck (write the backward with Tensor operations: `@`, `.swapaxes`, `.reshape`).
#
# **The real thing**: `tinygrad_course/ops/linalg.py` (`MatMul`). You may use the package's
# `sum_to_shape` (exercise 2), imported below.
#
# <details><summary>Hint 1: the 2-d answer</summary>
#
# $\partial L / \partial A_{ik} = \sum_j G_{ij} B_{kj}$, which is $(G B^T)_{ik}$. Likewise
# $\partial L / \partial B = A^T G$.
# </details>
#
# <details><summary>Hint 2: batches</summary>
#
# `x.swapaxes(-1, -2)` transposes every matrix of a stack; `.T` reverses *all* axes, which is
# only right for 2-d. If A was broadcast across a batch axis, its gradient came out with that
# axis: `sum_to_shape(grad_a, a.shape)`.
# </details>
#
# <details><summary>Hint 3: vectors</summary>
#
# Reshape a 1-d A to (1, n) and a 1-d B to (n, 1) in the backward, and put the removed axes
# back into G with `unsqueeze`: for a 1-d A at -2 (at 0 when B is 1-d too: G is then 0-d),
# then for a 1-d B at -1. Compute as for matrices, and reshape each gradient to its input's
# shape at the end.
# </details>

# %%
from tinygrad_course import Function
from tinygrad_course.ops.broadcast import sum_to_shape  # noqa: F401  (yours from exercise 2)


class MatMul(Function):
    """y = a @ b with NumPy's rules for batches and 1-d operands."""

    def forward(self, a, b):
        raise NotImplementedError("matmul: write MatMul.forward (self.xp.matmul is allowed)")

    def backward(self, grad):
        raise NotImplementedError("matmul: write MatMul.backward: (dL/da, dL/db)")


# %% [markdown]
# Run the checks (or, from the repository root: `python -m exercises check matmul`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("matmul", globals())

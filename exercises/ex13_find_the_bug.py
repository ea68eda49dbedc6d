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
# # Exercise 13: find the bug
#
# The five ops below have forwards that are right and backwards that each hide one bug.
# Nothing here raises NotImplementedError: the code runs, and a model built from it would
# train, just worse, or not at all. Your job is the one you will do most often with real
# code: run the check, read the report, find the line, fix it, and name the kind of bug.
#
# The five kinds, one per op:
#
# - **transposed gradient**: a matrix gradient with its axes swapped (a shape check passes
#   when the matrix is square);
# - **missing broadcast sum**: an input used at many positions did not collect them (ex. 2);
# - **wrong sign**;
# - **wrong reduction axis**: a sum over the wrong axis, which broadcasting silently accepts;
# - **mutates input**: the backward writes into an input's array, so the forward value
#   that everything else relies on is gone.
#
# **How to work**: run the last cell (or `python -m exercises check find_the_bug`). The first
# failing check shows gradcheck's report: which input, which elements, analytic vs numeric,
# sometimes a hint. Compare the elements: does the diagonal agree? Is every element off by
# the same factor? Is the error the same in every row? Fix the backward (not the forward:
# the checker also compares each forward with the original), then fill in `DIAGNOSIS`.
#
# **The real thing**: the correct versions live in `tinygrad_course/ops/fused/linear.py`
# (the fully connected layer), `ops/elementwise.py` (`Add`, `Sub`, `Mul`), `ops/nn.py`
# (`Softmax`) and `ops/fused/squared_error.py` (`SquaredError`).
#
# <details><summary>Hint 1: reading a gradcheck report</summary>
#
# "numeric = -1 x analytic everywhere" is a sign. A table where element (i, j) of one side
# equals (j, i) of the other is a transpose. "did you forget to sum over broadcast axes?"
# means what it says. "fn changed input 0 in place" is a mutation.
# </details>
#
# <details><summary>Hint 2: the softmax</summary>
#
# $\partial L / \partial x = y \odot (g - \sum_j g_j y_j)$ where the sum runs over the
# softmax's own axis, the last one, separately for every row.
# </details>
#
# <details><summary>Hint 3: the mutation</summary>
#
# `x.data *= 2` changes the input tensor's array. Compute a new value instead:
# `grad * x * 2.0`.
# </details>

# %%
from tinygrad_course import Function

BUG_KINDS = ("transposed gradient", "missing broadcast sum", "wrong sign",
             "wrong reduction axis", "mutates input")


class LinearNoBias(Function):
    """y = x W^T;  x (N, I), W (O, I), y (N, O)."""

    def forward(self, x, w):
        return x @ w.T

    def backward(self, grad):
        x, w = self.inputs
        return grad @ w, x.T @ grad


class AddBias(Function):
    """y = x + b;  x (N, D), b (D,) added to every row."""

    def forward(self, x, b):
        return x + b

    def backward(self, grad):
        return grad, grad


class SquaredDistance(Function):
    """y_n = sum_d (a_nd - b_nd)^2;  a, b (N, D), y (N,)."""

    def forward(self, a, b):
        return ((a - b) ** 2).sum(axis=-1)

    def backward(self, grad):
        a, b = self.inputs
        g = grad.unsqueeze(-1)
        return 2.0 * g * (a - b), 2.0 * g * (a - b)


class Softmax(Function):
    """y = softmax(x) over the last axis; x of any shape."""

    def forward(self, x):
        e = self.xp.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(axis=0, keepdims=True))


class Square(Function):
    """y = x^2, elementwise."""

    def forward(self, x):
        return x * x

    def backward(self, grad):
        x = self.inputs[0]
        x.data *= 2.0
        return grad * x


# Name each op's bug with one of BUG_KINDS (after fixing it).
DIAGNOSIS = {
    "LinearNoBias": None,
    "AddBias": None,
    "SquaredDistance": None,
    "Softmax": None,
    "Square": None,
}


# %% [markdown]
# Run the checks (or: `python -m exercises check find_the_bug`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("find_the_bug", globals())

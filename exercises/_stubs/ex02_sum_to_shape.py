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
# # Exercise 2: unbroadcasting a gradient
#
# NumPy lets `a * b` combine shapes (2, 3, 4) and (3, 1): it lines the shapes up from the
# right, pads the shorter one with leading 1s, and stretches every size-1 axis to match.
# Each element of `b` is therefore *used several times*, and a value used several times
# collects the sum of the gradients of all its uses.
#
# **Derive**: for $y = a \odot b$ with $b$ broadcast, and $g = \partial L / \partial y$,
#
# $$\frac{\partial L}{\partial b_{j}} = \sum_{\text{positions } i \text{ of } y
# \text{ that read } b_j} g_i \, a_i$$
#
# so the gradient of a broadcast input is the upstream gradient summed back to the input's
# shape. Write that summation once, as `sum_to_shape(grad, shape)`:
#
# - `grad`: a Tensor of the broadcast (output) shape, e.g. (2, 3, 4);
# - `shape`: the input's shape, one that broadcasts to `grad.shape`, e.g. (3, 1), (4,), ();
# - returns a Tensor of exactly `shape`.
#
# Two kinds of axes must be summed: the leading axes broadcasting added (shape (3, 1) inside
# (2, 3, 4): axis 0), and the axes stretched from size 1 (axis 2 of the output).
#
# `BroadcastMul` below is written for you and uses your function in its backward.
#
# **What the checker runs**: values against NumPy on two patterns, gradcheck of
# `BroadcastMul`, then a hypothesis property that tries every broadcast pattern (0-d shapes,
# size-1 axes, added axes, both at once) and prints the smallest one that fails.
#
# **The real thing**: `tinygrad_course/ops/broadcast.py` (`sum_to_shape`), used by every
# binary op in `tinygrad_course/ops/elementwise.py`.
#
# <details><summary>Hint 1: the leading axes</summary>
#
# `leading = grad.ndim - len(shape)`: axes `0 .. leading - 1` of `grad` do not exist in the
# input at all. Sum them away.
# </details>
#
# <details><summary>Hint 2: the stretched axes</summary>
#
# Input axis `i` sits at axis `leading + i` of `grad`. It was stretched when `shape[i] == 1`
# and `grad.shape[leading + i] != 1`. Sum it with `keepdims=True` so it stays there with size 1.
# </details>
#
# <details><summary>Hint 3: one sum, then a reshape</summary>
#
# `grad.sum(axis=all_those_axes, keepdims=True)` keeps every axis, so the positions in hint 2
# stay valid; a final `.reshape(shape)` drops the leading ones. `sum(axis=())` is allowed and
# sums nothing.
# </details>

# %%
from tinygrad_course import Function


def sum_to_shape(grad, shape):
    """Sum the Tensor ``grad`` down to ``shape`` (the inverse of broadcasting ``shape`` up)."""
    raise NotImplementedError("sum_to_shape: write sum_to_shape(grad, shape)")


class BroadcastMul(Function):
    """y = a * b, broadcast;  dL/da = sum_to_shape(g * b),  dL/db = sum_to_shape(g * a).
    (Given: it is here to be gradchecked with your sum_to_shape.)"""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return sum_to_shape(grad * b, a.shape), sum_to_shape(grad * a, b.shape)


# %% [markdown]
# Run the checks (or, from the repository root: `python -m exercises check sum_to_shape`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("sum_to_shape", globals())

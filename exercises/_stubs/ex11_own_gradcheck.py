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
# # Exercise 11: write your own gradcheck
#
# Until now the checker told you whether a backward was right. Now you write the tool that
# decides. `my_gradcheck(fn, *inputs)` gets a function of Tensors (made of ops whose
# backward may be wrong) and NumPy arrays for its inputs, and returns True when the
# gradients that `backward()` computes are right, False when they are not.
#
# **The method.** For $y = f(x_1, \dots, x_m)$, pick a random upstream gradient $v$ of
# $y$'s shape and let $L = \sum v \odot y$. Run backward with $v$ to get the analytic
# $\partial L / \partial x_i$. Then, for every element $j$ of every input $x_i$, the central
# difference
#
# $$\frac{\partial L}{\partial x_{i}[j]} \approx
# \frac{L(x_i[j] + \epsilon) - L(x_i[j] - \epsilon)}{2 \epsilon}$$
#
# (the other elements unchanged). Its error is $O(\epsilon^2)$ from the curvature of $f$,
# plus rounding: $L$ is known to about $10^{-16}|L|$ in float64, and dividing by $2\epsilon$
# magnifies that.
#
# **Derive** (on paper) why: (a) the one-sided $(L(x + \epsilon) - L(x)) / \epsilon$ is worse
# than the central difference (Taylor-expand both); (b) an $\epsilon$ near $10^{-6}$ is a good
# compromise in float64 and a poor one in float32 (about 7 digits: $x + 10^{-6}$ barely
# differs from $x$); (c) a random $v$ catches bugs that $v = 1$ hides.
#
# **Compare** analytic $a$ and numeric $n$ with a tolerance that is relative where the
# gradient is large and absolute where it is near zero:
# $|a - n| \le \text{atol} + \text{rtol}\,|n|$ for every element.
#
# **What the checker runs**: your gradcheck on a bank of functions, and counts how many it
# classifies right. Correct backwards: large values, strong curvature, an input the output
# ignores (its gradient is None: treat it as zeros), several inputs. Planted bugs: a wrong
# sign, a gradient 1% too large, a backward that ignores the upstream gradient, a gradient
# wrong in one element only, a bug in the second input only. Then the same with float32
# inputs. All must be classified right.
#
# **The real thing**: `tinygrad_course/gradcheck.py` (`gradcheck`: the same method, with a
# readable report instead of a bool).
#
# <details><summary>Hint 1: building the tensors</summary>
#
# `tg.tensor(x.astype(np.float64), dtype=np.float64, requires_grad=True)`, one per input,
# fresh for every evaluation. After `out.backward(v_tensor)`, each input's `.grad` holds its
# gradient (or None).
# </details>
#
# <details><summary>Hint 2: evaluating L for the differences</summary>
#
# For the numeric side you need only values: build the moved inputs with
# `requires_grad=False`, call `fn`, and take `np.sum(v * out.numpy())`.
# </details>
#
# <details><summary>Hint 3: tolerances</summary>
#
# With $\epsilon = 10^{-6}$ in float64, correct gradients agree to about $10^{-8}$ relative;
# the planted bugs are off by at least 1%. `rtol = 1e-5, atol = 1e-7` separates them.
# Float32 inputs: do everything in float64 anyway.
# </details>

# %%
import numpy as np  # noqa: F401

import tinygrad_course as tg  # noqa: F401


def my_gradcheck(fn, *inputs):
    """True when fn's backward matches central differences for every input element.

    fn: Tensors -> Tensor;  inputs: NumPy float arrays (float32 or float64)."""
    raise NotImplementedError("own_gradcheck: write my_gradcheck(fn, *inputs)")


# %% [markdown]
# Run the checks (or: `python -m exercises check own_gradcheck`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("own_gradcheck", globals())

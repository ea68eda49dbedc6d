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
# # Exercise 1: sigmoid and tanh, differentiated through their outputs
#
# Two squashing functions, each with a derivative that can be written with the function's
# own output:
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}$$
#
# **Derive** (on paper first), with $y$ the output and $g = \partial L / \partial y$ the
# upstream gradient, elementwise:
#
# $$\frac{\partial L}{\partial x} = g \cdot \sigma'(x) = g \cdot (\text{a polynomial in } y),
# \qquad \frac{\partial L}{\partial x} = g \cdot \tanh'(x) = g \cdot (\text{a polynomial in } y)$$
#
# **Shapes**: x, y and g all have the same shape, any number of axes (a 0-d scalar included).
#
# **Why reuse y?** Written with $x$, $\sigma'(x) = e^{-x} / (1 + e^{-x})^2$: at $x = -800$
# both $e^{800}$ terms overflow and the quotient is inf / inf = nan. The polynomial in $y$ only
# multiplies numbers in $[0, 1]$: it cannot overflow, and the forward has already paid for
# the exponential. Your forward must not overflow either: the naive $1 / (1 + e^{-x})$
# computes $e^{800}$ on the way to a correct 0.
#
# **What the checker runs**: the forward against NumPy (and at $x = \pm 800$ with overflow
# made an error), gradcheck on a random input, the backward at $x = \pm 800$, a hypothesis
# property over shapes and signs, and gradgradcheck: write `backward` with Tensor operations
# on `self.output` (not on raw arrays), so that it can itself be differentiated.
#
# **The real thing**: `tinygrad_course/ops/elementwise.py`, classes `Sigmoid` and `Tanh`
# (read them after trying).
#
# <details><summary>Hint 1: the derivative of sigma</summary>
#
# Differentiate $(1 + e^{-x})^{-1}$ with the chain rule, then notice that
# $e^{-x} / (1 + e^{-x}) = 1 - \sigma(x)$.
# </details>
#
# <details><summary>Hint 2: the derivative of tanh</summary>
#
# Use the quotient rule, or $\tanh(x) = 2\sigma(2x) - 1$ and hint 1. The answer is
# $1 - y^2$; check it at $x = 0$, where the slope of tanh is 1.
# </details>
#
# <details><summary>Hint 3: a forward that never overflows</summary>
#
# $e^{-|x|}$ is in $(0, 1]$ for every $x$. For $x \ge 0$, $\sigma(x) = 1 / (1 + e^{-x})$;
# for $x < 0$, multiply top and bottom by $e^{x}$: $\sigma(x) = e^{x} / (1 + e^{x})$.
# `xp.where(condition, a, b)` picks between the two.
# </details>
#
# <details><summary>Hint 4: forgetting g</summary>
#
# The backward returns $g \cdot \sigma'(x)$, not $\sigma'(x)$. The checker's upstream gradient
# is random, so forgetting $g$ shows up as wrong numbers everywhere.
# </details>

# %%
from tinygrad_course import Function

# In forward, x is a raw array: compute with self.xp (NumPy, or the device's array module),
# never numpy directly. In backward, grad and self.output are Tensors: use Tensor operations.


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), elementwise, without overflow for any float x."""

    def forward(self, x):
        raise NotImplementedError("sigmoid_tanh: write Sigmoid.forward (see hint 3)")

    def backward(self, grad):
        raise NotImplementedError("sigmoid_tanh: write Sigmoid.backward from y = self.output")


class Tanh(Function):
    """y = tanh(x), elementwise."""

    def forward(self, x):
        raise NotImplementedError("sigmoid_tanh: write Tanh.forward (xp.tanh is allowed)")

    def backward(self, grad):
        raise NotImplementedError("sigmoid_tanh: write Tanh.backward from y = self.output")


# %% [markdown]
# Run the checks (or, from the repository root: `python -m exercises check sigmoid_tanh`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("sigmoid_tanh", globals())

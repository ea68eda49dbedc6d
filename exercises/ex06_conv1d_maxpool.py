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
# # Exercise 6: conv1d by im2col, then max-pooling with ties
#
# **Convolution** (as deep-learning libraries define it: a cross-correlation), stride 1, no
# padding:
#
# $$y_{n,o,l} = \sum_{c}\sum_{k} w_{o,c,k}\; x_{n,c,l+k}, \qquad
# x: (N, C, L),\; w: (O, C, K),\; y: (N, O, L - K + 1)$$
#
# **im2col** turns it into one matrix product: copy every window $x_{n,:,l:l+K}$ into a row
# of a matrix `cols` of shape (N * L_out, C * K), flatten $w$ to (O, C * K), and
# `y_rows = cols @ w_flat.T` has shape (N * L_out, O).
#
# **Derive** the backward in the same terms. With `G` the upstream gradient arranged like
# `y_rows`:
#
# $$\frac{\partial L}{\partial w_{\text{flat}}} = G^T \,\mathrm{cols}, \qquad
# \frac{\partial L}{\partial \mathrm{cols}} = G \, w_{\text{flat}}$$
#
# and then **col2im**: every element of $x$ was copied into up to K rows of `cols`, so its
# gradient is the *sum* of the gradients of all its copies.
#
# **Max-pooling** over windows of `kernel` positions (stride = kernel; a remainder that does
# not fill a window is dropped): $y_{n,c,j} = \max_{0 \le i < \text{kernel}} x_{n,c,j \cdot
# \text{kernel} + i}$. Its gradient goes to the position of the maximum. When a window holds
# **ties** (two equal maxima), max is not differentiable; the rule here, as for
# `numpy.argmax` and PyTorch's max-pool, is: all of it to the **first** maximum, none to the
# others.
#
# **What the checker runs**: both forwards against NumPy, gradcheck of each (distinct
# values), a hypothesis property over conv shapes (K = 1 and K = L included), and one over
# inputs full of ties that compares the pool's gradient with the first-maximum rule.
#
# **The real thing**: `tinygrad_course/ops/conv.py` (`Conv1d`: the same im2col forward; its
# backward is written as two more convolutions; `max_over_time`).
#
# <details><summary>Hint 1: building cols without a loop over positions</summary>
#
# `xp.stack([x[:, :, k:k + L_out] for k in range(K)], axis=-1)` has shape (N, C, L_out, K);
# move the axes to (N, L_out, C, K) and reshape. Flatten `w` in the same (C, K) order.
# </details>
#
# <details><summary>Hint 2: col2im</summary>
#
# Reshape `dcols` to (N, L_out, C, K). Tap k of every window read `x[:, :, k:k + L_out]`, so
# loop over k and *add*: `dx[:, :, k:k + L_out] += ...`. Assigning with `=` keeps only the
# last copy's gradient.
# </details>
#
# <details><summary>Hint 3: the pool's backward with the first maximum</summary>
#
# Keep `argmax` of each window from the forward (the first maximum). A one-hot of it,
# `xp.arange(kernel) == argmax[..., None]`, times the upstream gradient, reshaped back,
# is the gradient; pad the dropped remainder with zeros.
# </details>

# %%
from tinygrad_course import Function, Tensor  # noqa: F401


class Conv1d(Function):
    """y[n, o, l] = sum_c,k w[o, c, k] x[n, c, l + k];  x (N, C, L), w (O, C, K)."""

    def forward(self, x, w):
        raise NotImplementedError("conv1d_maxpool: write Conv1d.forward by im2col")

    def backward(self, grad):
        raise NotImplementedError("conv1d_maxpool: write Conv1d.backward: (dL/dx, dL/dw)")


class MaxPool1d(Function):
    """y[n, c, j] = max of x[n, c, j*kernel : (j+1)*kernel]; ties: the first maximum wins."""

    def forward(self, x, kernel):
        raise NotImplementedError("conv1d_maxpool: write MaxPool1d.forward")

    def backward(self, grad):
        raise NotImplementedError("conv1d_maxpool: write MaxPool1d.backward")


# %% [markdown]
# Run the checks (or: `python -m exercises check conv1d_maxpool`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("conv1d_maxpool", globals())

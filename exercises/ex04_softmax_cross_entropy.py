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
# # Exercise 4: softmax cross-entropy
#
# A classifier outputs logits $Z$ of shape (N, C): one row of C scores per example. With
# integer labels $t_n \in \{0, \dots, C-1\}$, the mean cross-entropy is
#
# $$L = \frac{1}{N} \sum_n \ell_n, \qquad
# \ell_n = -\log \mathrm{softmax}(z_n)_{t_n} = \log \sum_c e^{z_{nc}} - z_{n t_n}$$
#
# **Derive** $\partial \ell_n / \partial z_{nc}$ from the right-hand form (the derivative of
# a log-sum-exp is a softmax), then show that
#
# $$\frac{\partial L}{\partial Z} = \frac{\mathrm{softmax}(Z) - \mathrm{onehot}(t)}{N}$$
#
# and remember the upstream gradient: $L$ is a scalar, and the backward receives
# $g = \partial(\text{final loss}) / \partial L$, a 0-d Tensor, to multiply in.
#
# **A forward that survives large logits.** $e^{z}$ overflows float64 past $z \approx 709$.
# Since $\log \sum_c e^{z_c} = m + \log \sum_c e^{z_c - m}$ for any $m$, choose $m = \max_c z_c$:
# every exponent is then $\le 0$, and the largest term is exactly 1. Compute $\ell_n$ from
# the log-sum-exp form, never as the log of a softmax that may have rounded to 0. The
# checker feeds logits of $\pm 10^4$.
#
# **Shapes**: logits (N, C) float; labels (N,) integers (a constant: return None for its
# gradient); the loss is 0-d.
#
# **What the checker runs**: the forward against a reference, the forward at logits of
# $\pm 10^4$, gradcheck, and a hypothesis property over N, C (1 included), repeated labels
# and tied logits.
#
# **The real thing**: `tinygrad_course/ops/fused/cross_entropy.py` (`SoftmaxCrossEntropy`,
# which takes a target distribution instead of labels, beside its composed twin).
#
# <details><summary>Hint 1: the derivative of log-sum-exp</summary>
#
# $\partial / \partial z_c \log \sum_k e^{z_k} = e^{z_c} / \sum_k e^{z_k} = \mathrm{softmax}(z)_c$,
# and $\partial z_{t} / \partial z_c$ is 1 when $c = t$, else 0: that is the one-hot.
# </details>
#
# <details><summary>Hint 2: picking the label's logit</summary>
#
# `logits[xp.arange(N), labels]` is the (N,) vector of $z_{n t_n}$. A one-hot matrix is
# `xp.eye(C, dtype=logits.dtype)[labels]`.
# </details>
#
# <details><summary>Hint 3: arrays to Tensors</summary>
#
# Keep the softmax (an array) on `self` in the forward. In the backward, wrap an array as a
# constant Tensor with `Tensor(array, dtype=array.dtype, device=grad.device)`; without
# `dtype`, float64 would be rounded to float32.
# </details>
#
# <details><summary>Hint 4: the 1/N</summary>
#
# If gradcheck says "numeric = 0.25 x analytic everywhere" for N = 4, the mean's 1/N is
# missing from the backward.
# </details>

# %%
from tinygrad_course import Function, Tensor  # noqa: F401  (Tensor: see hint 3)


class SoftmaxCrossEntropy(Function):
    """loss = mean over n of (logsumexp(z_n) - z_n[t_n]);  logits (N, C), labels (N,) ints."""

    def forward(self, logits, labels):
        raise NotImplementedError("softmax_cross_entropy: write the stable forward")

    def backward(self, grad):
        raise NotImplementedError("softmax_cross_entropy: write the backward: "
                                  "(dL/dlogits, None)")


# %% [markdown]
# Run the checks (or: `python -m exercises check softmax_cross_entropy`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("softmax_cross_entropy", globals())

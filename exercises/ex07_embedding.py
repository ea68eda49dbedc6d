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
# # Exercise 7: embedding lookup and its scatter-add backward
#
# An embedding table $W$ of shape (V, D) holds one D-dimensional vector per word of a
# vocabulary of V words. A batch of integer ids of any shape S picks rows:
#
# $$y[s, :] = W[\mathrm{ids}[s], :], \qquad y: S + (D,)$$
#
# **Derive** $\partial L / \partial W$. Row $v$ of $W$ is read at every position $s$ with
# $\mathrm{ids}[s] = v$, and a value used several times collects the sum of the gradients
# of its uses:
#
# $$\frac{\partial L}{\partial W[v, :]} = \sum_{s \,:\, \mathrm{ids}[s] = v} G[s, :]$$
#
# Rows never read get zero. A sentence repeats words ("the cat saw the dog"), so repeated
# ids are the normal case, not an edge case.
#
# **The trap**: `dW[ids] = G` and even `dW[ids] += G` keep only *one* of the repeated
# rows' gradients (NumPy evaluates `dW[ids]` once, adds, and writes back, so the last
# write wins). gradcheck on distinct ids cannot see this.
#
# **What the checker runs**: the forward against NumPy, gradcheck with distinct ids, then
# hypothesis properties with repeated ids and with ids of any shape (0-d, 1-d, 2-d).
#
# **The real thing**: `tinygrad_course/ops/fused/embedding.py` (`EmbeddingLookup`), and
# `tinygrad_course/backend.py` (`scatter_add`), which the word2vec trainer uses too.
#
# <details><summary>Hint 1: flatten first</summary>
#
# Whatever the shape of `ids`, `ids.reshape(-1)` (M ids) and `G.reshape(-1, D)` (M rows)
# pair each id with its row of the gradient.
# </details>
#
# <details><summary>Hint 2: adding with repeats, way 1</summary>
#
# A one-hot matrix $H$ of shape (M, V) with $H[m, \mathrm{ids}[m]] = 1$ turns the lookup into
# a product, $y = H W$. So $\partial L / \partial W = H^T G$: the product does the summing.
# `xp.eye(V, dtype=...)[flat_ids]` builds $H$.
# </details>
#
# <details><summary>Hint 3: adding with repeats, way 2</summary>
#
# `tinygrad_course.backend.scatter_add(self.xp, dW, flat_ids, G_rows)` adds each row into
# `dW` in place, repeats included (`numpy.add.at` on the CPU), without the (M, V) matrix.
# </details>

# %%
from tinygrad_course import Function, Tensor, backend  # noqa: F401


class Embedding(Function):
    """y = weight[ids];  weight (V, D), ids integers of any shape S, y: S + (D,)."""

    def forward(self, weight, ids):
        raise NotImplementedError("embedding: write Embedding.forward")

    def backward(self, grad):
        raise NotImplementedError("embedding: write Embedding.backward: (dL/dweight, None)")


# %% [markdown]
# Run the checks (or: `python -m exercises check embedding`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("embedding", globals())

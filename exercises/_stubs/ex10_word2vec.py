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
# # Exercise 10: word2vec, skip-gram with negative sampling
#
# Every word w of a vocabulary of V words has two vectors of D numbers: an input vector
# $v_w$ (row w of `w_in`, (V, D)) and an output vector $u_w$ (row w of `w_out`, (V, D)).
# For one training triple (a centre word c, a context word o seen near it, and K noise words
# $n_1 \dots n_K$ drawn at random), the loss asks K + 1 yes/no questions:
#
# $$L = -\log \sigma(u_o \cdot v_c) - \sum_{k=1}^{K} \log \sigma(-u_{n_k} \cdot v_c)$$
#
# **Derive** the gradients with respect to $v_c$, $u_o$ and each $u_{n_k}$. With the
# scores $s_0 = u_o \cdot v_c$, $s_k = u_{n_k} \cdot v_c$, use
# $\frac{d}{ds}(-\log\sigma(s)) = \sigma(s) - 1$ and $\frac{d}{ds}(-\log\sigma(-s)) = \sigma(s)$.
#
# Return them as **dense** (V, D) gradients of the two tables: zero rows for words not in
# the triple. Noise words are drawn with replacement: the same word can be drawn twice,
# and a noise word can even be the context word itself. Each use adds its own gradient to
# that row.
#
# **What the checker runs**: the loss against NumPy, your gradients against autograd of the
# same loss composed of Tensor ops (distinct words), gradcheck, and a hypothesis property
# over tiny vocabularies where repeats are frequent.
#
# **The real thing**: `tinygrad_course/models/word2vec.py` (its docstring has the gradients;
# `Word2Vec.sgd_step` applies them to the rows in place, adding repeated rows up).
#
# <details><summary>Hint 1: the vector of scores</summary>
#
# `targets = [o, n_1, ..., n_K]`, `scores = w_out[targets] @ v_c` (K + 1,), labels
# `(1, 0, ..., 0)`. Then $\partial L / \partial s = \sigma(s) - \text{labels}$: the same form
# as exercise 4's softmax - onehot.
# </details>
#
# <details><summary>Hint 2: the three gradients</summary>
#
# With $e = \sigma(s) - \text{labels}$: $\partial L/\partial v_c = \sum_t e_t u_t$ (that is
# `e @ w_out[targets]`), and $\partial L/\partial u_t = e_t v_c$ for each target t.
# </details>
#
# <details><summary>Hint 3: repeats</summary>
#
# `d_w_out[targets] += ...` keeps one update per repeated row. Add row by row in a loop over
# the K + 1 targets, or with `tinygrad_course.backend.scatter_add(xp, d_w_out, targets,
# rows)`.
# </details>

# %%
from tinygrad_course import backend  # noqa: F401  (backend.scatter_add: see hint 3)


def sgns_loss_and_gradients(w_in, w_out, center, context, negatives, xp):
    """w_in, w_out (V, D) arrays; center, context ints; negatives (K,) int array.
    Returns (loss: float, d_w_in (V, D), d_w_out (V, D))."""
    raise NotImplementedError("word2vec: write sgns_loss_and_gradients")


# %% [markdown]
# Run the checks (or: `python -m exercises check word2vec`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("word2vec", globals())

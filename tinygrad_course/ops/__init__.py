"""Differentiable primitives, one file per family; forward and backward side by side.

elementwise  add, sub, mul, div, neg, pow, exp, log, sqrt, abs, tanh, sigmoid, relu,
             leaky_relu, gelu, erf, clip, maximum, minimum, where, astype, comparisons
reduce       sum, mean, var, max, min, logsumexp, argmax, argmin, masked_mean
movement     reshape, transpose, swapaxes, broadcast_to, squeeze, unsqueeze, flatten,
             getitem (slices, integer arrays, boolean masks), concatenate, stack, split, pad
linalg       matmul
einsum       einsum: any subscript string NumPy accepts; backward by einsum
scan         cumsum, cumprod
indexing     gather, scatter, scatter_add, index_select, masked_fill, sort, argsort, topk,
             tril, triu, diagonal (composed of getitem, scatter-add and where)
linear       linear: x W^T + b as one op (the Linear layer)
nn           softmax, log_softmax, softmax_cross_entropy, squared_error,
             symmetric_cross_entropy (CLIP's loss)
normalization  layer_norm, l2_normalize (fused forward and backward)
embedding    embedding: rows of a table picked by ids, scatter-add backward
attention    scaled_dot_product_attention (masks, dropout) as one op
similarity   similarity_logits: CLIP's exp(min(tau, tau_max)) U V^T as one op
conv         conv1d, max over time
conv2d       conv2d and conv_transpose2d by im2col / col2im, unfold, fold
pool         max / avg / adaptive pooling, interpolate, pixel_shuffle (composed, no new op)
quantize     straight_through: the straight-through estimator of VQ-VAE
recurrent    rnn / lstm / gru over a whole sequence, backward through time by hand
"""

from . import (  # noqa: F401
    einsum,
    elementwise,
    indexing,
    linalg,
    linear,
    movement,
    nn,
    normalization,
    reduce,
    scan,
)

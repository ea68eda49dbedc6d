"""Differentiable primitives, one file per family; forward and backward side by side.

elementwise  add, sub, mul, div, neg, pow, exp, log, sqrt, abs, tanh, sigmoid, relu,
             leaky_relu, gelu, erf, clip, maximum, minimum, where, astype, comparisons
reduce       sum, mean, var, max, min, logsumexp, argmax, argmin
movement     reshape, transpose, swapaxes, broadcast_to, squeeze, unsqueeze, flatten,
             getitem (slices, integer arrays, boolean masks), concatenate, stack, split, pad
linalg       matmul
einsum       einsum: any subscript string NumPy accepts; backward by einsum
scan         cumsum, cumprod
indexing     gather, scatter, scatter_add, index_select, masked_fill, sort, argsort, topk,
             tril, triu, diagonal (composed of getitem, scatter-add and where)
nn           softmax, log_softmax
conv         conv1d, max over time
conv2d       conv2d and conv_transpose2d by im2col / col2im, unfold, fold
pool         max / avg / adaptive pooling, interpolate, pixel_shuffle (composed, no new op)
quantize     straight_through: the straight-through estimator of VQ-VAE
recurrent    rnn / lstm / gru cells: one time step of the lecture's equations
fused/       one file per fused op, each beside its composed twin: linear, layer_norm,
             l2_normalize, the cross-entropies, squared_error, similarity_logits,
             masked_mean, embedding, attention, the sequence ops (see fused/__init__.py)
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

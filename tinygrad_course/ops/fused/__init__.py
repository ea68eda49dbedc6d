"""Fused ops, one file per op, each beside its composed twin.

A fused op is one Function for what a few plain Tensor ops compute, with the backward in
closed form on the arrays: faster, but further from the lecture. Its composed twin is the
same math written with plain Tensor ops, as short as the lecture's equations, and autograd
derives its backward. Read the twin first; each file's docstring says what the fused op
saves. ``tg.use_fused(False)`` (or TINYGRAD_FUSED=0) makes every layer and model run the
twins; tests/test_fused_twins.py proves each fused op equal to its twin.

    file                       twin                               fused op
    linear.py                  linear_composed                    Linear
    layer_norm.py              layer_norm_composed                LayerNorm
    l2_normalize.py            l2_normalize_composed              L2Normalize
    cross_entropy.py           softmax_cross_entropy_composed     SoftmaxCrossEntropy
    symmetric_cross_entropy.py symmetric_cross_entropy_composed   SymmetricCrossEntropy
    binary_cross_entropy.py    binary_cross_entropy_composed      BinaryCrossEntropy
    squared_error.py           squared_error_composed             SquaredError
    similarity.py              similarity_logits_composed         SimilarityLogits
    masked_mean.py             masked_mean_composed               MaskedMean
    embedding.py               embedding_composed                 EmbeddingLookup
    attention.py               attention_composed,                ScaledDotProductAttention
                               packed_self_attention_composed
    sequence.py                run_cells (the cell at each step)  RNNSequence, LSTMSequence,
                                                                  GRUSequence

The old import paths (ops.linear, ops.nn, ops.attention, ops.recurrent, ...) still work.
"""

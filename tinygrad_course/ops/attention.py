"""Scaled dot-product attention and packed multi-head self-attention: they live in
ops/fused/attention.py, beside their composed twins; imported here under the old path."""

from .fused.attention import (  # noqa: F401
    ScaledDotProductAttention,
    as_mask_tensor,
    attention_composed,
    attention_weights,
    causal_mask,
    dropout_keep,
    mask_to_bias,
    masked_attention,
    packed_self_attention,
    packed_self_attention_composed,
    scaled_dot_product_attention,
)

"""CLIP's similarity logits exp(min(tau, tau_max)) U V^T: they live in
ops/fused/similarity.py, beside the composed twin; imported here under the old path."""

from .fused.similarity import (  # noqa: F401
    SimilarityLogits,
    similarity_logits,
    similarity_logits_composed,
)

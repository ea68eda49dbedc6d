"""Layer normalisation and L2 normalisation: they live in ops/fused/layer_norm.py and
ops/fused/l2_normalize.py, each beside its composed twin; imported here under the old path."""

from .fused.l2_normalize import L2Normalize, l2_normalize, l2_normalize_composed  # noqa: F401
from .fused.layer_norm import LayerNorm, layer_norm, layer_norm_composed  # noqa: F401

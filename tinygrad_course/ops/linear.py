"""The affine map of a Linear layer, y = x W^T + b: it lives in ops/fused/linear.py, beside
its composed twin ``linear_composed``; imported here under its old path."""

from .fused.linear import Linear, linear, linear_composed  # noqa: F401

"""BatchNorm with the statistics of each example (axis 1) instead of each feature (axis 0)."""

from exercise_solutions.ex05_layer_batch_norm import BatchNorm, LayerNorm

CAUGHT_BY = "forward: batch norm"
SLIPS_PAST = ("forward: layer norm", "gradcheck: layer norm")


class BatchNorm(BatchNorm):  # noqa: F811
    axis = 1


__all__ = ["BatchNorm", "LayerNorm"]

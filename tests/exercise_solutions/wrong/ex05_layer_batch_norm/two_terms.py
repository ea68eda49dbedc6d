"""dL/dx = r (g - mean(g)): the path through the variance is forgotten."""

from exercise_solutions.ex05_layer_batch_norm import BatchNorm, LayerNorm

from tinygrad_course import Tensor

CAUGHT_BY = "gradcheck: layer norm"
SLIPS_PAST = ("forward: layer norm",)


class LayerNorm(LayerNorm):  # noqa: F811
    def backward(self, grad):
        _, grad_gamma, grad_beta = super().backward(grad)
        r = Tensor(self.r, dtype=self.r.dtype, device=grad.device)
        g = grad * self.inputs[1]
        return r * (g - g.mean(axis=-1, keepdims=True)), grad_gamma, grad_beta


__all__ = ["BatchNorm", "LayerNorm"]

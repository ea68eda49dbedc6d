"""BatchNorm's dL/dx from dL/dy directly, without the factor gamma (g = dL/dy)."""

from exercise_solutions.ex05_layer_batch_norm import BatchNorm, LayerNorm

from tinygrad_course import Tensor

CAUGHT_BY = "gradcheck: batch norm"
SLIPS_PAST = ("forward: batch norm",)


class BatchNorm(BatchNorm):  # noqa: F811
    def backward(self, grad):
        _, grad_gamma, grad_beta = super().backward(grad)
        x_hat = Tensor(self.x_hat, dtype=self.x_hat.dtype, device=grad.device)
        r = Tensor(self.r, dtype=self.r.dtype, device=grad.device)
        grad_x = r * (grad - grad.mean(axis=0, keepdims=True)
                      - x_hat * (grad * x_hat).mean(axis=0, keepdims=True))
        return grad_x, grad_gamma, grad_beta


__all__ = ["BatchNorm", "LayerNorm"]

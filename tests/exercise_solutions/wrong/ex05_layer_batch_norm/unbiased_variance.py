"""The variance divided by n - 1 (NumPy's var(ddof=1)), not by n."""

from exercise_solutions.ex05_layer_batch_norm import BatchNorm, LayerNorm

CAUGHT_BY = "forward: layer norm"


class LayerNorm(LayerNorm):  # noqa: F811
    def forward(self, x, gamma, beta, eps=1e-5):
        n = x.shape[-1]
        centred = x - x.mean(axis=-1, keepdims=True)
        var = (centred * centred).sum(axis=-1, keepdims=True) / (n - 1)
        self.r = 1.0 / self.xp.sqrt(var + eps)
        self.x_hat = centred * self.r
        return gamma * self.x_hat + beta


__all__ = ["BatchNorm", "LayerNorm"]

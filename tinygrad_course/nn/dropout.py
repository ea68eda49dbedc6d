"""Dropout: during training, zero each activation with probability p and scale the rest by
1 / (1 - p) ("inverted dropout"), so the expected value of every unit is unchanged and
evaluation needs no rescaling:

    y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)        (training)
    y = x                                                (eval)

The mask is drawn on the host from a seeded generator and moved to the tensor's device, so a
seed gives the same mask on every device.
"""

from .. import backend
from ..tensor import Tensor
from . import init
from .module import Module


class Dropout(Module):
    def __init__(self, p=0.5, seed=None, generator=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p
        self.generator = init.get_generator(seed, generator)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        keep = self.generator.random(x.shape) >= self.p
        # 1 / (1 - p) is divided out in float64 and then rounded once, to x's own dtype
        scale = (keep / (1.0 - self.p)).astype(x.dtype)
        return x * Tensor._from_op(backend.from_numpy(scale, x.device), x.device, False)

    def extra_repr(self):
        return f"p={self.p}"

"""Dropout: during training, zero each activation with probability p and scale the rest by
1 / (1 - p) ("inverted dropout"), so the expected value of every unit is unchanged and
evaluation needs no rescaling:

    y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)        (training)
    y = x                                                (eval)

The mask is drawn on the host from a seeded generator and moved to the tensor's device, so a
seed gives the same mask on every device. The math is F.dropout (tinygrad_course.functional).
"""

from .. import functional as F
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
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}"

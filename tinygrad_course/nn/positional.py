"""Positional encodings: attention is blind to order, so each position gets a vector added.

Self-attention treats its input as a set: permute the tokens and the outputs permute the same
way. Adding a vector that depends on the position gives the model the order back.

Sinusoidal (Vaswani et al. 2017), fixed, for any length:
    PE[pos, 2i]   = sin(pos / 10000^(2i / d_model))
    PE[pos, 2i+1] = cos(pos / 10000^(2i / d_model))
Each pair of features is a rotation at its own frequency, so PE[pos + k] is a linear
function of PE[pos] for every offset k: relative positions are easy to read off.

Learned (BERT, GPT, ViT): a Parameter of shape (max_len, d_model), one trained row per
position; it cannot go beyond max_len.

Both modules return dropout(x + PE[:L]) for x of shape (L, N, E), or (N, L, E) with
batch_first=True.
"""

import math

import numpy

from ..errors import ShapeError
from ..tensor import tensor, zeros
from . import init
from .dropout import Dropout
from .module import Module, Parameter


def sinusoidal_table(length, d_model):
    """The (length, d_model) float32 table PE above, on the host."""
    position = numpy.arange(length)[:, None]
    frequency = numpy.exp(numpy.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = numpy.zeros((length, d_model))
    table[:, 0::2] = numpy.sin(position * frequency)
    table[:, 1::2] = numpy.cos(position * frequency)[:, : d_model // 2]
    return table.astype(numpy.float32)


class _AddPositions(Module):
    """Shared forward: check the shape, add the first L rows, apply dropout."""

    def _table(self):
        raise NotImplementedError(f"{type(self).__name__} must define _table()")

    def forward(self, x):
        table = self._table()
        max_len, d_model = table.shape
        axis = 1 if self.batch_first else 0
        if x.ndim != 3 or x.shape[-1] != d_model or x.shape[axis] > max_len:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ShapeError(f"{type(self).__name__}: expected x of shape {layout} with E = "
                             f"{d_model} and L <= max_len = {max_len}, got {x.shape}")
        length = x.shape[axis]
        rows = table[:length]
        rows = rows.unsqueeze(0) if self.batch_first else rows.unsqueeze(1)
        return self.dropout(x + rows)


class SinusoidalPositionalEncoding(_AddPositions):
    """x + PE[:L] with the fixed sine/cosine table (a buffer: saved, never trained)."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, seed=None,
                 generator=None, device=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.register_buffer("pe", tensor(sinusoidal_table(max_len, d_model), device=device))
        self.dropout = Dropout(dropout, seed=seed, generator=generator)

    def _table(self):
        return self.pe

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(_AddPositions):
    """x + W[:L] with W a trained (max_len, d_model) Parameter, init N(0, 0.02^2)."""

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=False, seed=None,
                 generator=None, dtype=None, device=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        rng = init.get_generator(seed, generator)
        self.weight = Parameter(zeros(max_len, d_model, dtype=dtype, device=device))
        init.normal_(self.weight, 0.0, 0.02, generator=rng)
        self.dropout = Dropout(dropout, generator=rng)

    def _table(self):
        return self.weight

    def extra_repr(self):
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"

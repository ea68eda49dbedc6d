"""Embedding: a lookup table of vectors, one row per token id.

    y[..., :] = W[ids[...], :]        ids: integer (...)   W: (num_embeddings, dim)   y: (..., dim)

Looking up rows is indexing, so the backward is a scatter-add: the gradient of each output
row is added into the row of W it came from (a token used twice gets both gradients), and
rows of tokens not in the batch get zero. The op is ops/fused/embedding.py.
"""

import numpy

from ..errors import DeviceError, DTypeError, ShapeError
from ..ops.embedding import embedding
from ..tensor import Tensor, tensor, zeros
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """Init: W ~ N(0, 1) as in PyTorch; the padding_idx row is zero and never gets a gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, seed=None,
                 generator=None, dtype=None, device=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                             f"{num_embeddings}), got {padding_idx}")
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(zeros(num_embeddings, embedding_dim, dtype=dtype, device=device))
        init.normal_(self.weight, 0.0, 1.0, seed=seed, generator=generator)
        if padding_idx is not None:
            host = self.weight.numpy().copy()
            host[padding_idx] = 0
            self.weight.data = tensor(host, dtype=host.dtype, device=self.weight.device).data

    def _check(self, ids):
        if ids.dtype.kind not in "iu":
            raise DTypeError(f"Embedding: ids must be integers, got dtype {ids.dtype}")
        if ids.size:
            low, high = int(ids.data.min()), int(ids.data.max())
            if low < 0 or high >= self.num_embeddings:
                raise ShapeError(f"Embedding: ids must be in [0, {self.num_embeddings}), got "
                                 f"values from {low} to {high}")

    def forward(self, ids):
        if not isinstance(ids, Tensor):
            ids = tensor(numpy.asarray(ids), device=self.weight.device)
        self._check(ids)
        if ids.device != self.weight.device:
            raise DeviceError(f"Embedding: ids on '{ids.device}', the weight on "
                              f"'{self.weight.device}'")
        return embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"

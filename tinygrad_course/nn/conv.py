"""Conv1d: a bank of K-position pattern detectors slid along a sequence (see ops/conv.py).

    y[n, o, l] = b[o] + sum over c, k of w[o, c, k] * x[n, c, l*stride + k*dilation]
    x: (N, C_in, L)   w: (C_out, C_in, K)   b: (C_out,)   ->   y: (N, C_out, L_out)

For a sentence of word vectors (N, L, E), transpose to (N, E, L) first: the embedding
dimensions are the input channels.

Init as PyTorch: w and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in * K.
"""

import math

from ..ops.conv import conv1d
from ..tensor import zeros
from . import init
from .module import Module, Parameter


class Conv1d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, seed=None, generator=None, dtype=None, device=None):
        super().__init__()
        if min(in_channels, out_channels, kernel_size, stride, dilation) < 1:
            raise ValueError(f"Conv1d: channels, kernel_size, stride and dilation must be >= 1, "
                             f"got {in_channels}, {out_channels}, {kernel_size}, {stride}, "
                             f"{dilation}")
        self.in_channels, self.out_channels, self.kernel_size = (in_channels, out_channels,
                                                                 kernel_size)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        rng = init.get_generator(seed, generator)
        bound = 1.0 / math.sqrt(in_channels * kernel_size)
        self.weight = Parameter(zeros(out_channels, in_channels, kernel_size, dtype=dtype,
                                      device=device))
        init.uniform_(self.weight, -bound, bound, generator=rng)
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
            init.uniform_(self.bias, -bound, bound, generator=rng)
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        extras = "".join(f", {name}={getattr(self, name)}" for name, default in
                         (("stride", 1), ("padding", 0), ("dilation", 1))
                         if getattr(self, name) != default)
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
                + extras + ("" if self.bias is not None else ", bias=False"))

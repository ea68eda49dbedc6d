"""Conv1d and Conv2d / ConvTranspose2d.

Conv1d: a bank of K-position pattern detectors slid along a sequence (see ops/conv.py).

    y[n, o, l] = b[o] + sum over c, k of w[o, c, k] * x[n, c, l*stride + k*dilation]
    x: (N, C_in, L)   w: (C_out, C_in, K)   b: (C_out,)   ->   y: (N, C_out, L_out)

For a sentence of word vectors (N, L, E), transpose to (N, E, L) first: the embedding
dimensions are the input channels.

Init as PyTorch: w and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in * K.
"""

import math

from .. import functional as F
from ..errors import ShapeError
from ..ops.conv2d import PADDING_MODES, conv2d, conv_transpose2d, pair
from ..tensor import zeros
from . import init
from .module import Module, Parameter


class Conv1d(Module):
    """weight (C_out, C_in / groups, K), bias (C_out,). groups splits the channels into
    groups convolved separately (groups = C_in: one filter per channel, "depthwise").
    padding: an int, 'same' or 'valid'; padding_mode: 'zeros', 'reflect', 'replicate' or
    'circular' (the sequence is padded by F.pad, then convolved without padding)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", seed=None, generator=None,
                 dtype=None, device=None):
        super().__init__()
        if min(in_channels, out_channels, kernel_size, stride, dilation, groups) < 1:
            raise ValueError(f"Conv1d: channels, kernel_size, stride, dilation and groups must "
                             f"be >= 1, got {in_channels}, {out_channels}, {kernel_size}, "
                             f"{stride}, {dilation}, {groups}")
        if in_channels % groups or out_channels % groups:
            raise ShapeError(f"Conv1d: in_channels {in_channels} and out_channels "
                             f"{out_channels} must be divisible by groups {groups}")
        if padding_mode not in PADDING_MODES:
            raise ShapeError(f"Conv1d: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.kernel_size = (in_channels, out_channels,
                                                                 kernel_size)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups, self.padding_mode = groups, padding_mode
        rng = init.get_generator(seed, generator)
        bound = 1.0 / math.sqrt(in_channels // groups * kernel_size)
        self.weight = Parameter(zeros(out_channels, in_channels // groups, kernel_size,
                                      dtype=dtype, device=device))
        init.uniform_(self.weight, -bound, bound, generator=rng)
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
            init.uniform_(self.bias, -bound, bound, generator=rng)
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        padding = self.padding
        if self.padding_mode != "zeros" and padding not in (0, "valid"):
            if padding == "same":
                total = self.dilation * (self.kernel_size - 1)
                widths = (total // 2, total - total // 2)
            else:
                widths = (padding, padding)
            x, padding = F.pad(x, widths, mode=self.padding_mode), 0
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self):
        extras = "".join(f", {name}={getattr(self, name)!r}" for name, default in
                         (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1),
                          ("padding_mode", "zeros"))
                         if getattr(self, name) != default)
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
                + extras + ("" if self.bias is not None else ", bias=False"))


class _Conv2dBase(Module):
    """The weights of Conv2d and ConvTranspose2d: init as PyTorch, w and b ~ U(-1/sqrt(fan),
    1/sqrt(fan)) with fan = weight.shape[1] * kH * kW (C_in/groups * kH * kW for Conv2d)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, weight_shape, seed, generator, dtype, device):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride, self.dilation = pair(stride, "stride", name), pair(dilation, "dilation", name)
        if min(in_channels, out_channels, groups) < 1 or in_channels % groups \
                or out_channels % groups:
            raise ShapeError(f"{name}: in_channels {in_channels} and out_channels "
                             f"{out_channels} must be >= 1 and divisible by groups {groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.padding = padding
        rng = init.get_generator(seed, generator)
        bound = 1.0 / math.sqrt(weight_shape[1] * self.kernel_size[0] * self.kernel_size[1])
        self.weight = Parameter(zeros(*weight_shape, *self.kernel_size, dtype=dtype,
                                      device=device))
        init.uniform_(self.weight, -bound, bound, generator=rng)
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
            init.uniform_(self.bias, -bound, bound, generator=rng)
        else:
            self.register_parameter("bias", None)

    def extra_repr(self):
        defaults = (("stride", (1, 1)), ("padding", 0), ("dilation", (1, 1)), ("groups", 1),
                    ("output_padding", (0, 0)), ("padding_mode", "zeros"))
        extras = "".join(f", {name}={getattr(self, name)}" for name, default in defaults
                         if getattr(self, name, default) != default)
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
                + extras + ("" if self.bias is not None else ", bias=False"))


class Conv2d(_Conv2dBase):
    """A bank of C_out filters, each kH x kW over C_in / groups channels, slid over an image
    (see ops/conv2d.py):

        x (N, C_in, H, W) -> y (N, C_out, Ho, Wo),  Ho = floor((H + 2p - d(kH - 1) - 1)/s) + 1

    padding: an int, a pair, 'valid' or 'same'; padding_mode: 'zeros', 'reflect',
    'replicate' or 'circular'. weight (C_out, C_in / groups, kH, kW), bias (C_out,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", seed=None, generator=None,
                 dtype=None, device=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, (out_channels, in_channels // max(groups, 1)), seed,
                         generator, dtype, device)
        if padding_mode not in PADDING_MODES:
            raise ShapeError(f"Conv2d: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, self.padding_mode)


class ConvTranspose2d(_Conv2dBase):
    """The adjoint of Conv2d (an upsampling layer when stride > 1):

        x (N, C_in, H, W) -> y (N, C_out, Ho, Wo),
        Ho = (H - 1)*s - 2p + d(kH - 1) + output_padding + 1

    weight (C_in, C_out / groups, kH, kW) as in PyTorch, bias (C_out,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, seed=None, generator=None,
                 dtype=None, device=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, (in_channels, out_channels // max(groups, 1)), seed,
                         generator, dtype, device)
        self.output_padding = pair(output_padding, "output_padding", "ConvTranspose2d", low=0)

    def forward(self, x):
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)

"""1-D convolution (text convolution) and max-over-time pooling.

Conv1d, as in PyTorch, is a cross-correlation: with x zero-padded by ``padding`` on both ends,

    y[n, o, l] = b[o] + sum over c, k of  w[o, c, k] * x[n, c, l*stride + k*dilation]

    x: (N, C_in, L)   w: (C_out, C_in, K)   b: (C_out,)   y: (N, C_out, L_out)
    L_out = floor((L + 2*padding - dilation*(K - 1) - 1) / stride) + 1

For text, x is a sentence of word vectors (channels = embedding dimensions, length = words),
and each output channel is a detector of one K-word pattern, slid over every position.

Forward, vectorised (no loop over positions): "im2col" gathers every window of K positions
into one row, (N * L_out) rows of K * C_in numbers, and one matmul with the kernel as a
(K * C_in, C_out) matrix gives every output at once.

Backward: both gradients are convolutions again, so the backward calls this same op (and is
itself differentiable: second derivatives work).
    dL/dx = the "full" correlation of dL/dy (spread out by the stride: stride - 1 zeros
            between its elements, then (K - 1) * dilation zeros on each side) with the
            kernel flipped along k and its in/out channels swapped.
    dL/dw[o, c, k] = sum over n, l of dL/dy[n, o, l] x[n, c, l*stride + k*dilation]
            = a correlation of x (batch and channels swapped) with dL/dy as the kernel,
            where stride and dilation trade places.

max_over_time(y) = max over positions l of y[n, o, l], one number per detector: "did the
pattern occur anywhere in the sentence". Its gradient goes to the position of the maximum.
"""

import numpy

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .elementwise import where
from .movement import pad


class Conv1d(Function):
    """y = x (*) w without padding or bias (see conv1d for those), shapes as in the module doc."""

    def forward(self, x, w, stride, dilation):
        xp = self.xp
        batch, channels, length = x.shape
        out_channels, _, kernel = w.shape
        out_length = (length - dilation * (kernel - 1) - 1) // stride + 1
        self.stride, self.dilation = stride, dilation
        # window start l * stride plus tap offset k * dilation: (L_out, K) positions of x
        positions = (xp.arange(out_length)[:, None] * stride
                     + xp.arange(kernel)[None, :] * dilation)
        windows = x.transpose(0, 2, 1)[:, positions, :]  # (N, L_out, K, C_in)
        rows = windows.reshape(batch * out_length, kernel * channels)
        kernel_matrix = w.transpose(0, 2, 1).reshape(out_channels, kernel * channels)
        y = rows @ kernel_matrix.T  # (N * L_out, C_out)
        return y.reshape(batch, out_length, out_channels).transpose(0, 2, 1)

    def backward(self, grad):
        x, w = self.inputs
        stride, dilation = self.stride, self.dilation
        kernel, length = w.shape[2], x.shape[2]
        grad_x = grad_w = None
        if self.needs_input_grad[0]:
            spread = _spread(grad, stride)  # (N, C_out, (L_out - 1) * stride + 1)
            left = dilation * (kernel - 1)
            right = length - spread.shape[2]
            full = pad(spread, ((0, 0), (0, 0), (left, right)))
            flipped = w[:, :, ::-1].transpose(1, 0, 2)  # (C_in, C_out, K)
            grad_x = Conv1d.apply(full, flipped, stride=1, dilation=dilation)
        if self.needs_input_grad[1]:
            taps = Conv1d.apply(x.transpose(1, 0, 2), grad.transpose(1, 0, 2),
                                stride=dilation, dilation=stride)  # (C_in, C_out, >= K)
            grad_w = taps[:, :, :kernel].transpose(1, 0, 2)
        return grad_x, grad_w


def _spread(grad, stride):
    """(N, C, L) -> (N, C, (L - 1) * stride + 1) with stride - 1 zeros between the elements."""
    if stride == 1:
        return grad
    batch, channels, length = grad.shape
    widened = pad(grad.reshape(batch, channels, length, 1), ((0, 0), (0, 0), (0, 0),
                                                              (0, stride - 1)))
    return widened.reshape(batch, channels, length * stride)[:, :, :(length - 1) * stride + 1]


def _padding_amounts(padding, kernel, dilation, stride):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if stride != 1:
            raise ShapeError(f"conv1d: padding='same' needs stride 1, got stride {stride}")
        total = dilation * (kernel - 1)
        return total // 2, total - total // 2
    if isinstance(padding, int) and padding >= 0:
        return padding, padding
    raise ShapeError(f"conv1d: padding must be an int >= 0, 'same' or 'valid', got {padding!r}")


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """1-D convolution (cross-correlation) of x (N, C_in, L) or (C_in, L) with weight
    (C_out, C_in, K), plus bias (C_out,); see the module docstring."""
    if x.ndim not in (2, 3) or weight.ndim != 3 or x.shape[-2] != weight.shape[1]:
        raise ShapeError(f"conv1d: expected input (N, C_in, L) or (C_in, L) and weight "
                         f"(C_out, C_in, K) with the same C_in, got input {x.shape} and weight "
                         f"{weight.shape}")
    if stride < 1 or dilation < 1:
        raise ShapeError(f"conv1d: stride and dilation must be >= 1, got {stride}, {dilation}")
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(0)
    kernel = weight.shape[2]
    left, right = _padding_amounts(padding, kernel, dilation, stride)
    if left or right:
        x = pad(x, ((0, 0), (0, 0), (left, right)))
    if x.shape[2] < dilation * (kernel - 1) + 1:
        raise ShapeError(f"conv1d: input of length {x.shape[2] - left - right} (padded "
                         f"{x.shape[2]}) is shorter than the kernel's reach "
                         f"{dilation * (kernel - 1) + 1} (kernel {kernel}, dilation {dilation})")
    y = Conv1d.apply(x, weight, stride=stride, dilation=dilation)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1)
    return y.squeeze(0) if unbatched else y


def max_over_time(y, lengths=None):
    """max over the last axis of y (N, C, L) -> (N, C).

    With ``lengths`` (N integers >= 1: how many positions of each row of y are real), the
    padded positions l >= lengths[n] never win the max and get no gradient.
    """
    if y.ndim != 3:
        raise ShapeError(f"max_over_time: expected (N, C, L), got {y.shape}")
    if lengths is not None:
        host = lengths.numpy() if isinstance(lengths, Tensor) else numpy.asarray(lengths)
        if host.shape != (y.shape[0],) or host.min() < 1:
            raise ShapeError(f"max_over_time: expected {y.shape[0]} lengths >= 1, got {host}")
        real = numpy.arange(y.shape[2])[None, None, :] < host[:, None, None]
        lowest = float(numpy.finfo(y.dtype).min)
        y = where(Tensor(real, device=y.device), y, lowest)
    return y.max(axis=2)

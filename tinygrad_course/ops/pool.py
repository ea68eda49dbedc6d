"""Pooling, resizing and pixel shuffling of images (N, C, H, W), built from other ops.

None of these is a Function of its own: each is a few ops whose gradients are already
right (and differentiable again), so each needs no backward of its own.

max_pool2d / avg_pool2d   y[n, c, p, q] = max / mean of the window x[n, c, p*s + i*d, q*s + j*d]
    The windows come from unfold (im2col, conv2d.py) and the max / mean is the reduction op
    over them, so max_pool2d has max's tie rule: tied maxima split the gradient evenly.
    When the windows tile the image (stride = kernel, no padding, no dilation, as in LeNet's
    2x2 pooling) a reshape to (N, C, Ho, kH, Wo, kW) exposes them with no copy at all.
adaptive_avg_pool2d       output cell (p, q) averages rows floor(p*H/Ho) .. ceil((p+1)*H/Ho) - 1
    (and columns alike): a linear map along each axis, y = A_H x A_W^T with A (Ho, H) of
    averaging rows, two matrix products.
interpolate               nearest: y[p] = x[floor(p * H / Ho)], a gather (the gradient adds
    up over the copies); bilinear: y = A_H x A_W^T with two nonzero weights per row of A.
pixel_shuffle             (N, C*r*r, H, W) -> (N, C, H*r, W*r): reshape and transpose only.
"""

import math

import numpy

from ..errors import ShapeError
from ..tensor import Tensor, as_tensor, require_floating
from .conv2d import out_size, pad2d, pair, unfold
from .linalg import matmul


def _image(x, op):
    """(N, C, H, W), or (C, H, W) made a batch of one; returns it and whether it was."""
    x = as_tensor(x, op)
    require_floating(x, op)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected input (N, C, H, W) or (C, H, W), got {x.shape}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _pool_geometry(op, x, kernel_size, stride, padding, dilation):
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op, low=0), pair(dilation, "dilation", op)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ShapeError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    sizes = [out_size(x.shape[2 + a] + 2 * padding[a], kernel[a], stride[a], dilation[a])
             for a in (0, 1)]
    if min(sizes) < 1:
        raise ShapeError(f"{op}: input {x.shape} padded by {padding} is smaller than the "
                         f"window (kernel {kernel}, dilation {dilation})")
    for a in (0, 1):  # with dilation a window can fall entirely on padding: no value to pool
        taps = (numpy.arange(sizes[a])[:, None] * stride[a]
                + numpy.arange(kernel[a])[None, :] * dilation[a])
        real = (taps >= padding[a]) & (taps < padding[a] + x.shape[2 + a])
        if not real.any(axis=1).all():
            raise ShapeError(f"{op}: with kernel {kernel}, stride {stride}, padding {padding} "
                             f"and dilation {dilation} some window of input {x.shape} covers "
                             "only padding")
    return kernel, stride, padding, dilation, sizes


def _windows_last(x, kernel, stride, padding, dilation, sizes, fill):
    """x padded with ``fill`` -> its windows (N, C, kH*kW, Ho, Wo) (reduce over axis 2), or,
    when they tile the image, (N, C, Ho, kH, Wo, kW) with no copy (reduce over (3, 5))."""
    (ho, wo), (kh, kw) = sizes, kernel
    n, c = x.shape[:2]
    if stride == kernel and padding == (0, 0) and dilation == (1, 1):
        tiled = x[:, :, :ho * kh, :wo * kw] if x.shape[2:] != (ho * kh, wo * kw) else x
        return tiled.reshape(n, c, ho, kh, wo, kw), (3, 5)
    x = pad2d(x, tuple((p, p) for p in padding), value=fill)
    cols = unfold(x, kernel, dilation=dilation, stride=stride)  # (N, C*kH*kW, Ho*Wo)
    return cols.reshape(n, c, kh * kw, ho, wo), 2


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1):
    """The largest value of each window (stride defaults to the kernel), as
    torch.nn.functional.max_pool2d; padding is -inf (never the max). Ties split the gradient
    evenly, as for max."""
    op = "max_pool2d"
    x, unbatched = _image(input, op)
    geometry = _pool_geometry(op, x, kernel_size, stride, padding, dilation)
    windows, axes = _windows_last(x, *geometry, fill=-math.inf)
    y = windows.max(axis=axes)
    return y.squeeze(0) if unbatched else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, count_include_pad=True,
               divisor_override=None):
    """The mean of each window, as torch.nn.functional.avg_pool2d: zero padding, counted in
    the mean unless count_include_pad=False; divisor_override replaces the count."""
    op = "avg_pool2d"
    x, unbatched = _image(input, op)
    kernel, stride, padding, dilation, sizes = _pool_geometry(op, x, kernel_size, stride,
                                                              padding, 1)
    windows, axes = _windows_last(x, kernel, stride, padding, dilation, sizes, fill=0.0)
    total = windows.sum(axis=axes)
    if divisor_override is not None:
        if divisor_override <= 0:
            raise ShapeError(f"{op}: divisor_override must be > 0, got {divisor_override}")
        y = total * (1.0 / divisor_override)
    elif count_include_pad or padding == (0, 0):
        y = total * (1.0 / (kernel[0] * kernel[1]))
    else:  # how many real pixels each window covers, counted on the host once
        real = numpy.pad(numpy.ones(x.shape[2:]), [(p, p) for p in padding])
        counts = numpy.lib.stride_tricks.sliding_window_view(real, kernel)[::stride[0],
                                                                           ::stride[1]]
        y = total / Tensor(counts.sum(axis=(2, 3)), dtype=x.dtype, device=x.device)
    return y.squeeze(0) if unbatched else y


def _sizes(op, x, size, scale_factor):
    """The output (H, W) from size (int or pair, None keeps an axis) or scale_factor."""
    if (size is None) == (scale_factor is None):
        raise ShapeError(f"{op}: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        wanted = (size, size) if isinstance(size, (int, numpy.integer)) else tuple(size)
        if len(wanted) != 2:
            raise ShapeError(f"{op}: size must be an int or a pair, got {size!r}")
        out = tuple(have if want is None else want for have, want in zip(x.shape[2:], wanted))
    else:
        factors = ((scale_factor, scale_factor) if isinstance(scale_factor, (int, float))
                   else tuple(scale_factor))
        if len(factors) != 2:
            raise ShapeError(f"{op}: scale_factor must be a number or a pair, got "
                             f"{scale_factor!r}")
        out = tuple(int(math.floor(s * f)) for s, f in zip(x.shape[2:], factors))
    if not all(isinstance(o, (int, numpy.integer)) and o >= 1 for o in out):
        raise ShapeError(f"{op}: output size must be >= 1 on both axes, got {out}")
    return tuple(int(o) for o in out)


def _separable(x, rows_map, cols_map):
    """y = A x B^T on the last two axes, A (Ho, H) and B (Wo, W) host matrices."""
    rows = Tensor(rows_map, dtype=x.dtype, device=x.device)
    cols = Tensor(cols_map.T, dtype=x.dtype, device=x.device)
    return matmul(rows, matmul(x, cols))


def _averaging_matrix(size, out):
    """A (out, size): row p averages positions floor(p*size/out) .. ceil((p+1)*size/out) - 1."""
    matrix = numpy.zeros((out, size))
    for p in range(out):
        start, stop = (p * size) // out, -((-(p + 1) * size) // out)
        matrix[p, start:stop] = 1.0 / (stop - start)
    return matrix


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (Ho, Wo) whatever the input size, as
    torch.nn.functional.adaptive_avg_pool2d (an int, a pair, None keeps an axis)."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _image(input, op)
    out = _sizes(op, x, output_size, None)
    y = _separable(x, _averaging_matrix(x.shape[2], out[0]),
                   _averaging_matrix(x.shape[3], out[1]))
    return y.squeeze(0) if unbatched else y


def _bilinear_matrix(size, out, align_corners):
    """A (out, size): row p weighs the two input positions around its source coordinate
    src = p * (size - 1)/(out - 1) (align_corners) or (p + 0.5) * size/out - 0.5 (else,
    clamped at 0), by 1 - t and t with t its fractional part."""
    positions = numpy.arange(out, dtype=numpy.float64)
    if align_corners:
        source = positions * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        source = numpy.maximum((positions + 0.5) * (size / out) - 0.5, 0.0)
    low = numpy.minimum(numpy.floor(source).astype(int), size - 1)
    high = numpy.minimum(low + 1, size - 1)
    frac = source - low
    matrix = numpy.zeros((out, size))
    numpy.add.at(matrix, (numpy.arange(out), low), 1.0 - frac)
    numpy.add.at(matrix, (numpy.arange(out), high), frac)
    return matrix


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Resize images (N, C, H, W) to ``size`` or by ``scale_factor``, as
    torch.nn.functional.interpolate for mode 'nearest' and 'bilinear'. The source coordinate
    of an output pixel uses the ratio of the sizes (H / Ho), as PyTorch with
    recompute_scale_factor=True; for integer scale factors that is the factor itself."""
    op = "interpolate"
    x, unbatched = _image(input, op)
    out = _sizes(op, x, size, scale_factor)
    if mode == "nearest":
        if align_corners is not None:
            raise ShapeError(f"{op}: align_corners is only for mode='bilinear', got "
                             f"align_corners={align_corners} with mode='nearest'")
        rows = numpy.minimum((numpy.arange(out[0]) * x.shape[2]) // out[0], x.shape[2] - 1)
        cols = numpy.minimum((numpy.arange(out[1]) * x.shape[3]) // out[1], x.shape[3] - 1)
        y = x[:, :, rows[:, None], cols[None, :]]
    elif mode == "bilinear":
        corners = bool(align_corners)
        y = _separable(x, _bilinear_matrix(x.shape[2], out[0], corners),
                       _bilinear_matrix(x.shape[3], out[1], corners))
    else:
        raise ShapeError(f"{op}: mode must be 'nearest' or 'bilinear', got {mode!r}")
    return y.squeeze(0) if unbatched else y


def pixel_shuffle(input, upscale_factor):
    """(N, C*r*r, H, W) -> (N, C, H*r, W*r): y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j,
    h, w], as torch.nn.functional.pixel_shuffle (sub-pixel convolution's upsampling)."""
    op = "pixel_shuffle"
    x, unbatched = _image(input, op)
    r = upscale_factor
    n, channels, h, w = x.shape
    if not isinstance(r, (int, numpy.integer)) or r < 1 or channels % (r * r):
        raise ShapeError(f"{op}: channels {channels} must be divisible by upscale_factor^2 "
                         f"(upscale_factor {r!r}, an int >= 1)")
    c = channels // (r * r)
    y = x.reshape(n, c, r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c, h * r, w * r)
    return y.squeeze(0) if unbatched else y


def pixel_unshuffle(input, downscale_factor):
    """The inverse of pixel_shuffle: (N, C, H*r, W*r) -> (N, C*r*r, H, W)."""
    op = "pixel_unshuffle"
    x, unbatched = _image(input, op)
    r = downscale_factor
    n, c, height, width = x.shape
    if not isinstance(r, (int, numpy.integer)) or r < 1 or height % r or width % r:
        raise ShapeError(f"{op}: height {height} and width {width} must be divisible by "
                         f"downscale_factor {r!r} (an int >= 1)")
    h, w = height // r, width // r
    y = x.reshape(n, c, h, r, w, r).transpose(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h, w)
    return y.squeeze(0) if unbatched else y

"""2-D convolution by im2col, its adjoint (the transposed convolution), and unfold/fold.

Conv2d, as in PyTorch, is a cross-correlation. With x already padded, G groups, and
C_in / G = Cg input channels and C_out / G = Og output channels per group:

    y[n, o, p, q] = sum over c < Cg, i, j of
                    w[o, c, i, j] * x[n, g(o) * Cg + c, p*sH + i*dH, q*sW + j*dW]

    x: (N, C_in, H, W)   w: (C_out, C_in / G, kH, kW)   y: (N, C_out, Ho, Wo)
    Ho = floor((H - dH*(kH - 1) - 1) / sH) + 1          (Wo alike)

g(o) = o // Og is the group of output channel o; G = C_in ("depthwise") gives each input
channel its own filters.

im2col (forward, no loop over pixels): a sliding-window view of x (no copy) picks every
window; one reshape copies them into the matrix X_col of M = N*Ho*Wo rows (one per output
pixel) and Cg*kH*kW columns per group (c, i, j). Then one matrix product per group (one in
all for G = 1) gives every output:

    Y_rows = X_col W_mat^T        X_col (M, C_in*kH*kW), W_mat (C_out, Cg*kH*kW)

Backward (dY_rows: dL/dy as (M, C_out)):

    dL/dW_mat = dY_rows^T X_col                       one product (X_col saved by forward)
    dX_col    = dY_rows W_mat                         one product
    dL/dx     = col2im(dX_col): each window's column added back where it was read. The
                loop runs over the kH*kW kernel taps, never over pixels: tap (i, j) of
                every window at once is one strided slice of x, so a tap is one addition.

The backward holds two im2col-sized buffers at most: X_col and dX_col.

conv_transpose2d is the adjoint of conv2d in x: the linear map T with
<conv2d(x, w), y> = <x, T(y)> for every x and y. Its forward is the col2im path above
(Y_rows W_mat, then col2im), and its backward is conv2d again.

Second derivatives: with create_graph=True both backwards are written with these two ops
(dL/dx of conv2d is conv_transpose2d, dL/dW is a conv2d of x with dL/dy as the kernel, in
which stride and dilation trade places), so they are differentiable again. Without a graph
the same formulas run straight on the arrays.

unfold / fold are im2col / col2im alone, in PyTorch's layout (N, C*kH*kW, L = Ho*Wo); the
pools in pool.py are built on unfold.
"""

import numpy

from .. import backend
from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..tensor import as_tensor, constant, require_floating
from .movement import pad

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


# ----- array helpers (im2col, col2im, grouped products) --------------------------------------
def out_size(size, kernel, stride, dilation):
    """floor((size - dilation*(kernel - 1) - 1) / stride) + 1: windows that fit in ``size``."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _windows(xp, x, kernel, stride, dilation, out_hw=None):
    """(N, C, H, W) -> a view (N, C, Ho, Wo, kH, kW) of every window (no copy): window (p, q)
    tap (i, j) is x[:, :, p*sH + i*dH, q*sW + j*dW]. ``out_hw`` keeps only the first windows."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    reach = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = backend.sliding_window_view(xp, x, reach, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    if out_hw is not None:
        view = view[:, :, :out_hw[0], :out_hw[1]]
    return view


def _im2col(xp, x, kernel, stride, dilation, out_hw=None):
    """X_col (N*Ho*Wo, C*kH*kW): rows ordered (n, p, q), columns (c, i, j); the one copy."""
    windows = _windows(xp, x, kernel, stride, dilation, out_hw)
    n, c, ho, wo, kh, kw = windows.shape
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)


def _col2im(xp, taps, size, stride, dilation, dtype):
    """The adjoint of _windows: taps[n, c, p, q, i, j] (any strides) added into a zero
    (N, C, H, W) array at x[n, c, p*sH + i*dH, q*sW + j*dW]. One strided addition per kernel
    tap (i, j); windows that overlap add up."""
    n, c, ho, wo, kh, kw = taps.shape
    (sh, sw), (dh, dw) = stride, dilation
    out = xp.zeros((n, c) + tuple(size), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                j * dw:j * dw + sw * (wo - 1) + 1:sw] += taps[:, :, :, :, i, j]
    return out


def _per_group(xp, product, groups, axis):
    """[product(g) for each group g] joined along ``axis``; each product is one 2-D matmul
    (NumPy runs a batched matmul of transposed views without BLAS, so no 3-D stacks here)."""
    parts = [product(g) for g in range(groups)]
    return parts[0] if groups == 1 else xp.concatenate(parts, axis=axis)


def _group_slice(g, width):
    return slice(g * width, (g + 1) * width)


def _grad_rows(grad):
    """dL/dy (N, C, Ho, Wo) -> (N*Ho*Wo, C), rows ordered as X_col's."""
    return grad.transpose(0, 2, 3, 1).reshape(-1, grad.shape[1])


def _conv_forward(xp, x, w, stride, dilation, groups, out_hw=None):
    """conv2d on arrays; returns y and X_col. Y_rows[:, group g] = X_col[:, g] W_mat[g]^T."""
    kernel = w.shape[2:]
    cols = _im2col(xp, x, kernel, stride, dilation, out_hw)
    w_mat = w.reshape(w.shape[0], -1)  # (C_out, Cg*kH*kW)
    og, k = w.shape[0] // groups, w_mat.shape[1]
    rows = _per_group(xp, lambda g: cols[:, _group_slice(g, k)] @ w_mat[_group_slice(g, og)].T,
                      groups, axis=1)
    ho = out_hw[0] if out_hw else out_size(x.shape[2], kernel[0], stride[0], dilation[0])
    wo = out_hw[1] if out_hw else out_size(x.shape[3], kernel[1], stride[1], dilation[1])
    return rows.reshape(x.shape[0], ho, wo, w.shape[0]).transpose(0, 3, 1, 2), cols


def _conv_transpose_forward(xp, grad_rows, w, grad_shape, size, stride, dilation, groups):
    """The adjoint of conv2d on arrays: col2im(dY_rows W_mat) -> (N, Cg*G, *size), with
    dX_col[:, group g] = dY_rows[:, g] W_mat[g]."""
    n, _, ho, wo = grad_shape
    kh, kw = w.shape[2:]
    w_mat = w.reshape(w.shape[0], -1)
    og = w.shape[0] // groups
    cols = _per_group(xp, lambda g: grad_rows[:, _group_slice(g, og)] @ w_mat[_group_slice(g, og)],
                      groups, axis=1)
    taps = cols.reshape(n, ho, wo, -1, kh, kw).transpose(0, 3, 1, 2, 4, 5)
    return _col2im(xp, taps, size, stride, dilation, grad_rows.dtype)


def _weight_grad_arrays(xp, grad_rows, cols, w_shape, groups):
    """dL/dW[group g] = dY_rows[:, g]^T X_col[:, g] -> (C_out, Cg, kH, kW)."""
    og, k = w_shape[0] // groups, cols.shape[1] // groups
    grad = _per_group(xp, lambda g: grad_rows[:, _group_slice(g, og)].T
                      @ cols[:, _group_slice(g, k)], groups, axis=0)
    return grad.reshape(w_shape)


def _weight_grad(x, grad, kernel, stride, dilation, groups):
    """dL/dW as Tensor ops (differentiable again):

        dW[o, c, i, j] = sum over n, p, q of dy[n, o, p, q] x[n, g(o)*Cg + c, p*sH + i*dH, ...]

    is a grouped conv2d of x (channels and batch swapped) with dL/dy as the kernel, in which
    stride and dilation trade places; its first kH x kW outputs are dW."""
    n, c, h, w = x.shape
    _, o, ho, wo = grad.shape
    cg, og = c // groups, o // groups
    batch_as_channels = x.reshape(n, groups, cg, h, w).transpose(2, 1, 0, 3, 4)
    kernels = grad.reshape(n, groups, og, ho, wo).transpose(1, 2, 0, 3, 4)
    taps = Conv2d.apply(batch_as_channels.reshape(cg, groups * n, h, w),
                        kernels.reshape(o, n, ho, wo), stride=dilation, dilation=stride,
                        groups=groups)  # (Cg, C_out, >= kH, >= kW)
    return taps[:, :, :kernel[0], :kernel[1]].transpose(1, 0, 2, 3)


def _as_tensor_result(array, like):
    return constant(array, like=like)


# ----- the ops ------------------------------------------------------------------------------
class Conv2d(Function):
    """y = x (*) w on an already padded x, no bias (see conv2d for those; module docstring)."""

    def forward(self, x, w, stride, dilation, groups):
        self.stride, self.dilation, self.groups = stride, dilation, groups
        y, cols = _conv_forward(self.xp, x, w, stride, dilation, groups)
        self.cols = cols if is_grad_enabled() else None  # X_col, for dL/dW
        return y

    def backward(self, grad):
        x, w = self.inputs
        stride, dilation, groups = self.stride, self.dilation, self.groups
        grad_x = grad_w = None
        if is_grad_enabled():  # create_graph=True: the two conv ops, differentiable again
            if self.needs_input_grad[0]:
                grad_x = ConvTranspose2d.apply(grad, w, stride=stride, dilation=dilation,
                                               groups=groups, size=x.shape[2:])
            if self.needs_input_grad[1]:
                grad_w = _weight_grad(x, grad, w.shape[2:], stride, dilation, groups)
            return grad_x, grad_w
        grad_rows = _grad_rows(grad.data)
        if self.needs_input_grad[1]:
            grad_w = _as_tensor_result(_weight_grad_arrays(self.xp, grad_rows, self.cols,
                                                           w.shape, groups), grad)
        self.cols = None  # the first buffer goes before dX_col is made
        if self.needs_input_grad[0]:
            grad_x = _as_tensor_result(_conv_transpose_forward(
                self.xp, grad_rows, w.data, grad.shape, x.shape[2:], stride, dilation, groups),
                grad)
        return grad_x, grad_w


class ConvTranspose2d(Function):
    """y = the adjoint of conv2d(., w) applied to g: (N, C_out, Ho, Wo) -> (N, C_in, *size),
    with ``size`` the (padded) spatial size of conv2d's input."""

    def forward(self, g, w, stride, dilation, groups, size):
        self.stride, self.dilation, self.groups = stride, dilation, groups
        return _conv_transpose_forward(self.xp, _grad_rows(g), w, g.shape, size, stride,
                                       dilation, groups)

    def backward(self, grad):
        g, w = self.inputs
        stride, dilation, groups = self.stride, self.dilation, self.groups
        out_hw = g.shape[2:]  # a larger output_padding can give conv2d extra windows: cut off
        grad_g = grad_w = None
        if is_grad_enabled():
            if self.needs_input_grad[0]:
                grad_g = Conv2d.apply(grad, w, stride=stride, dilation=dilation,
                                      groups=groups)[:, :, :out_hw[0], :out_hw[1]]
            if self.needs_input_grad[1]:
                grad_w = _weight_grad(grad, g, w.shape[2:], stride, dilation, groups)
            return grad_g, grad_w
        y, cols = _conv_forward(self.xp, grad.data, w.data, stride, dilation, groups, out_hw)
        if self.needs_input_grad[0]:
            grad_g = _as_tensor_result(y, grad)
        if self.needs_input_grad[1]:
            grad_w = _as_tensor_result(_weight_grad_arrays(self.xp, _grad_rows(g.data), cols,
                                                           w.shape, groups), grad)
        return grad_g, grad_w


class Unfold(Function):
    """im2col in PyTorch's layout: x (N, C, H, W) -> (N, C*kH*kW, Ho*Wo), columns (c, i, j)
    and positions (p, q) in row-major order.   dL/dx = fold(dL/dy) (overlaps add up)."""

    def forward(self, x, kernel, stride, dilation):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        windows = _windows(self.xp, x, kernel, stride, dilation)
        n, c, ho, wo, kh, kw = windows.shape
        return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)

    def backward(self, grad):
        return Fold.apply(grad, size=self.inputs[0].shape[2:], kernel=self.kernel,
                          stride=self.stride, dilation=self.dilation)


class Fold(Function):
    """col2im, the adjoint of Unfold: (N, C*kH*kW, Ho*Wo) -> (N, C, *size), each column
    added back at the window it describes.   dL/dcols = unfold(dL/dy)."""

    def forward(self, cols, size, kernel, stride, dilation):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        (kh, kw), n = kernel, cols.shape[0]
        ho, wo = (out_size(size[a], kernel[a], stride[a], dilation[a]) for a in (0, 1))
        taps = cols.reshape(n, -1, kh, kw, ho, wo).transpose(0, 1, 4, 5, 2, 3)
        return _col2im(self.xp, taps, size, stride, dilation, cols.dtype)

    def backward(self, grad):
        return Unfold.apply(grad, kernel=self.kernel, stride=self.stride,
                            dilation=self.dilation)


# ----- argument handling --------------------------------------------------------------------
def pair(value, name, op, low=1):
    """An int or a pair of ints (>= low) -> a pair (PyTorch's _pair)."""
    values = (value, value) if isinstance(value, (int, numpy.integer)) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, (int, numpy.integer)) and v >= low
                                   for v in values):
        raise ShapeError(f"{op}: {name} must be an int >= {low} or a pair of them, got {value!r}")
    return tuple(int(v) for v in values)


def _padding_amounts(padding, kernel, dilation, stride, op):
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same' (stride 1)."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ShapeError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ShapeError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got "
                         f"{padding!r}")
    return tuple((p, p) for p in pair(padding, "padding", op, low=0))


def _edge_index(size, before, after, mode):
    """Host indices into an axis of ``size`` that pad it by (before, after) in ``mode``."""
    positions = numpy.arange(-before, size + after)
    if mode == "replicate":
        return numpy.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
    folded = numpy.abs(positions) % max(period, 1)
    return numpy.where(folded >= size, period - folded, folded)


def pad2d(x, padding, mode="zeros", value=0.0, op="pad2d"):
    """Pad the last two axes of x by padding = ((top, bottom), (left, right)).

    zeros: the constant ``value``; reflect: mirrored without repeating the edge (needs
    padding < size); replicate: the edge repeated; circular: wrapped around (padding <= size).
    The last three are one gather x[..., rows, cols] with integer indices, so the gradient is
    a scatter-add: each padded copy sends its gradient back to the pixel it copies."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    if mode == "zeros":
        widths = ((0, 0),) * (x.ndim - 2) + ((top, bottom), (left, right))
        return pad(x, widths, value=value)
    if mode not in PADDING_MODES:
        raise ShapeError(f"{op}: padding_mode must be one of {PADDING_MODES}, got {mode!r}")
    h, w = x.shape[-2:]
    limit_h, limit_w = (h - 1, w - 1) if mode == "reflect" else (h, w)
    if mode != "replicate" and (max(top, bottom) > limit_h or max(left, right) > limit_w):
        raise ShapeError(f"{op}: padding {padding} too large for {mode} padding of a {h}x{w} "
                         f"input (at most {limit_h} rows and {limit_w} columns)")
    rows = _edge_index(h, top, bottom, mode)[:, None]
    cols = _edge_index(w, left, right, mode)[None, :]
    return x[(Ellipsis, rows, cols)]


def _check_conv_operands(op, x, weight, bias, groups, weight_role):
    """x (N, C, H, W) or (C, H, W); weight 4-D; groups dividing both channel counts."""
    x = as_tensor(x, op)
    require_floating(x, op)
    if x.ndim not in (3, 4) or weight.ndim != 4:
        raise ShapeError(f"{op}: expected input (N, C, H, W) or (C, H, W) and a 4-D weight, "
                         f"got input {x.shape} and weight {weight.shape}")
    if not isinstance(groups, (int, numpy.integer)) or groups < 1:
        raise ShapeError(f"{op}: groups must be an int >= 1, got {groups!r}")
    channels = x.shape[-3]
    if weight_role == "conv":  # (C_out, C_in / G, kH, kW)
        expected_in, out_channels = weight.shape[1] * groups, weight.shape[0]
    else:  # transposed: (C_in, C_out / G, kH, kW)
        expected_in, out_channels = weight.shape[0], weight.shape[1] * groups
    if channels != expected_in or channels % groups or out_channels % groups:
        raise ShapeError(f"{op}: input with {channels} channels, weight {weight.shape} and "
                         f"groups={groups} do not fit (expected {expected_in} input channels, "
                         "both channel counts divisible by groups)")
    if bias is not None and bias.shape != (out_channels,):
        raise ShapeError(f"{op}: bias of shape {bias.shape}, expected ({out_channels},)")
    return x


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros"):
    """2-D convolution (cross-correlation) of input (N, C_in, H, W) or (C_in, H, W) with
    weight (C_out, C_in / groups, kH, kW), plus bias (C_out,), as torch.nn.functional.conv2d.

    padding: an int, a pair, 'valid' or 'same' (stride 1); padding_mode (as nn.Conv2d):
    'zeros', 'reflect', 'replicate' or 'circular'. See the module docstring for the math."""
    op = "conv2d"
    x = _check_conv_operands(op, input, weight, bias, groups, "conv")
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    kernel = weight.shape[2:]
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    amounts = _padding_amounts(padding, kernel, dilation, stride, op)
    x = pad2d(x, amounts, padding_mode, op=op)
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if x.shape[2] < reach[0] or x.shape[3] < reach[1]:
        raise ShapeError(f"{op}: padded input of size {x.shape[2]}x{x.shape[3]} is smaller "
                         f"than the kernel's reach {reach[0]}x{reach[1]} (kernel {kernel}, "
                         f"dilation {dilation})")
    y = Conv2d.apply(x, weight, stride=stride, dilation=dilation, groups=int(groups))
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y.squeeze(0) if unbatched else y


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The transposed convolution of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out / groups, kH, kW), as torch.nn.functional.conv_transpose2d: the adjoint of
    conv2d with the same weight, stride, padding, dilation and groups, so that
    <conv2d(x, w), y> = <x, conv_transpose2d(y, w)>. Output size (per axis):

        H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1

    output_padding (< max(stride, dilation)) picks among the input sizes that conv2d maps to
    the same H: it adds rows at the bottom/right that no window reached."""
    op = "conv_transpose2d"
    x = _check_conv_operands(op, input, weight, bias, groups, "transposed")
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    padding = pair(padding, "padding", op, low=0)
    output_padding = pair(output_padding, "output_padding", op, low=0)
    for extra, s, d in zip(output_padding, stride, dilation):
        if extra >= max(s, d):
            raise ShapeError(f"{op}: output_padding {output_padding} must be smaller than "
                             f"stride {stride} or dilation {dilation}")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    kernel = weight.shape[2:]
    full = tuple((size - 1) * s + d * (k - 1) + 1 + extra for size, s, d, k, extra
                 in zip(x.shape[2:], stride, dilation, kernel, output_padding))
    if any(f - 2 * p < 1 for f, p in zip(full, padding)):
        raise ShapeError(f"{op}: padding {padding} leaves no output for input {x.shape} and "
                         f"kernel {kernel}")
    y = ConvTranspose2d.apply(x, weight, stride=stride, dilation=dilation, groups=int(groups),
                              size=full)
    (top, left) = padding
    if top or left:  # the padding conv2d would add is cut off again
        y = y[:, :, top:full[0] - top, left:full[1] - left]
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y.squeeze(0) if unbatched else y


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Every kH x kW window of input (N, C, H, W) as a column: (N, C*kH*kW, L), as
    torch.nn.functional.unfold (zero padding)."""
    op = "unfold"
    x = as_tensor(input, op)
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected input (N, C, H, W), got {x.shape}")
    kernel, dilation = pair(kernel_size, "kernel_size", op), pair(dilation, "dilation", op)
    stride, padding = pair(stride, "stride", op), pair(padding, "padding", op, low=0)
    x = pad2d(x, tuple((p, p) for p in padding), op=op)
    for size, k, d in zip(x.shape[2:], kernel, dilation):
        if size < d * (k - 1) + 1:
            raise ShapeError(f"{op}: padded input {x.shape} is smaller than the kernel's reach "
                             f"(kernel {kernel}, dilation {dilation})")
    return Unfold.apply(x, kernel=kernel, stride=stride, dilation=dilation)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: columns (N, C*kH*kW, L) added back into (N, C, *output_size),
    as torch.nn.functional.fold."""
    op = "fold"
    cols = as_tensor(input, op)
    kernel, dilation = pair(kernel_size, "kernel_size", op), pair(dilation, "dilation", op)
    stride, padding = pair(stride, "stride", op), pair(padding, "padding", op, low=0)
    size = pair(output_size, "output_size", op)
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    counts = [out_size(padded[a], kernel[a], stride[a], dilation[a]) for a in (0, 1)]
    k = kernel[0] * kernel[1]
    if (cols.ndim != 3 or cols.shape[1] % k or min(counts) < 1
            or cols.shape[2] != counts[0] * counts[1]):
        raise ShapeError(f"{op}: expected input (N, C*{k}, {counts[0] * counts[1]}) for output "
                         f"size {size}, kernel {kernel}, stride {stride}, padding {padding}, "
                         f"dilation {dilation}; got {cols.shape}")
    y = Fold.apply(cols, size=padded, kernel=kernel, stride=stride, dilation=dilation)
    top, left = padding
    return y[:, :, top:padded[0] - top, left:padded[1] - left] if top or left else y

"""Ops that move elements around without changing them: reshape, transpose, broadcast,
indexing, concatenation, padding. Their backward moves the gradient back to where each
element came from; where one input element fed several outputs (broadcast, repeated
integer indices) the gradients of those outputs are added.
"""

import math

import numpy

from .. import backend
from ..autograd import Function
from ..errors import DeviceError, DTypeError, ShapeError
from ..tensor import Tensor, as_tensor, check_same_device
from .broadcast import sum_to_shape
from .reduce import normalize_axes


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """y = x viewed with another shape (same elements, same order).

    dL/dx = dL/dy reshaped back to x's shape.
    """

    def forward(self, x, shape):
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.inputs[0].shape)


class Transpose(Function):
    """y = x with its axes permuted: y.shape[i] = x.shape[axes[i]].

    dL/dx = dL/dy permuted back (by the inverse permutation).
    """

    def forward(self, x, axes):
        self.axes = axes
        return self.xp.transpose(x, axes)

    def backward(self, grad):
        inverse = [0] * len(self.axes)
        for i, axis in enumerate(self.axes):  # y axis i came from x axis self.axes[i]
            inverse[axis] = i
        return grad.transpose(tuple(inverse))


class BroadcastTo(Function):
    """y = x repeated along new or size-1 axes;   dL/dx = dL/dy summed over those axes."""

    def forward(self, x, shape):
        return self.xp.broadcast_to(x, shape)

    def backward(self, grad):
        return sum_to_shape(grad, self.inputs[0].shape)


class ToDevice(Function):
    """y = x copied to another device;   dL/dx = dL/dy copied back."""

    def forward(self, x, device):
        self.source = self.output_device
        self.output_device = device
        return backend.from_numpy(backend.to_numpy(x), device)

    def backward(self, grad):
        return grad.to(self.source)


def reshape(x, *shape):
    x = as_tensor(x, "reshape")
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    known = [s for s in shape if s != -1]
    size = math.prod(known)
    fits = shape.count(-1) <= 1 and (size == x.size if -1 not in shape
                                     else size > 0 and x.size % size == 0)
    if not fits:
        raise ShapeError(f"reshape: cannot view a tensor of shape {x.shape} ({x.size} elements) "
                         f"as shape {shape}")
    if -1 in shape:  # resolve it, so that e.g. reshape(-1, n) of an (m, n) tensor is free
        shape = tuple(x.size // size if s == -1 else s for s in shape)
        if shape == x.shape:
            return x
    return Reshape.apply(x, shape=shape)


def transpose(x, *axes):
    """Reverse the axes (no arguments) or permute them as given (like numpy.transpose)."""
    x = as_tensor(x, "transpose")
    axes = _shape_arg(axes)
    if not axes:  # x.T: the reversed axes are always a valid permutation
        return Transpose.apply(x, axes=tuple(range(x.ndim - 1, -1, -1)))
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes "
                         f"of a tensor of shape {x.shape}")
    return Transpose.apply(x, axes=tuple(a % x.ndim for a in axes))


def swapaxes(x, axis1, axis2):
    x = as_tensor(x, "swapaxes")
    axis1, axis2 = normalize_axes(axis1, x.ndim, "swapaxes") + normalize_axes(axis2, x.ndim,
                                                                              "swapaxes")
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


def broadcast_to(x, *shape):
    x = as_tensor(x, "broadcast_to")
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    # fits when, aligned from the right, every axis of x is 1 or the target's size
    fits = len(shape) >= x.ndim and all(
        have == 1 or have == want for have, want in zip(reversed(x.shape), reversed(shape)))
    if not fits:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return BroadcastTo.apply(x, shape=shape)


def squeeze(x, axis=None):
    """Drop size-1 axes (all of them, or the ones named)."""
    x = as_tensor(x, "squeeze")
    if x.ndim == 0:  # nothing to drop (axis 0 or -1 is accepted, as in PyTorch)
        normalize_axes(axis, 0, "squeeze")
        return x
    if axis is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        wrong = [a for a in axes if x.shape[a] != 1]
        if wrong:
            raise ShapeError(f"squeeze: axis {wrong[0]} of shape {x.shape} has size "
                             f"{x.shape[wrong[0]]}, expected 1")
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def unsqueeze(x, axis):
    """Insert a size-1 axis at position ``axis`` (negative counts from the end of the result)."""
    x = as_tensor(x, "unsqueeze")
    ndim = x.ndim + 1
    if not -ndim <= axis < ndim:
        raise ShapeError(f"unsqueeze: axis {axis} out of range for a result of {ndim} dims")
    shape = list(x.shape)
    shape.insert(axis % ndim, 1)
    return reshape(x, tuple(shape))


def flatten(x, start_axis=0, end_axis=-1):
    """Merge axes start_axis..end_axis into one (like torch.flatten)."""
    x = as_tensor(x, "flatten")
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = (normalize_axes(a, x.ndim, "flatten")[0] for a in (start_axis, end_axis))
    if start > end:
        raise ShapeError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
                         f"for a tensor of shape {x.shape}")
    merged = int(numpy.prod(x.shape[start:end + 1]))
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


# ----- indexing -----------------------------------------------------------------------------
def _device_index(x, index):
    """Put integer/bool index arrays (Tensors, lists, host arrays) on x's device.

    Returns the index as a tuple and whether it holds integer arrays (advanced indexing that
    may repeat positions, so the backward must add with scatter-add rather than assign).
    """
    items = index if isinstance(index, tuple) else (index,)
    converted, repeats_possible = [], False
    for item in items:
        if isinstance(item, Tensor):
            if item.device != x.device:
                raise DeviceError(f"getitem: index tensor on '{item.device}' for a tensor on "
                                  f"'{x.device}'")
            item = item.data
        elif isinstance(item, (list, numpy.ndarray)) and not backend.is_device_array(item) \
                or (isinstance(item, numpy.ndarray) and x.device != "cpu"):
            item = backend.from_numpy(numpy.asarray(item), x.device)
        if backend.is_device_array(item):
            if item.dtype.kind not in "iub":
                raise ShapeError(f"getitem: index arrays must be integer or bool, got {item.dtype}")
            repeats_possible |= item.dtype.kind != "b"
        converted.append(item)
    return tuple(converted), repeats_possible


class GetItem(Function):
    """y = x[index] (slices, ints, None, ..., integer arrays, bool masks).

    dL/dx = zeros like x, with dL/dy added at the positions y was read from (scatter-add:
    an element read twice by repeated integer indices gets both gradients).
    """

    def forward(self, x, index, repeats_possible):
        self.index, self.repeats_possible = index, repeats_possible
        return x[index]

    def backward(self, grad):
        return ScatterAdd.apply(grad, index=self.index, shape=self.inputs[0].shape,
                                repeats_possible=self.repeats_possible)


class ScatterAdd(Function):
    """y = zeros(shape) with values added at ``index``;   dL/dvalues = dL/dy[index].

    The backward of indexing, and its own backward is indexing again.
    """

    def forward(self, values, index, shape, repeats_possible):
        self.index, self.repeats_possible = index, repeats_possible
        out = self.xp.zeros(shape, dtype=values.dtype)
        if repeats_possible:
            backend.scatter_add(self.xp, out, index, values)
        else:
            out[index] = values
        return out

    def backward(self, grad):
        return GetItem.apply(grad, index=self.index, repeats_possible=self.repeats_possible)


def getitem(x, index):
    device_index, repeats_possible = _device_index(x, index)
    try:
        return GetItem.apply(x, index=device_index, repeats_possible=repeats_possible)
    except ShapeError as err:
        raise ShapeError(f"getitem: index {index!r} does not fit a tensor of shape {x.shape} "
                         f"({err.__cause__})") from err


# ----- joining and padding ------------------------------------------------------------------
class Concatenate(Function):
    """y = [x_1, x_2, ...] joined along ``axis``;   dL/dx_k = the slice of dL/dy that x_k filled."""

    def forward(self, *arrays, axis):
        self.axis = axis
        return self.xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        grads, start = [], 0
        for x, needed in zip(self.inputs, self.needs_input_grad):
            stop = start + x.shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(grad[index] if needed else None)
            start = stop
        return tuple(grads)


def _tensor_list(tensors, op):
    """The tensors given to concatenate / stack (any iterable of them) as a list of Tensors."""
    if isinstance(tensors, (Tensor, str, dict)) or not hasattr(tensors, "__iter__"):
        raise DTypeError(f"{op}: expected a list or tuple of tensors, got "
                         f"{type(tensors).__name__}")
    return [as_tensor(t, op) for t in tensors]


def concatenate(tensors, axis=0):
    tensors = _tensor_list(tensors, "concatenate")
    if not tensors:
        raise ShapeError("concatenate: needs at least one tensor")
    check_same_device("concatenate", *tensors)
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError("concatenate: cannot join 0-d tensors; use stack")
    axis = normalize_axes(axis, ndim, "concatenate")[0]
    for t in tensors:
        others = [s for i, s in enumerate(t.shape) if i != axis]
        expected = [s for i, s in enumerate(tensors[0].shape) if i != axis]
        if t.ndim != ndim or others != expected:
            raise ShapeError(f"concatenate: shapes {[x.shape for x in tensors]} differ outside "
                             f"axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors of equal shape along a new axis."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise ShapeError("stack: needs at least one tensor")
    if len({t.shape for t in tensors}) != 1:
        shapes = [t.shape for t in tensors]
        raise ShapeError(f"stack: all tensors need the same shape, got {shapes}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis % (tensors[0].ndim + 1))


def split(x, indices_or_sections, axis=0):
    """Split along ``axis`` into equal sections (an int) or at the given indices (like numpy)."""
    x = as_tensor(x, "split")
    axis = normalize_axes(axis, x.ndim, "split")[0]
    length = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections <= 0 or length % indices_or_sections:
            raise ShapeError(f"split: axis {axis} of length {length} cannot be split into "
                             f"{indices_or_sections} equal sections")
        step = length // indices_or_sections
        bounds = list(range(0, length + 1, step))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [length]
    return [x[(slice(None),) * axis + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


class Pad(Function):
    """y = x with ``value`` added around it: pad_width = ((before, after), ...) per axis.

    dL/dx = dL/dy with the padding cut off again.
    """

    def forward(self, x, pad_width, value):
        self.pad_width = pad_width
        return self.xp.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, grad):
        index = tuple(slice(before, size - after) for (before, after), size
                      in zip(self.pad_width, grad.shape))
        return grad[index]


def pad(x, pad_width, value=0.0):
    """Constant padding; pad_width like numpy.pad: an int, (before, after), or one pair per axis."""
    x = as_tensor(x, "pad")
    widths = numpy.broadcast_to(numpy.asarray(pad_width, dtype=int), (x.ndim, 2))
    if (widths < 0).any():
        raise ShapeError(f"pad: negative pad width {pad_width}")
    return Pad.apply(x, pad_width=tuple(map(tuple, widths.tolist())), value=value)

"""Ops that move elements around without changing them: reshape, transpose, broadcast,
indexing, concatenation, padding. Their backward moves the gradient back to where each
element came from; where one input element fed several outputs (broadcast, repeated
integer indices) the gradients of those outputs are added.
"""

import math

import numpy

from .. import backend
from ..autograd import Function
from ..errors import ArgumentError, DeviceError, DTypeError, ShapeError
from ..tensor import Tensor, as_tensor, check_same_device, host_array, torch_names
from .broadcast import sum_to_shape
from .reduce import normalize_axes, one_axis


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


def _int_tuple(value, op, what):
    """An int or a sequence of ints as a tuple of Python ints, or a DTypeError naming op."""
    items = (value,) if isinstance(value, (int, numpy.integer)) else value
    if not isinstance(items, (tuple, list)) or not all(
            isinstance(n, (int, numpy.integer)) and not isinstance(n, bool) for n in items):
        raise DTypeError(f"{op}: {what} must be an int or a sequence of ints, got "
                         f"{type(value).__name__} {value!r:.40}")
    return tuple(int(n) for n in items)


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
    """Permute or swap axes. One rule for NumPy's and PyTorch's meanings:

    transpose(x)            all axes reversed (x.T)
    transpose(x, a, b)      two separate numbers: swap axes a and b (PyTorch's
                            transpose(dim0, dim1)), on a tensor of any number of dims; on a
                            matrix transpose(0, 1) and transpose(1, 0) both swap
    transpose(x, axes)      one sequence: NumPy's permutation, y.shape[i] = x.shape[axes[i]];
                            it must name every axis once, so transpose(x, (0, 1)) leaves a
                            matrix as it is, and transpose(x, (0, 2)) on 3 dims is refused
    transpose(x, 2, 0, 1)   as many separate numbers as x has dims (not two): a permutation

    Anything else raises ShapeError. permute(x, *axes) is always a permutation.
    """
    x = as_tensor(x, "transpose")
    if len(axes) == 2 and all(isinstance(a, (int, numpy.integer)) for a in axes):
        return swapaxes(x, *axes, op="transpose")  # PyTorch's two-axis form
    return permute(x, *axes)


def permute(x, *axes):
    """Reorder the axes: y.shape[i] = x.shape[axes[i]] (numpy.transpose, torch.permute);
    the axes as separate numbers or one sequence; none reverses them.

    dL/dx = dL/dy permuted back (see Transpose)."""
    x = as_tensor(x, "transpose")
    axes = _int_tuple(_shape_arg(axes), "transpose", "axes")
    if not axes:  # x.T: the reversed axes are always a valid permutation
        return Transpose.apply(x, axes=tuple(range(x.ndim - 1, -1, -1)))
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes "
                         f"of a tensor of shape {x.shape}; to swap two axes give them as two "
                         "numbers, transpose(a, b), or use swapaxes(a, b)")
    return Transpose.apply(x, axes=tuple(a % x.ndim for a in axes))


def swapaxes(x, axis1, axis2, op="swapaxes"):
    """Exchange two axes (PyTorch: swapdims, or transpose(dim0, dim1)); ``op`` names the
    caller in errors."""
    x = as_tensor(x, op)
    axis1, axis2 = one_axis(axis1, x.ndim, op), one_axis(axis2, x.ndim, op)
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return permute(x, tuple(axes))


swapdims = swapaxes


def moveaxis(x, source, destination):
    """Move axes to new places, the others keeping their order (numpy.moveaxis; PyTorch's
    movedim). source and destination: an int each, or sequences of equal length."""
    x = as_tensor(x, "moveaxis")
    source = _int_tuple(source, "moveaxis", "source")
    destination = _int_tuple(destination, "moveaxis", "destination")
    if len(source) != len(destination):
        raise ShapeError(f"moveaxis: source {source} and destination {destination} must name "
                         "as many axes")
    source = [one_axis(a, x.ndim, "moveaxis") for a in source]
    destination = [one_axis(a, x.ndim, "moveaxis") for a in destination]
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise ShapeError("moveaxis: repeated axis in source or destination")
    order = [a for a in range(x.ndim) if a not in source]
    for place, axis in sorted(zip(destination, source)):
        order.insert(place, axis)
    return permute(x, tuple(order))


movedim = moveaxis


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


@torch_names
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


@torch_names
def unsqueeze(x, axis=None):
    """Insert a size-1 axis at position ``axis`` (negative counts from the end of the result)."""
    x = as_tensor(x, "unsqueeze")
    if isinstance(axis, bool) or not isinstance(axis, (int, numpy.integer)):
        raise ArgumentError(f"unsqueeze: axis must be an int, got {axis!r}")
    ndim = x.ndim + 1
    if not -ndim <= axis < ndim:
        raise ShapeError(f"unsqueeze: axis {axis} out of range for a result of {ndim} dims")
    shape = list(x.shape)
    shape.insert(axis % ndim, 1)
    return reshape(x, tuple(shape))


def flatten(x, start_axis=0, end_axis=-1, *, start_dim=None, end_dim=None):
    """Merge axes start_axis..end_axis into one (torch.flatten; its start_dim, end_dim
    are accepted too)."""
    x = as_tensor(x, "flatten")
    start_axis = start_axis if start_dim is None else start_dim
    end_axis = end_axis if end_dim is None else end_dim
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = (one_axis(a, x.ndim, "flatten") for a in (start_axis, end_axis))
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


@torch_names
def concatenate(tensors, axis=0):
    tensors = _tensor_list(tensors, "concatenate")
    if not tensors:
        raise ShapeError("concatenate: needs at least one tensor")
    check_same_device("concatenate", *tensors)
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError("concatenate: cannot join 0-d tensors; use stack")
    axis = one_axis(axis, ndim, "concatenate")
    for t in tensors:
        others = [s for i, s in enumerate(t.shape) if i != axis]
        expected = [s for i, s in enumerate(tensors[0].shape) if i != axis]
        if t.ndim != ndim or others != expected:
            raise ShapeError(f"concatenate: shapes {[x.shape for x in tensors]} differ outside "
                             f"axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)


cat = concatenate  # PyTorch's name


@torch_names
def stack(tensors, axis=0):
    """Join tensors of equal shape along a new axis."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise ShapeError("stack: needs at least one tensor")
    if len({t.shape for t in tensors}) != 1:
        shapes = [t.shape for t in tensors]
        raise ShapeError(f"stack: all tensors need the same shape, got {shapes}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis % (tensors[0].ndim + 1))


def _pieces(x, axis, bounds):
    return [x[(slice(None),) * axis + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def _bounds_of_sizes(sizes, length, op):
    """Piece boundaries for PyTorch's split sizes: an int (pieces of that size, the last
    smaller) or a list of sizes adding up to the length."""
    if isinstance(sizes, (int, numpy.integer)) and not isinstance(sizes, bool):
        if sizes <= 0 and length:
            raise ShapeError(f"{op}: split_size must be > 0, got {sizes}")
        return list(range(0, length, max(int(sizes), 1))) + [length]
    sizes = _int_tuple(sizes, op, "split sizes")
    if any(n < 0 for n in sizes) or sum(sizes) != length:
        raise ShapeError(f"{op}: split sizes {sizes} must be >= 0 and add up to the length "
                         f"{length}")
    return [0] + numpy.cumsum(sizes).tolist()


def _bounds_of_sections(sections, length, axis):
    """Piece boundaries for NumPy's split: an int (that many equal sections) or indices."""
    if isinstance(sections, (int, numpy.integer)) and not isinstance(sections, bool):
        if sections <= 0 or length % sections:
            raise ShapeError(f"split: axis {axis} of length {length} cannot be split into "
                             f"{sections} equal sections (NumPy's meaning); for pieces of "
                             f"size {sections} (PyTorch's) use split_size={sections} or chunk")
        return list(range(0, length + 1, length // sections))
    return [0] + list(_int_tuple(sections, "split", "indices")) + [length]


@torch_names
def split(x, sections_or_indices=None, axis=0, *, sections=None, split_size=None,
          split_size_or_sections=None):
    """Split along ``axis``. NumPy and PyTorch give split's second argument different
    meanings, so the keyword says which:

    sections=3               NumPy: 3 equal sections (the length must divide)
    sections=[2, 5]          NumPy: cut before positions 2 and 5 (x[:2], x[2:5], x[5:])
    split_size=2             PyTorch: pieces of 2 elements, the last one smaller
    split_size=[2, 3]        PyTorch: pieces of these sizes (adding up to the length)

    (``split_size_or_sections``, PyTorch's own keyword, reads as split_size.) Given
    positionally, the argument is read with NumPy's meaning only where it cannot mean
    PyTorch's differently: an int k with k * k = length (both give k pieces of k), or
    indices that do not add up to the length. Any other positional call is ambiguous
    (split(x, 2) of 6 elements: 2 pieces in NumPy, 3 in PyTorch) and raises ArgumentError
    naming both spellings. chunk(x, n) is PyTorch's split into n pieces.
    """
    x = as_tensor(x, "split")
    axis = one_axis(axis, x.ndim, "split")
    length = x.shape[axis]
    sizes = split_size if split_size is not None else split_size_or_sections
    given = [v for v in (sections_or_indices, sections, sizes) if v is not None]
    if len(given) != 1 or (split_size is not None and split_size_or_sections is not None):
        raise ArgumentError("split: give exactly one of sections (NumPy's meaning), split_size "
                            "(PyTorch's) or one positional argument")
    if sizes is not None:
        return _pieces(x, axis, _bounds_of_sizes(sizes, length, "split"))
    if sections is not None:
        return _pieces(x, axis, _bounds_of_sections(sections, length, axis))
    value = sections_or_indices
    if isinstance(value, (int, numpy.integer)) and not isinstance(value, bool):
        bounds = _bounds_of_sections(value, length, axis)  # raises unless it divides
        ambiguous = value * value != length
    else:
        value = list(_int_tuple(value, "split", "indices"))
        bounds = _bounds_of_sections(value, length, axis)
        ambiguous = all(n >= 0 for n in value) and sum(value) == length
    if ambiguous:
        raise ArgumentError(
            f"split: split(x, {value!r}) on an axis of length {length} is ambiguous: NumPy "
            f"reads {value!r} as {'equal sections' if isinstance(value, int) else 'cut points'}"
            f", PyTorch as {'the size of each piece' if isinstance(value, int) else 'sizes'};"
            f" write split(x, sections={value!r}) for NumPy's meaning or "
            f"split(x, split_size={value!r}) (or chunk) for PyTorch's")
    return _pieces(x, axis, bounds)


@torch_names
def chunk(x, chunks, axis=0):
    """PyTorch's chunk: ``chunks`` pieces along ``axis`` of ceil(length / chunks) elements,
    the last smaller (so there may be fewer pieces than asked for, as in PyTorch)."""
    x = as_tensor(x, "chunk")
    axis = one_axis(axis, x.ndim, "chunk")
    if isinstance(chunks, bool) or not isinstance(chunks, (int, numpy.integer)) or chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be an int > 0, got {chunks!r}")
    length = x.shape[axis]
    return _pieces(x, axis, _bounds_of_sizes(-(-length // int(chunks)), length, "chunk"))


@torch_names
def unbind(x, axis=0):
    """The slices of x along ``axis``, that axis removed: a tuple of x.shape[axis] tensors."""
    x = as_tensor(x, "unbind")
    axis = one_axis(axis, x.ndim, "unbind")
    return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis]))


@torch_names
def narrow(x, axis, start, length):
    """x[..., start:start + length, ...] on ``axis`` (a view in PyTorch, a slice here)."""
    x = as_tensor(x, "narrow")
    axis = one_axis(axis, x.ndim, "narrow")
    start, length = _int_tuple((start, length), "narrow", "start and length")
    size = x.shape[axis]
    start = start + size if -size <= start < 0 else start
    if not (0 <= start <= size and 0 <= length <= size - start):
        raise ShapeError(f"narrow: start {start} and length {length} do not fit axis {axis} of "
                         f"length {size}")
    return x[(slice(None),) * axis + (slice(start, start + length),)]


@torch_names
def unflatten(x, axis, sizes):
    """Split axis ``axis`` into several with these sizes (one may be -1): the inverse of
    flatten, e.g. (N, 12) with unflatten(x, 1, (3, 4)) -> (N, 3, 4)."""
    x = as_tensor(x, "unflatten")
    axis = one_axis(axis, x.ndim, "unflatten")
    sizes = _int_tuple(sizes, "unflatten", "sizes")
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[axis]) or \
            (-1 in sizes and (known == 0 or x.shape[axis] % known)):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to the length "
                         f"{x.shape[axis]} of axis {axis}")
    return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1:])


# ----- flipping, rolling, repeating ---------------------------------------------------------
@torch_names
def flip(x, axis=None):
    """Reverse the order along ``axis`` (None: every axis, as numpy.flip; PyTorch's dims=
    is accepted). A slice with step -1, so the gradient is flipped back."""
    x = as_tensor(x, "flip")
    axes = normalize_axes(axis, x.ndim, "flip")
    return x[tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))]


@torch_names
def roll(x, shift=None, axis=None, *, shifts=None):
    """Shift elements along ``axis`` cyclically: y[(i + shift) % n] = x[i] (numpy.roll;
    PyTorch's roll(shifts, dims) reads the same). Several shifts and axes roll each in
    turn; axis=None rolls the flattened tensor and restores the shape. Composed of slices
    and concatenate."""
    x = as_tensor(x, "roll")
    shift = shift if shifts is None else shifts
    if shift is None or (isinstance(shift, (tuple, list)) and not shift):
        raise ArgumentError("roll: give the shift (PyTorch: shifts)")
    if axis is None:
        if not isinstance(shift, (int, numpy.integer)):
            raise ShapeError(f"roll: with axis=None the shift must be one int, got {shift!r}")
        return reshape(roll(reshape(x, -1), shift, 0), x.shape)
    shifts = (shift,) if isinstance(shift, (int, numpy.integer)) else shift
    axes = (axis,) if isinstance(axis, (int, numpy.integer)) else axis
    if not isinstance(shifts, (tuple, list)) or not all(
            isinstance(n, (int, numpy.integer)) for n in shifts):
        raise DTypeError(f"roll: shift must be an int or a tuple of ints, got {shift!r:.40}")
    if not isinstance(axes, (tuple, list)):
        raise DTypeError(f"roll: axis must be None, an int or a tuple of ints, got {axis!r:.40}")
    if x.ndim == 0:
        return x
    if len(shifts) != len(axes):
        raise ShapeError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
    for amount, a in zip(shifts, axes):
        (a,) = normalize_axes(a, x.ndim, "roll")
        n = x.shape[a]
        amount = int(amount) % n if n else 0
        if amount:
            before = (slice(None),) * a
            x = concatenate([x[before + (slice(n - amount, n),)],
                             x[before + (slice(0, n - amount),)]], axis=a)
    return x


def tile(x, reps):
    """x repeated as whole blocks: numpy.tile, PyTorch's x.repeat(*sizes).
    tile([a, b], 2) = [a, b, a, b]. reps shorter than x's dims count for the last axes;
    longer, x gets leading axes of size 1. Composed: reshape to (1, n) per axis,
    broadcast to (r, n), reshape to (r * n): the backward sums the copies."""
    x = as_tensor(x, "tile")
    reps = _int_tuple(reps, "tile", "repetitions")
    if any(r < 0 for r in reps):
        raise ArgumentError(f"tile: repetitions must be >= 0, got {reps}")
    ndim = max(x.ndim, len(reps))
    shape = (1,) * (ndim - x.ndim) + x.shape
    reps = (1,) * (ndim - len(reps)) + reps
    spaced = reshape(x, tuple(n for size in shape for n in (1, size)))
    copies = broadcast_to(spaced, tuple(n for r, size in zip(reps, shape) for n in (r, size)))
    return reshape(copies, tuple(r * size for r, size in zip(reps, shape)))


@torch_names
def repeat_interleave(x, repeats, axis=None):
    """Each element repeated in place: repeat_interleave([a, b], 2) = [a, a, b, b] (PyTorch's
    repeat_interleave, NumPy's repeat). ``repeats`` an int, or one count per element along
    ``axis``; axis=None works on the flattened tensor. The backward adds the copies."""
    x = as_tensor(x, "repeat_interleave")
    if axis is None:
        x, axis = reshape(x, -1), 0
    axis = one_axis(axis, x.ndim, "repeat_interleave")
    n = x.shape[axis]
    if isinstance(repeats, (int, numpy.integer)) and not isinstance(repeats, bool):
        if repeats < 0:
            raise ArgumentError(f"repeat_interleave: repeats must be >= 0, got {repeats}")
        spaced = unsqueeze(x, axis + 1)
        copies = broadcast_to(spaced, x.shape[:axis + 1] + (int(repeats),) + x.shape[axis + 1:])
        return reshape(copies, x.shape[:axis] + (n * int(repeats),) + x.shape[axis + 1:])
    counts = (repeats.numpy() if isinstance(repeats, Tensor)
              else host_array(repeats, "repeat_interleave")).reshape(-1)
    if counts.dtype.kind not in "iu" or counts.shape != (n,) or (counts < 0).any():
        raise ArgumentError(f"repeat_interleave: repeats must be an int or {n} counts >= 0 "
                            f"(one per element along axis {axis}), got {counts!r:.60}")
    positions = numpy.repeat(numpy.arange(n), counts)
    return x[(slice(None),) * axis + (positions,)]


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

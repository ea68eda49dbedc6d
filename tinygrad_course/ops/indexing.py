"""Picking and placing elements by index arrays, sorting, and triangles and diagonals.

None of these needs an op of its own: each builds an index (or a constant mask) and reads
with ``getitem`` (whose backward scatter-adds the gradient back, repeats adding up), adds
with ``ScatterAdd`` (whose backward reads again), or chooses with ``where``. So each has
exact gradients and second derivatives from those ops.

gather(x, dim, index)      y[i][j][k] = x[index[i][j][k]][j][k]          (dim = 0; PyTorch's)
scatter_add(x, dim, index, src)   y = x, then y[index[i][j][k]][j][k] += src[i][j][k]
scatter(x, dim, index, src)       the same with = instead of += (each position at most once)
index_select(x, dim, index)       the slices of x at the positions ``index`` along ``dim``
masked_fill(x, mask, value)       value where mask, else x
sort, argsort, topk               values read by gather at argsort's positions
tril, triu, diagonal              triangles by a constant mask; a diagonal by getitem
"""

from .. import backend
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor, as_tensor, check_same_device, constant, host_array, torch_names
from .elementwise import as_operand, where
from .movement import GetItem, ScatterAdd, getitem
from .reduce import ValuesAndIndices, one_axis


def _integer_index(index, x, op):
    """``index`` as an integer Tensor on x's device (a Tensor, list or array)."""
    if not isinstance(index, Tensor):
        index = Tensor(host_array(index, op), device=x.device)
    check_same_device(op, x, index)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"{op}: index must hold integers, got dtype {index.dtype}")
    return index


def _check_in_range(index, size, op, axis):
    if index.size and (int(index.data.min()) < -size or int(index.data.max()) >= size):
        raise ShapeError(f"{op}: index values must lie in [-{size}, {size}) for axis {axis} of "
                         f"length {size}, got {int(index.data.min())}..{int(index.data.max())}")


def _positions_along(x, axis, index, op):
    """The advanced index that reads x[..., index[i, j, k], ...] at (i, j, k): ``index`` on
    ``axis`` and, on every other axis a, the position itself (arange, broadcast)."""
    if index.ndim != x.ndim:
        raise ShapeError(f"{op}: index needs as many dims as the tensor ({x.ndim}), got shape "
                         f"{index.shape} for a tensor of shape {x.shape}")
    for a in range(x.ndim):
        if a != axis and index.shape[a] > x.shape[a]:
            raise ShapeError(f"{op}: index shape {index.shape} is larger than the tensor's "
                             f"{x.shape} on axis {a} (only axis {axis} may differ)")
    _check_in_range(index, x.shape[axis], op, axis)
    xp, items = x.xp, []
    for a in range(x.ndim):
        if a == axis:
            items.append(index.data)
        else:
            shape = [1] * x.ndim
            shape[a] = index.shape[a]
            items.append(xp.arange(index.shape[a]).reshape(tuple(shape)))
    return tuple(items)


def _one_axis(x, axis, op):
    return one_axis(axis, x.ndim, op)


@torch_names
def gather(x, axis, index):
    """y[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (and likewise on any axis): PyTorch's
    gather(input, dim, index). index has x's number of dims and is no larger on the others;
    y has index's shape. dL/dx: dL/dy added back at the positions read (repeats add up)."""
    x = as_tensor(x, "gather")
    axis = _one_axis(x, axis, "gather")
    positions = _positions_along(x, axis, _integer_index(index, x, "gather"), "gather")
    return GetItem.apply(x, index=positions, repeats_possible=True)


def _source_part(src, index, x, op):
    """The part of ``src`` (a tensor or array, or a number to fill with) that scatter uses:
    its leading block of index's shape."""
    src = as_operand(src, x, op)
    if src.ndim == 0:  # a number: every position gets it
        return src.broadcast_to(index.shape)
    check_same_device(op, x, src)
    if src.ndim != index.ndim or any(s < i for s, i in zip(src.shape, index.shape)):
        raise ShapeError(f"{op}: src of shape {src.shape} must have index's dims and be no "
                         f"smaller than index (shape {index.shape})")
    return src if src.shape == index.shape else src[tuple(slice(0, n) for n in index.shape)]


@torch_names
def scatter_add(x, axis, index, src):
    """Out of place: y = x, then y[index[i][j][k]][j][k] += src[i][j][k] (axis 0), repeated
    positions adding up (PyTorch's scatter_add). dL/dx = dL/dy; dL/dsrc = dL/dy read at
    the positions (gather)."""
    x = as_tensor(x, "scatter_add")
    axis = _one_axis(x, axis, "scatter_add")
    index = _integer_index(index, x, "scatter_add")
    positions = _positions_along(x, axis, index, "scatter_add")
    values = _source_part(src, index, x, "scatter_add")
    return x + ScatterAdd.apply(values, index=positions, shape=x.shape, repeats_possible=True)


@torch_names
def scatter(x, axis, index, src):
    """Out of place: y = x, then y[index[i][j][k]][j][k] = src[i][j][k] (axis 0); ``src`` a
    tensor or a number (PyTorch's scatter with src or value).

    An index naming one position twice raises ArgumentError: which value would win is not
    defined (PyTorch leaves it to chance); scatter_add adds them instead.
    dL/dx = dL/dy where x was kept, 0 where overwritten; dL/dsrc = dL/dy at the positions.
    """
    x = as_tensor(x, "scatter")
    axis = _one_axis(x, axis, "scatter")
    index = _integer_index(index, x, "scatter")
    positions = _positions_along(x, axis, index, "scatter")
    xp = x.xp
    writes = xp.zeros(x.shape, dtype=xp.int64)
    backend.scatter_add(xp, writes, positions, xp.ones(index.shape, dtype=xp.int64))
    if bool((writes > 1).any()):
        raise ArgumentError("scatter: index names a position more than once, so which value "
                            "lands there is undefined; use scatter_add to add them")
    values = _source_part(src, index, x, "scatter")
    placed = ScatterAdd.apply(values, index=positions, shape=x.shape, repeats_possible=False)
    return where(constant(writes > 0, like=x), placed, x)


@torch_names
def index_select(x, axis, index):
    """The slices of x at positions ``index`` (1-d integers) along ``axis``:
    index_select(x, 0, [2, 0]) is x[[2, 0]]. dL/dx: added back at the positions."""
    x = as_tensor(x, "index_select")
    axis = _one_axis(x, axis, "index_select")
    index = _integer_index(index, x, "index_select")
    if index.ndim > 1:
        raise ShapeError(f"index_select: index must be 1-d, got shape {index.shape}")
    _check_in_range(index, x.shape[axis], "index_select", axis)
    return getitem(x, (slice(None),) * axis + (index.reshape(-1),))


def masked_fill(x, mask, value):
    """``value`` where the bool ``mask`` (broadcast to x) is True, x elsewhere (composed:
    where(mask, value, x); x gets the gradient where it was kept)."""
    x = as_tensor(x, "masked_fill")
    mask = as_tensor(mask, "masked_fill")
    if mask.dtype != bool:
        raise DTypeError(f"masked_fill: mask must be bool, got dtype {mask.dtype} (compare "
                         "first, e.g. x > 0)")
    if isinstance(value, Tensor) and value.ndim:
        raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    return where(mask, as_operand(value, x, "masked_fill"), x)


# ----- sorting ------------------------------------------------------------------------------
def _order(x, axis, descending):
    """Positions that sort x along ``axis``, stable: equal elements keep their order (a
    descending sort included, as PyTorch's stable sort)."""
    data = x.data
    if descending:
        if x.dtype.kind in "bu":
            data = data.astype(x.xp.int64)
        data = -data
    return constant(x.xp.argsort(data, axis=axis, kind="stable"), like=x)


@torch_names
def sort(x, axis=-1, descending=False):
    """(values, indices) sorted along ``axis`` (a named tuple, as PyTorch's sort returns;
    NumPy's sort gives the values only: take .values). Stable: ties keep their order.
    The values are gather(x, axis, indices), so the gradient flows back to where each
    value came from; the indices get none."""
    x = as_tensor(x, "sort")
    if x.ndim == 0:
        return ValuesAndIndices(x, constant(x.xp.zeros((), x.xp.int64), like=x))
    axis = _one_axis(x, axis, "sort")
    indices = _order(x, axis, descending)
    return ValuesAndIndices(gather(x, axis, indices), indices)


@torch_names
def argsort(x, axis=-1, descending=False):
    """The positions that sort x along ``axis`` (stable); an int64 tensor, no gradient."""
    x = as_tensor(x, "argsort")
    if x.ndim == 0:
        return constant(x.xp.zeros((), x.xp.int64), like=x)
    return _order(x, _one_axis(x, axis, "argsort"), descending)


@torch_names
def topk(x, k, axis=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (largest=False: smallest) elements along ``axis``,
    largest first (PyTorch's topk; the order is always sorted). Ties: the earlier element
    first. The gradient flows to the chosen values."""
    x = as_tensor(x, "topk")
    axis = _one_axis(x, axis, "topk")
    length = x.shape[axis]
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= length:
        raise ArgumentError(f"topk: k must be an int in [0, {length}] for axis {axis} of "
                            f"shape {x.shape}, got {k!r}")
    order = _order(x, axis, largest)
    indices = order[(slice(None),) * axis + (slice(0, k),)]
    return ValuesAndIndices(gather(x, axis, indices), indices)


# ----- triangles and diagonals --------------------------------------------------------------
def _triangle(x, diagonal, lower, op):
    x = as_tensor(x, op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs a tensor of at least 2 dims, got shape {x.shape}")
    if isinstance(diagonal, bool) or not isinstance(diagonal, int):
        raise DTypeError(f"{op}: diagonal must be an int, got {type(diagonal).__name__}")
    rows, cols = x.shape[-2:]
    below = x.xp.tri(rows, cols, k=diagonal if lower else diagonal - 1, dtype=bool)
    keep = below if lower else ~below
    return where(constant(keep, like=x), x, 0)


def tril(x, diagonal=0):
    """The lower triangle of the last two axes: x[..., i, j] where j - i <= diagonal, else 0
    (NumPy calls ``diagonal`` k). Composed by where with a constant mask."""
    return _triangle(x, diagonal, True, "tril")


def triu(x, diagonal=0):
    """The upper triangle: x[..., i, j] where j - i >= diagonal, else 0."""
    return _triangle(x, diagonal, False, "triu")


def diagonal(x, offset=0, axis1=0, axis2=1, *, dim1=None, dim2=None):
    """The diagonal y[..., k] = x[..., k, k + offset] of the axes ``axis1``, ``axis2``
    (PyTorch: dim1, dim2), appended as the last axis, as NumPy and PyTorch do. Read by
    getitem, so the gradient lands back on the diagonal."""
    x = as_tensor(x, "diagonal")
    axis1 = axis1 if dim1 is None else dim1
    axis2 = axis2 if dim2 is None else dim2
    if x.ndim < 2:
        raise ShapeError(f"diagonal: needs a tensor of at least 2 dims, got shape {x.shape}")
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise DTypeError(f"diagonal: offset must be an int, got {type(offset).__name__}")
    first, second = (one_axis(a, x.ndim, "diagonal") for a in (axis1, axis2))
    if first == second:
        raise ShapeError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    rest = [a for a in range(x.ndim) if a not in (first, second)]
    moved = x.transpose(tuple(rest + [first, second]))
    rows, cols = moved.shape[-2:]
    start = max(0, -offset)
    length = max(0, min(rows - start, cols - start - offset))
    xp = x.xp
    row_positions = xp.arange(start, start + length)
    return moved[..., row_positions, row_positions + offset]


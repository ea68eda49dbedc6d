"""One table of every differentiable op; three test files run every row of it.

Each row (an ``OpSpec``) says how to draw inputs for the op (a hypothesis strategy of
``Case``), how to call it on tensors (``op``), and what NumPy computes for the same inputs
(``reference``). Then

- test_ops_gradients.py  gradcheck: backward vs central finite differences, float64;
- test_ops_forward.py    forward vs the NumPy reference, in float32, and dtypes stay float32;
- test_ops_gradgrad.py   gradgradcheck for the rows marked ``second_order``.

Adding an op to the engine means adding a row here, and it gets all three tests;
test_op_table_guard.py fails while some ``Function`` subclass in tinygrad_course.ops is
applied by no row (or by no second-order row, unless listed in FIRST_ORDER_ONLY with the
reason its backward cannot be differentiated again).

A ``Case`` holds the differentiable inputs (float64 host arrays: gradcheck differentiates
these) and the params that are not differentiated (axes, constants, conditions, indices).
``op(*tensors, **params)`` and ``reference(*arrays, **params)`` receive the same params.
"""

import functools
import math
import operator
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special
from strategies import (
    arrays,
    away_from,
    broadcastable_shapes,
    distinct_arrays,
    normalized,
    reduction_axes,
    shapes,
)

import tinygrad_course as tg
from tinygrad_course import backend
from tinygrad_course.autograd import Function
from tinygrad_course.ops import recurrent
from tinygrad_course.ops.attention import packed_self_attention, scaled_dot_product_attention
from tinygrad_course.ops.conv import conv1d
from tinygrad_course.ops.embedding import embedding
from tinygrad_course.ops.linear import linear
from tinygrad_course.ops.movement import ScatterAdd
from tinygrad_course.ops.nn import (
    binary_cross_entropy,
    softmax_cross_entropy,
    squared_error,
    symmetric_cross_entropy,
)
from tinygrad_course.ops.normalization import l2_normalize, layer_norm
from tinygrad_course.ops.reduce import masked_mean
from tinygrad_course.ops.similarity import similarity_logits


@dataclass(frozen=True)
class Case:
    arrays: tuple
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OpSpec:
    name: str
    cases: object  # a hypothesis strategy of Case
    op: Callable  # op(*tensors, **params) -> Tensor
    reference: Callable  # reference(*float64 arrays, **params) -> float64 array
    second_order: bool = False  # also run gradgradcheck
    rtol: float = 1e-5  # forward tolerance against the float64 reference, in float32
    atol: float = 1e-6
    eps: float = 1e-6  # gradcheck's finite-difference step


# ----- case builders ------------------------------------------------------------------------
@st.composite
def unary(draw, low=-3.0, high=3.0, kinks=(), min_dims=0, params=None):
    """One array of any shape (0-d included); ``params`` a strategy of a dict, drawn after."""
    x = draw(arrays(draw(shapes(min_dims=min_dims)), low, high, kinks))
    return Case((x,), draw(params) if params is not None else {})


@st.composite
def binary(draw, a_range=(-3.0, 3.0), b_range=(-3.0, 3.0), b_kinks=(), b_margin=1e-2):
    """Two arrays of mutually broadcastable shapes, e.g. (2, 1, 3) and (3,)."""
    shape_a, shape_b = draw(broadcastable_shapes())
    a = draw(arrays(shape_a, *a_range))
    b = draw(arrays(shape_b, *b_range, kinks=b_kinks, margin=b_margin))
    return Case((a, b))


@st.composite
def tie_free_pair(draw):
    """Two broadcastable arrays with no value in common (maximum/minimum never see a tie)."""
    shape_a, shape_b = draw(broadcastable_shapes())
    return Case(tuple(draw(distinct_arrays([shape_a, shape_b]))))


@st.composite
def reduction(draw, tie_free=False, allow_empty_axes=True, keepdims=True):
    """One array, an axis argument in every form, and keepdims."""
    shape = draw(shapes())
    x = draw(distinct_arrays([shape]))[0] if tie_free else draw(arrays(shape))
    params = {"axis": draw(reduction_axes(len(shape), allow_empty=allow_empty_axes))}
    if keepdims:
        params["keepdims"] = draw(st.booleans())
    return Case((x,), params)


@st.composite
def variance(draw):
    case = draw(reduction())
    x, axis = case.arrays[0], case.params["axis"]
    count = int(np.prod([x.shape[a] for a in normalized(axis, x.ndim)]))
    ddof = draw(st.sampled_from([0, 1])) if count > 1 else 0
    return Case(case.arrays, {**case.params, "ddof": ddof})


# ----- arithmetic ---------------------------------------------------------------------------
# A Python number on either side of an operator takes the tensor's dtype.
SCALAR_FORMS = {
    "x + c": lambda x, c: x + c, "c + x": lambda x, c: c + x,
    "x - c": lambda x, c: x - c, "c - x": lambda x, c: c - x,
    "x * c": lambda x, c: x * c, "c * x": lambda x, c: c * x,
    "x / c": lambda x, c: x / c, "c / x": lambda x, c: c / x,
}


def _scalar_arith(x, form, c):
    return SCALAR_FORMS[form](x, c)


# Exponents for x ** p: integers allow any base; the others need a positive base.
INTEGER_EXPONENTS = [0, 1, 2, 3, 2.0]
OTHER_EXPONENTS = [-1, -2.5, 0.5, 1.5, 1 / 3]


@st.composite
def scalar_power(draw):
    p = draw(st.sampled_from(INTEGER_EXPONENTS + OTHER_EXPONENTS))
    if p in INTEGER_EXPONENTS:
        x = draw(arrays(draw(shapes()), -2.0, 2.0))
    else:
        x = draw(arrays(draw(shapes()), 0.3, 2.5))
    return Case((x,), {"p": p})


# ----- matmul -------------------------------------------------------------------------------
@st.composite
def matmul_operands(draw):
    """Shapes of every matmul form: 1-D @ 1-D, 1-D @ 2-D, 2-D @ 1-D, 2-D @ 2-D, and batched
    (..., m, n) @ (..., n, p) with broadcast batch axes, or a 1-D operand against a batch."""
    m, n, p = draw(st.tuples(*[st.integers(1, 3)] * 3))
    batch_a, batch_b = draw(broadcastable_shapes(max_dims=2, max_side=2))
    form = draw(st.sampled_from(["vec@vec", "vec@mat", "mat@vec", "mat@mat", "batched",
                                 "vec@batched", "batched@vec"]))
    shape_a = {"vec@vec": (n,), "vec@mat": (n,), "mat@vec": (m, n), "mat@mat": (m, n),
               "batched": batch_a + (m, n), "vec@batched": (n,),
               "batched@vec": batch_a + (m, n)}[form]
    shape_b = {"vec@vec": (n,), "vec@mat": (n, p), "mat@vec": (n,), "mat@mat": (n, p),
               "batched": batch_b + (n, p), "vec@batched": batch_b + (n, p),
               "batched@vec": (n,)}[form]
    use_operator = draw(st.booleans())
    return Case((draw(arrays(shape_a)), draw(arrays(shape_b))), {"use_operator": use_operator})


def _matmul(a, b, use_operator):
    return a @ b if use_operator else tg.matmul(a, b)


@st.composite
def similarity_operands(draw):
    """u (N, D), v (M, D), a 0-d log-scale, and a clamp (None, or one the log-scale sits
    clearly below or above: the clamp's kink is never straddled by finite differences)."""
    n, m, d = draw(st.tuples(*[st.integers(1, 3)] * 3))
    tau = draw(arrays((), -1.0, 1.5))
    clamp = draw(st.sampled_from([None, "above", "below"]))
    max_log_scale = None if clamp is None else float(tau) + (0.5 if clamp == "above" else -0.5)
    return Case((draw(arrays((n, d))), draw(arrays((m, d))), tau),
                {"max_log_scale": max_log_scale})


def _similarity_reference(u, v, tau, max_log_scale):
    scale = np.exp(tau if max_log_scale is None else min(tau, max_log_scale))
    return scale * (u @ v.T)


# ----- elementwise functions ----------------------------------------------------------------
@st.composite
def clip_case(draw):
    """Bounds lo < hi at least 0.2 apart; values kept 1e-2 off both bounds."""
    lo = round(draw(st.floats(-2.0, 0.5)), 2)
    hi = round(lo + draw(st.floats(0.2, 2.5)), 2)
    which = draw(st.sampled_from(["both", "min", "max"]))
    bounds = {"both": (lo, hi), "min": (lo, None), "max": (None, hi)}[which]
    x = away_from(draw(arrays(draw(shapes()))), [b for b in bounds if b is not None])
    return Case((x,), {"lo": bounds[0], "hi": bounds[1]})


def _clip_reference(x, lo, hi):
    return np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)


def _gelu_reference(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * special.ndtr(x)  # x times the standard normal CDF


@st.composite
def where_case(draw):
    """Condition, a and b of three mutually broadcastable shapes."""
    shape_c, shape_a, shape_b = draw(broadcastable_shapes(num_shapes=3))
    condition = draw(arrays(shape_c)) > 0
    form = draw(st.sampled_from(["bool tensor", "nested list"]))
    return Case((draw(arrays(shape_a)), draw(arrays(shape_b))),
                {"condition": condition, "form": form})


def _where(a, b, condition, form):
    # (a host NumPy array would be refused on a GPU-like device, as CuPy refuses it)
    condition = tg.tensor(condition) if form == "bool tensor" else condition.tolist()
    return tg.where(condition, a, b)


# ----- reductions ---------------------------------------------------------------------------
def _logsumexp_reference(x, axis, keepdims):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _softmax_reference(x, axis):
    return np.exp(_log_softmax_reference(x, axis))


def _log_softmax_reference(x, axis):
    return x - _logsumexp_reference(x, axis, keepdims=True)


@st.composite
def softmax_case(draw):
    shape = draw(shapes())
    axis = draw(reduction_axes(len(shape), allow_empty=False))
    return Case((draw(arrays(shape)),), {"axis": axis})


# ----- movement -----------------------------------------------------------------------------
@st.composite
def reshape_case(draw):
    shape = draw(shapes())
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (-1,), shape[::-1], (1,) + shape, shape + (1,),
                                   (size, 1), (1, -1)]))
    return Case((draw(arrays(shape)),), {"shape": target, "form": draw(st.sampled_from(
        ["method", "method, unpacked", "function"]))})


def _reshape(x, shape, form):
    if form == "method":
        return x.reshape(shape)
    if form == "method, unpacked":
        return x.reshape(*shape)
    return tg.reshape(x, shape)


@st.composite
def transpose_case(draw):
    shape = draw(shapes())
    ndim = len(shape)
    axes = tuple(draw(st.permutations(range(ndim))))
    axes = tuple(draw(st.sampled_from([a, a - ndim])) for a in axes)
    form = draw(st.sampled_from(["transpose", "permute", "function", "reverse", ".T"]))
    return Case((draw(arrays(shape)),), {"axes": axes, "form": form})


def _transpose(x, axes, form):
    if form == "transpose":  # one sequence: NumPy's permutation (two numbers would swap)
        return x.transpose(axes)
    if form == "permute":
        return x.permute(*axes)
    if form == "function":
        return tg.transpose(x, axes)
    return x.transpose() if form == "reverse" else x.T


def _transpose_reference(x, axes, form):
    return np.transpose(x, axes) if form in ("transpose", "permute", "function") else x.T


@st.composite
def swapaxes_case(draw):
    shape = draw(shapes(min_dims=1))
    axis = st.integers(-len(shape), len(shape) - 1)
    return Case((draw(arrays(shape)),), {"axis1": draw(axis), "axis2": draw(axis)})


@st.composite
def broadcast_case(draw):
    """A shape and a shape it broadcasts to (new leading axes, size-1 axes stretched)."""
    shape, other = draw(broadcastable_shapes())
    target = np.broadcast_shapes(shape, other)
    form = draw(st.sampled_from(["expand", "broadcast_to", "function"]))
    return Case((draw(arrays(shape)),), {"shape": target, "form": form})


def _broadcast(x, shape, form):
    if form == "expand":
        return x.expand(*shape)
    if form == "broadcast_to":
        return x.broadcast_to(shape)
    return tg.broadcast_to(x, shape)


@st.composite
def squeeze_case(draw):
    shape = draw(shapes(min_side=1, max_side=2))
    ones = [i for i, s in enumerate(shape) if s == 1]
    axis = draw(st.one_of(
        st.none(),
        st.lists(st.sampled_from(ones), unique=True).map(tuple) if ones else st.just(()),
        st.sampled_from(ones + [i - len(shape) for i in ones]) if ones else st.none(),
    ))
    return Case((draw(arrays(shape)),), {"axis": axis})


@st.composite
def unsqueeze_case(draw):
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return Case((draw(arrays(shape)),), {"axis": axis})


@st.composite
def flatten_case(draw):
    shape = draw(shapes(min_dims=1))
    ndim = len(shape)
    start = draw(st.integers(0, ndim - 1))
    end = draw(st.integers(start, ndim - 1))
    start = draw(st.sampled_from([start, start - ndim]))
    end = draw(st.sampled_from([end, end - ndim]))
    return Case((draw(arrays(shape)),), {"start_axis": start, "end_axis": end})


def _flatten_reference(x, start_axis, end_axis):
    start, end = start_axis % x.ndim, end_axis % x.ndim
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])


@st.composite
def concatenate_case(draw):
    """1 to 3 arrays equal in shape except along ``axis``."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    lengths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for length in lengths:
        part_shape = list(shape)
        part_shape[axis] = length
        parts.append(draw(arrays(tuple(part_shape))))
    return Case(tuple(parts), {"axis": axis})


@st.composite
def stack_case(draw):
    shape = draw(shapes())
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return Case(tuple(draw(arrays(shape)) for _ in range(count)), {"axis": axis})


@st.composite
def split_case(draw):
    """Equal sections (an int dividing the length) or split points (empty pieces allowed)."""
    shape = draw(shapes(min_dims=1, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    sections = draw(st.one_of(
        st.sampled_from([k for k in range(1, length + 1) if length % k == 0]),
        st.lists(st.integers(0, length), max_size=3).map(sorted),
    ))
    return Case((draw(arrays(shape)),), {"sections": sections, "axis": axis})


# split returns several tensors; the row joins them back, each scaled by its position, so a
# gradient routed to the wrong piece shows up.
def _split(x, sections, axis):
    pieces = tg.split(x, sections=sections, axis=axis)
    return tg.concatenate([piece * (k + 1) for k, piece in enumerate(pieces)], axis=axis)


def _split_reference(x, sections, axis):
    pieces = np.split(x, sections, axis=axis)
    return np.concatenate([piece * (k + 1) for k, piece in enumerate(pieces)], axis=axis)


@st.composite
def pad_case(draw):
    shape = draw(shapes(min_dims=1))
    form = draw(st.sampled_from(["int", "pair", "per axis"]))
    width = {"int": st.integers(0, 2),
             "pair": st.tuples(st.integers(0, 2), st.integers(0, 2)),
             "per axis": st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))
                                     for _ in shape])}[form]
    value = draw(st.sampled_from([0.0, -1.5, 2.0]))
    return Case((draw(arrays(shape)),), {"pad_width": draw(width), "value": value})


# ----- indexing -----------------------------------------------------------------------------
@st.composite
def basic_index(draw):
    """Ints and slices (any start, stop, negative steps), maybe with None and Ellipsis."""
    shape = draw(shapes(min_dims=1, max_side=4))
    count = draw(st.integers(1, len(shape)))
    ellipsis = count < len(shape) and draw(st.booleans())  # x[..., i] indexes the last axes
    items = []
    for size in shape[-count:] if ellipsis else shape[:count]:
        bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
        items.append(draw(st.one_of(
            st.integers(-size, size - 1),
            st.builds(slice, bound, bound, st.sampled_from([None, 1, 2, -1, -2])),
        )))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    if ellipsis:
        items.insert(0, Ellipsis)
    return Case((draw(arrays(shape)),), {"index": tuple(items), "form": "array"})


@st.composite
def integer_array_index(draw):
    """Integer arrays along the first axis, the last axis, or two axes at once (broadcast
    together). Repeats are likely: an element read twice must get both gradients."""
    shape = draw(shapes(min_dims=1))

    def positions(size):
        return st.lists(st.integers(-size, size - 1), min_size=1, max_size=5).map(np.array)

    where = draw(st.sampled_from(["first axis", "last axis", "two axes"][:len(shape) + 1]))
    if where == "first axis":
        index = draw(positions(shape[0]))
    elif where == "last axis":
        index = (Ellipsis, draw(positions(shape[-1])))
    else:  # rows (k,) and columns (j, 1) broadcast to a (j, k) block of picks
        index = (draw(positions(shape[0])), draw(positions(shape[1])).reshape(-1, 1))
    form = draw(st.sampled_from(["array", "list", "tensor"]))
    return Case((draw(arrays(shape)),), {"index": index, "form": form})


@st.composite
def boolean_mask_index(draw):
    """A mask of the whole shape (result 1-D) or of the leading axes."""
    shape = draw(shapes(min_dims=1))
    leading = draw(st.integers(1, len(shape)))
    mask = draw(arrays(shape[:leading])) > 0
    form = draw(st.sampled_from(["array", "tensor"]))
    return Case((draw(arrays(shape)),), {"index": mask, "form": form})


def _index_as(index, form):
    """The index with its arrays as host arrays, lists or tensors on the default device."""
    def convert(item):
        if not isinstance(item, np.ndarray):
            return item
        return {"array": item, "list": item.tolist(), "tensor": tg.tensor(item)}[form]

    return tuple(convert(i) for i in index) if isinstance(index, tuple) else convert(index)


def _getitem(x, index, form):
    return x[_index_as(index, form)]


def _getitem_reference(x, index, form):
    return x[index]


@st.composite
def masked_mean_case(draw):
    """x (N, L, ...) and a bool keep (N, L); some rows may keep nothing (they give zeros)."""
    shape = draw(shapes(min_dims=2))
    keep = draw(arrays(shape[:2])) > 0
    return Case((draw(arrays(shape)),), {"keep": keep})


def _masked_mean_reference(x, keep):
    weights = keep / np.maximum(keep.sum(axis=1, keepdims=True), 1)
    return (x * weights.reshape(weights.shape + (1,) * (x.ndim - 2))).sum(axis=1)


# ----- dtypes and devices -------------------------------------------------------------------
def _cast_round_trip(x):
    """x cast to the other float dtype and back: two Cast ops (float64 <-> float32)."""
    other = np.float32 if x.dtype == np.float64 else np.float64
    return x.astype(other).astype(x.dtype)


DEFAULT_DEVICE = backend.normalize_device(None)
OTHER_DEVICE = "strict" if DEFAULT_DEVICE != "strict" else "cpu"


def _device_round_trip(x):
    """x copied to another device, doubled there, and copied back: two ToDevice ops."""
    return (x.to(OTHER_DEVICE) * 2.0).to(x.device)


@st.composite
def scatter_add_case(draw):
    """values (k, ...) added into zeros (n, ...) at k row indices (maybe negative); repeated
    indices add up, and unique ones take the assignment path (repeats_possible=False)."""
    n = draw(st.integers(1, 4))
    unique = draw(st.booleans())
    rows = st.integers(-n, n - 1)
    index = draw(st.lists(rows, min_size=1, max_size=n, unique_by=lambda i: i % n)
                 if unique else st.lists(rows, min_size=1, max_size=5))
    rest = draw(shapes(max_dims=2))
    return Case((draw(arrays((len(index),) + rest)),),
                {"index": np.array(index), "shape": (n,) + rest, "unique": unique})


def _scatter_add(values, index, shape, unique):
    device_index = (tg.tensor(index).data,)
    return ScatterAdd.apply(values, index=device_index, shape=shape, repeats_possible=not unique)


def _scatter_add_reference(values, index, shape, unique):
    out = np.zeros(shape)
    np.add.at(out, (index,), values)
    return out


# ----- fused layers and losses --------------------------------------------------------------
@st.composite
def linear_case(draw):
    """x (..., in) with 0 to 2 leading axes, W (out, in) and maybe a bias (out,)."""
    lead = draw(shapes(max_dims=2))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    parts = [draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in)))]
    if draw(st.booleans()):
        parts.append(draw(arrays((n_out,))))
    return Case(tuple(parts))


@st.composite
def layer_norm_case(draw):
    """x (..., normalized) over the last 1 or 2 axes, with no affine, a weight, or both.
    The values are distinct (0.1 apart), so the variance is never near 0 (where
    1 / sqrt(var + eps) makes finite differences meaningless)."""
    normalized_shape = draw(shapes(min_dims=1, max_dims=2))
    shape = draw(shapes(max_dims=1)) + normalized_shape
    affine = draw(st.sampled_from(["none", "weight", "weight and bias"]))
    parts = draw(distinct_arrays([shape]))
    if affine != "none":
        parts.append(draw(arrays(normalized_shape)))
    if affine == "weight and bias":
        parts.append(draw(arrays(normalized_shape)))
    return Case(tuple(parts), {"k": len(normalized_shape)})


def _layer_norm(x, *affine, k):
    return layer_norm(x, x.shape[x.ndim - k:], *affine)


def _layer_norm_reference(x, *affine, k):
    axes = tuple(range(-k, 0))
    centred = x - x.mean(axis=axes, keepdims=True)
    y = centred / np.sqrt((centred ** 2).mean(axis=axes, keepdims=True) + 1e-5)
    if affine:
        y = y * affine[0]
    if len(affine) > 1:
        y = y + affine[1]
    return y


@st.composite
def l2_normalize_case(draw):
    """Any axis of a tensor of 1 to 3 dims; every value at least 0.2 from 0, so no vector
    is near the origin (where the direction x / |x| jumps)."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return Case((draw(arrays(shape, kinks=[0.0], margin=0.2)),), {"axis": axis})


def _l2_normalize_reference(x, axis):
    return x / np.sqrt((x * x).sum(axis=axis, keepdims=True) + 1e-8)


@st.composite
def cross_entropy_case(draw):
    """Logits z and a target y in [0, 1] of one shape (y need not sum to 1: the gradient
    q sum(y) - y covers that), and the class axis."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return Case((draw(arrays(shape)), draw(arrays(shape, 0.0, 1.0))), {"axis": axis})


def _cross_entropy_reference(z, y, axis):
    return -(y * _log_softmax_reference(z, axis)).sum(axis=axis)


@st.composite
def binary_cross_entropy_case(draw):
    """Probabilities p in [0.05, 0.95] (clear of the clamps at 0 and 1) and targets y in
    [0, 1] of one shape."""
    shape = draw(shapes())
    return Case((draw(arrays(shape, 0.05, 0.95)), draw(arrays(shape, 0.0, 1.0))))


def _binary_cross_entropy_reference(p, y):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@st.composite
def squared_error_case(draw):
    shape = draw(shapes())
    scale = draw(st.sampled_from([1.0, 0.5, 1.0 / np.prod(shape)]))
    return Case((draw(arrays(shape)), draw(arrays(shape))), {"scale": scale})


@st.composite
def square_logits(draw):
    n = draw(st.integers(1, 3))
    return Case((draw(arrays((n, n))),))


def _symmetric_cross_entropy_reference(z):
    rows = _logsumexp_reference(z, 1, False).sum()
    columns = _logsumexp_reference(z, 0, False).sum()
    return (rows + columns - 2 * np.trace(z)) / (2 * len(z))


@st.composite
def embedding_case(draw):
    """A table W (V, D), integer ids of any shape (0-d included, repeats likely) and maybe
    a padding id, whose positions give zero vectors and send W no gradient."""
    vocabulary, width = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    ids = draw(hnp.arrays(np.int64, draw(shapes(max_dims=2)),
                          elements=st.integers(0, vocabulary - 1)))
    padding_idx = draw(st.one_of(st.none(), st.integers(0, vocabulary - 1)))
    return Case((draw(arrays((vocabulary, width))),), {"ids": ids, "padding_idx": padding_idx})


def _embedding(weight, ids, padding_idx):
    return embedding(tg.tensor(ids), weight, padding_idx=padding_idx)


def _embedding_reference(weight, ids, padding_idx):
    return weight[ids] * (ids != padding_idx)[..., None]


@st.composite
def conv1d_case(draw):
    """x (N, C_in, L) or unbatched (C_in, L), W (C_out, C_in, K), maybe a bias; stride,
    dilation, and padding as an int or "same" (stride 1); L long enough for the kernel."""
    channels_in, channels_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    stride = draw(st.integers(1, 2))
    padding = draw(st.sampled_from([0, 1, 2] + (["same"] if stride == 1 else [])))
    reach = dilation * (kernel - 1) + 1
    low = max(1, reach - 2 * (0 if padding == "same" else padding))
    length = draw(st.integers(low, low + 2))
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    parts = [draw(arrays(batch + (channels_in, length))),
             draw(arrays((channels_out, channels_in, kernel)))]
    if draw(st.booleans()):
        parts.append(draw(arrays((channels_out,))))
    return Case(tuple(parts), {"stride": stride, "padding": padding, "dilation": dilation})


def _conv1d(x, w, *bias, stride, padding, dilation):
    return conv1d(x, w, *bias, stride=stride, padding=padding, dilation=dilation)


def _conv1d_reference(x, w, *bias, stride, padding, dilation):
    """y[n, o, l] = b[o] + sum_c,k w[o, c, k] x_padded[n, c, l * stride + k * dilation]."""
    kernel = w.shape[2]
    if padding == "same":
        total = dilation * (kernel - 1)
        left, right = total // 2, total - total // 2
    else:
        left = right = padding
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(left, right)])
    out_length = (padded.shape[-1] - dilation * (kernel - 1) - 1) // stride + 1
    y = np.zeros(x.shape[:-2] + (w.shape[0], out_length))
    for position in range(out_length):
        for k in range(kernel):
            tap = padded[..., position * stride + k * dilation]  # (..., C_in)
            y[..., position] += tap @ w[:, :, k].T
    return y + bias[0][:, None] if bias else y


# ----- attention ----------------------------------------------------------------------------
MASK_KINDS = ["none", "bool", "float", "causal"]


@st.composite
def attention_case(draw):
    """Q (..., L, d_k), K (..., S, d_k), V (..., S, d_v) with broadcast batch axes; a mask
    (none, bool "may attend" (L, S) with maybe a row that may attend nothing, a float bias
    (L, S) that is differentiated too, or causal); a given scale or none; maybe dropout."""
    batch_q, batch_k, batch_v = draw(broadcastable_shapes(num_shapes=3, max_dims=2,
                                                          max_side=2))
    length_q, length_k, d_k, d_v = draw(st.tuples(*[st.integers(1, 3)] * 4))
    kind = draw(st.sampled_from(MASK_KINDS))
    parts = [draw(arrays(batch_q + (length_q, d_k))), draw(arrays(batch_k + (length_k, d_k))),
             draw(arrays(batch_v + (length_k, d_v)))]
    if kind == "float":
        parts.append(draw(arrays((length_q, length_k), -2.0, 2.0)))
    allowed = draw(arrays((length_q, length_k))) > 0 if kind == "bool" else None
    return Case(tuple(parts), {
        "kind": kind, "allowed": allowed, "scale": draw(st.sampled_from([None, 0.7])),
        "dropout_p": draw(st.sampled_from([0.0, 0.0, 0.3])), "seed": draw(st.integers(0, 9))})


def _attention(q, k, v, *float_mask, kind, allowed, scale, dropout_p, seed):
    mask = float_mask[0] if float_mask else allowed
    return scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                        is_causal=kind == "causal", scale=scale, generator=seed)


def _attention_weights_reference(scores, blocked):
    """softmax over the last axis, with -inf where ``blocked``; a row with every key blocked
    gives zeros."""
    scores = np.where(blocked, -np.inf, scores)
    top = scores.max(axis=-1, keepdims=True)
    empty = np.isneginf(top)
    e = np.exp(scores - np.where(empty, 0.0, top))
    return np.where(empty, 0.0, e / np.where(empty, 1.0, e.sum(axis=-1, keepdims=True)))


def _dropout_reference(shape, dropout_p, seed):
    """The op's dropout mask M / (1 - p): drawn on the host from numpy's generator(seed)."""
    if dropout_p == 0.0:
        return 1.0
    return (np.random.default_rng(seed).random(shape) >= dropout_p) / (1.0 - dropout_p)


def _attention_reference(q, k, v, *float_mask, kind, allowed, scale, dropout_p, seed):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale + (float_mask[0] if float_mask else 0.0)
    length_q, length_k = scores.shape[-2:]
    blocked = {"bool": ~allowed if allowed is not None else False,
               "causal": ~np.tri(length_q, length_k, dtype=bool)}.get(kind, False)
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    weights = _attention_weights_reference(np.broadcast_to(scores, batch + scores.shape[-2:]),
                                           blocked)
    return (weights * _dropout_reference(weights.shape, dropout_p, seed)) @ v


@st.composite
def packed_attention_case(draw):
    """A self-attention projection (N, L, 3E), E = H d, for H heads; a mask (none, bool
    (L, L) or a differentiated float bias (L, L)); maybe dropout."""
    n, length = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    heads, d = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["none", "bool", "float"]))
    parts = [draw(arrays((n, length, 3 * heads * d)))]
    if kind == "float":
        parts.append(draw(arrays((length, length), -2.0, 2.0)))
    allowed = draw(arrays((length, length))) > 0 if kind == "bool" else None
    return Case(tuple(parts), {"heads": heads, "allowed": allowed,
                               "dropout_p": draw(st.sampled_from([0.0, 0.0, 0.3])),
                               "seed": draw(st.integers(0, 9))})


def _packed_attention(qkv, *float_mask, heads, allowed, dropout_p, seed):
    device_allowed = None if allowed is None else tg.tensor(allowed).data
    return packed_self_attention(qkv, heads, float_mask=float_mask[0] if float_mask else None,
                                 allowed=device_allowed, dropout_p=dropout_p, generator=seed)


def _packed_attention_reference(qkv, *float_mask, heads, allowed, dropout_p, seed):
    n, length, width = qkv.shape
    d = width // (3 * heads)
    q, k, v = qkv.reshape(n, length, 3, heads, d).transpose(2, 0, 3, 1, 4)  # (N, H, L, d)
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(d) + (float_mask[0] if float_mask else 0.0)
    weights = _attention_weights_reference(scores, False if allowed is None else ~allowed)
    heads_out = (weights * _dropout_reference(weights.shape, dropout_p, seed)) @ v
    return heads_out.transpose(0, 2, 1, 3).reshape(n, length, heads * d)


# ----- recurrent layers over a sequence -----------------------------------------------------
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SEQUENCE_OPS = {"rnn": recurrent.RNNSequence, "lstm": recurrent.LSTMSequence,
                "gru": recurrent.GRUSequence}


@st.composite
def sequence_case(draw, kind):
    """x (T, B, I), h0 (B, H) [, c0], W_ih (G H, I), W_hh (G H, H) [, b_ih, b_hh]; maybe a
    padding mask (T, B, 1) (any pattern), forwards or reversed. Values in [-1, 1]."""
    steps = draw(st.integers(1, 3))
    batch, width, hidden = draw(st.tuples(*[st.integers(1, 2)] * 3))
    rows = GATES[kind] * hidden
    shapes_ = [(steps, batch, width), (batch, hidden)] + [(batch, hidden)] * (kind == "lstm")
    shapes_ += [(rows, width), (rows, hidden)] + [(rows,), (rows,)] * draw(st.booleans())
    mask = draw(st.one_of(st.none(), arrays((steps, batch, 1)).map(lambda m: m > 0)))
    return Case(tuple(draw(arrays(shape, -1.0, 1.0)) for shape in shapes_),
                {"kind": kind, "mask": mask, "reverse": draw(st.booleans())})


def _sequence(*tensors, kind, mask, reverse):
    device_mask = None if mask is None else tg.tensor(mask).data
    return SEQUENCE_OPS[kind].apply(*tensors, mask=device_mask, reverse=reverse)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _sequence_reference(x, h, *rest, kind, mask, reverse):
    """The cell equations (see ops/recurrent.py) step by step; at a padded step the state is
    carried over and the output is 0. Returns the op's packed outputs, h_n (, c_n)."""
    c, rest = (rest[0], rest[1:]) if kind == "lstm" else (None, rest)
    w_ih, w_hh, *biases = rest
    b_ih, b_hh = biases if biases else (0.0, 0.0)
    n = h.shape[-1]
    outputs = np.zeros(x.shape[:2] + (n,))
    for t in (reversed if reverse else iter)(range(x.shape[0])):
        from_x, from_h = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        c_new = c
        if kind == "rnn":
            h_new = np.tanh(from_x + from_h)
        elif kind == "lstm":
            z = from_x + from_h
            i, f, o = _sigmoid(z[:, :n]), _sigmoid(z[:, n:2 * n]), _sigmoid(z[:, 3 * n:])
            c_new = f * c + i * np.tanh(z[:, 2 * n:3 * n])
            h_new = o * np.tanh(c_new)
        else:
            r = _sigmoid(from_x[:, :n] + from_h[:, :n])
            u = _sigmoid(from_x[:, n:2 * n] + from_h[:, n:2 * n])
            candidate = np.tanh(from_x[:, 2 * n:] + r * from_h[:, 2 * n:])
            h_new = u * h + (1 - u) * candidate
        real = np.ones((x.shape[1], 1), bool) if mask is None else mask[t]
        outputs[t] = np.where(real, h_new, 0.0)
        h = np.where(real, h_new, h)
        c = None if c is None else np.where(real, c_new, c)
    return np.concatenate([outputs, h[None]] + ([] if c is None else [c[None]]))


# ----- images: conv2d, conv_transpose2d, unfold/fold, pooling, resizing ----------------------
NUMPY_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
                   "circular": "wrap"}


@st.composite
def conv2d_case(draw):
    """x (N, C_in, H, W) or unbatched, W (C_out, C_in / groups, kH, kW), maybe a bias; stride,
    dilation, groups (1, 2, or depthwise), padding (int, pair or 'same') in every mode."""
    groups = draw(st.sampled_from([1, 2]))
    channels_in, channels_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(sorted(NUMPY_PAD_MODES)))
    padding = draw(st.sampled_from([0, 1, (1, 0)] + (["same"] if stride == (1, 1) else [])))
    amounts = _conv2d_padding(padding, kernel, dilation)
    sizes = []
    for axis in (0, 1):  # big enough for the kernel, and for reflect/circular padding
        reach = dilation[axis] * (kernel[axis] - 1) + 1
        low = max(reach - sum(amounts[axis]), max(amounts[axis]) + 1, 1)
        sizes.append(draw(st.integers(low, low + 1)))
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    parts = [draw(arrays(batch + (channels_in, *sizes))),
             draw(arrays((channels_out, channels_in // groups, *kernel)))]
    if draw(st.booleans()):
        parts.append(draw(arrays((channels_out,))))
    return Case(tuple(parts), {"stride": stride, "padding": padding, "dilation": dilation,
                               "groups": groups, "padding_mode": mode})


def _conv2d_padding(padding, kernel, dilation):
    """((top, bottom), (left, right)) as PyTorch pads for 'same', an int or a pair."""
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pair = (padding, padding) if isinstance(padding, int) else padding
    return tuple((p, p) for p in pair)


def _conv2d(x, w, *bias, **params):
    return tg.functional.conv2d(x, w, *bias, **params)


def _conv2d_reference(x, w, *bias, stride, padding, dilation, groups, padding_mode):
    """The direct convolution: a loop over output pixels, channels and kernel taps."""
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    amounts = _conv2d_padding(padding, w.shape[2:], dilation)
    x = np.pad(x, ((0, 0), (0, 0)) + amounts, mode=NUMPY_PAD_MODES[padding_mode])
    (n, _, height, width), (c_out, c_group, kh, kw) = x.shape, w.shape
    out_h = (height - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (width - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, c_out, out_h, out_w))
    per_group = c_out // groups
    for o in range(c_out):
        first = (o // per_group) * c_group
        for p in range(out_h):
            for q in range(out_w):
                for c in range(c_group):
                    for i in range(kh):
                        for j in range(kw):
                            y[:, o, p, q] += w[o, c, i, j] * x[:, first + c,
                                                               p * stride[0] + i * dilation[0],
                                                               q * stride[1] + j * dilation[1]]
    y = y + bias[0][:, None, None] if bias else y
    return y[0] if unbatched else y


@st.composite
def conv_transpose2d_case(draw):
    """g (N, C_in, H, W), W (C_in, C_out / groups, kH, kW), maybe a bias; stride, padding,
    output_padding (< max(stride, dilation)), dilation, groups."""
    groups = draw(st.sampled_from([1, 2]))
    channels_in, channels_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    sizes = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    full = [(h - 1) * s + d * (k - 1) + 1 + e for h, s, d, k, e in
            zip(sizes, stride, dilation, kernel, output_padding)]
    padding = tuple(draw(st.integers(0, min(1, (f - 1) // 2))) for f in full)
    parts = [draw(arrays((draw(st.integers(1, 2)), channels_in, *sizes))),
             draw(arrays((channels_in, channels_out // groups, *kernel)))]
    if draw(st.booleans()):
        parts.append(draw(arrays((channels_out,))))
    return Case(tuple(parts), {"stride": stride, "padding": padding,
                               "output_padding": output_padding, "dilation": dilation,
                               "groups": groups})


def _conv_transpose2d(g, w, *bias, **params):
    return tg.functional.conv_transpose2d(g, w, *bias, **params)


def _conv_transpose2d_reference(g, w, *bias, stride, padding, output_padding, dilation,
                                groups):
    """The scatter definition: input pixel (p, q) of channel o adds w[o, c] * g[o, p, q] to
    output pixel (p*s + i*d, q*s + j*d) of channel c of its group; then padding cut off."""
    (n, c_in, height, width), (_, c_group, kh, kw) = g.shape, w.shape
    full = [(size - 1) * s + d * (k - 1) + 1 + e for size, s, d, k, e in
            zip((height, width), stride, dilation, (kh, kw), output_padding)]
    y = np.zeros((n, c_group * groups, *full))
    per_group = c_in // groups
    for o in range(c_in):
        first = (o // per_group) * c_group
        for p in range(height):
            for q in range(width):
                for c in range(c_group):
                    for i in range(kh):
                        for j in range(kw):
                            y[:, first + c, p * stride[0] + i * dilation[0],
                              q * stride[1] + j * dilation[1]] += w[o, c, i, j] * g[:, o, p, q]
    y = y[:, :, padding[0]:full[0] - padding[0], padding[1]:full[1] - padding[1]]
    return y + bias[0][:, None, None] if bias else y


@st.composite
def window_params(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    return {"kernel_size": kernel, "stride": (draw(st.integers(1, 2)), draw(st.integers(1, 2))),
            "padding": (draw(st.integers(0, 1)), draw(st.integers(0, 1))),
            "dilation": (draw(st.integers(1, 2)), 1)}


def _sizes_for(params, low=1):
    """Input sizes (H, W) from which the windows of ``params`` leave >= 1 output."""
    return [max(low, params["dilation"][a] * (params["kernel_size"][a] - 1) + 1
                - 2 * params["padding"][a]) for a in (0, 1)]


@st.composite
def unfold_case(draw):
    params = draw(window_params())
    sizes = [draw(st.integers(s, s + 2)) for s in _sizes_for(params)]
    return Case((draw(arrays((draw(st.integers(1, 2)), draw(st.integers(1, 2)), *sizes))),),
                params)


def _windows_reference(x, kernel_size, stride, padding, dilation, fill=0.0):
    """(N, C, Ho, Wo, kH, kW): window (p, q) tap (i, j) read by a loop from the padded x."""
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding), constant_values=fill)
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    out_h = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    out_w = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    windows = np.zeros(x.shape[:2] + (out_h, out_w, kh, kw))
    for p in range(out_h):
        for q in range(out_w):
            for i in range(kh):
                for j in range(kw):
                    windows[:, :, p, q, i, j] = x[:, :, p * sh + i * dh, q * sw + j * dw]
    return windows


def _unfold_reference(x, **params):
    windows = _windows_reference(x, **params)
    n, c, out_h, out_w, kh, kw = windows.shape
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, out_h * out_w)


@st.composite
def fold_case(draw):
    params = draw(window_params())
    sizes = tuple(draw(st.integers(s, s + 2)) for s in _sizes_for(params))
    (kh, kw), (sh, sw), (dh, dw) = params["kernel_size"], params["stride"], params["dilation"]
    padded = [s + 2 * p for s, p in zip(sizes, params["padding"])]
    count = (((padded[0] - dh * (kh - 1) - 1) // sh + 1)
             * ((padded[1] - dw * (kw - 1) - 1) // sw + 1))
    cols = draw(arrays((draw(st.integers(1, 2)), draw(st.integers(1, 2)) * kh * kw, count)))
    return Case((cols,), {**params, "output_size": sizes})


def _fold_reference(cols, output_size, kernel_size, stride, padding, dilation):
    """Each column added back, by a loop, at the pixels its window covers."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    padded = [s + 2 * p for s, p in zip(output_size, padding)]
    out_w = (padded[1] - dw * (kw - 1) - 1) // sw + 1
    n, rows, count = cols.shape
    y = np.zeros((n, rows // (kh * kw), *padded))
    taps = cols.reshape(n, -1, kh, kw, count)
    for position in range(count):
        p, q = divmod(position, out_w)
        for i in range(kh):
            for j in range(kw):
                y[:, :, p * sh + i * dh, q * sw + j * dw] += taps[:, :, i, j, position]
    return y[:, :, padding[0]:padded[0] - padding[0], padding[1]:padded[1] - padding[1]]


@st.composite
def pool_case(draw, tie_free):
    """Images (N, C, H, W) or (C, H, W), a window with padding <= kernel / 2."""
    params = draw(window_params())
    params["padding"] = tuple(min(p, k // 2) for p, k in zip(params["padding"],
                                                             params["kernel_size"]))
    # every window holds a real pixel: padding plus one dilation gap stays inside the image
    lows = [max(low, 1 + (params["padding"][a] if params["dilation"][a] > 1 else 0))
            for a, low in enumerate(_sizes_for(params))]
    sizes = [draw(st.integers(low, low + 2)) for low in lows]
    shape = draw(st.sampled_from([(), (2,)])) + (draw(st.integers(1, 2)), *sizes)
    x = draw(distinct_arrays([shape]))[0] if tie_free else draw(arrays(shape))
    return Case((x,), params)


def _max_pool2d_reference(x, **params):
    batched = x[None] if x.ndim == 3 else x
    y = _windows_reference(batched, **params, fill=-np.inf).max(axis=(4, 5))
    return y[0] if x.ndim == 3 else y


@st.composite
def avg_pool_case(draw):
    case = draw(pool_case(tie_free=False))
    params = {k: v for k, v in case.params.items() if k != "dilation"}
    params["count_include_pad"] = draw(st.booleans())
    return Case(case.arrays, params)


def _avg_pool2d_reference(x, kernel_size, stride, padding, count_include_pad):
    batched = x[None] if x.ndim == 3 else x
    windows = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=(1, 1))
    total = _windows_reference(batched, **windows).sum(axis=(4, 5))
    if count_include_pad:
        y = total / (kernel_size[0] * kernel_size[1])
    else:
        ones = np.ones((1, 1) + batched.shape[2:])
        y = total / _windows_reference(ones, **windows).sum(axis=(4, 5))
    return y[0] if x.ndim == 3 else y


@st.composite
def resize_case(draw, mode):
    """Images and an output size (or a scale factor), smaller or larger than the input."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 4)),
             draw(st.integers(1, 4)))
    params = {}
    if mode is None:  # adaptive pooling: output no larger than the input
        params["output_size"] = (draw(st.integers(1, shape[2])), draw(st.integers(1, shape[3])))
    elif draw(st.booleans()):
        params["size"] = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    else:
        params["scale_factor"] = draw(st.sampled_from([2, 3]))
    if mode == "bilinear":
        params["align_corners"] = draw(st.booleans())
    if mode is not None:
        params["mode"] = mode
    return Case((draw(arrays(shape)),), params)


def _adaptive_avg_pool2d_reference(x, output_size):
    """Cell (p, q) averages rows floor(p H / Ho) .. ceil((p + 1) H / Ho) - 1, columns alike."""
    (height, width), (out_h, out_w) = x.shape[2:], output_size
    y = np.zeros(x.shape[:2] + (out_h, out_w))
    for p in range(out_h):
        for q in range(out_w):
            rows = slice(p * height // out_h, -(-(p + 1) * height // out_h))
            cols = slice(q * width // out_w, -(-(q + 1) * width // out_w))
            y[:, :, p, q] = x[:, :, rows, cols].mean(axis=(2, 3))
    return y


def _resize_target(x, size=None, scale_factor=None):
    return tuple(size) if size is not None else (x.shape[2] * scale_factor,
                                                 x.shape[3] * scale_factor)


def _nearest_reference(x, mode, size=None, scale_factor=None):
    out_h, out_w = _resize_target(x, size, scale_factor)
    rows = [int(np.floor(p * x.shape[2] / out_h)) for p in range(out_h)]
    cols = [int(np.floor(q * x.shape[3] / out_w)) for q in range(out_w)]
    return x[:, :, rows][:, :, :, cols]


def _bilinear_source(p, size, out, align_corners):
    """Where output position p reads from: (low, high, weight of high)."""
    if align_corners:
        source = p * (size - 1) / (out - 1) if out > 1 else 0.0
    else:
        source = max((p + 0.5) * size / out - 0.5, 0.0)
    low = min(int(np.floor(source)), size - 1)
    return low, min(low + 1, size - 1), source - low


def _bilinear_reference(x, mode, align_corners, size=None, scale_factor=None):
    out_h, out_w = _resize_target(x, size, scale_factor)
    y = np.zeros(x.shape[:2] + (out_h, out_w))
    for p in range(out_h):
        top, bottom, t = _bilinear_source(p, x.shape[2], out_h, align_corners)
        for q in range(out_w):
            left, right, u = _bilinear_source(q, x.shape[3], out_w, align_corners)
            y[:, :, p, q] = ((1 - t) * ((1 - u) * x[:, :, top, left] + u * x[:, :, top, right])
                             + t * ((1 - u) * x[:, :, bottom, left] + u * x[:, :, bottom, right]))
    return y


@st.composite
def pixel_shuffle_case(draw):
    r = draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)) * r * r, draw(st.integers(1, 3)),
             draw(st.integers(1, 3)))
    return Case((draw(arrays(shape)),), {"upscale_factor": r})


def _pixel_shuffle_reference(x, upscale_factor):
    """y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w], by a loop over (i, j)."""
    r = upscale_factor
    n, channels, height, width = x.shape
    y = np.zeros((n, channels // (r * r), height * r, width * r))
    for i in range(r):
        for j in range(r):
            y[:, :, i::r, j::r] = x[:, i * r + j::r * r]
    return y


def _straight_through(z, shift):
    """z_q moves with z_e here (z_q = z_e + shift, computed off the graph), so that finite
    differences of the output see the identity the straight-through gradient claims."""
    return tg.functional.straight_through(z, z.detach() + shift)


# ----- the table ----------------------------------------------------------------------------
def _row(name, cases, op, reference, **options):
    return OpSpec(name, cases, op, reference, **options)


ELEMENTWISE = [
    _row("add", binary(), operator.add, np.add, second_order=True),
    _row("sub", binary(), operator.sub, np.subtract, second_order=True),
    _row("mul", binary(), operator.mul, np.multiply, second_order=True),
    _row("div", binary(b_kinks=[0.0], b_margin=0.5), operator.truediv, np.divide,
         second_order=True),
    _row("neg", unary(), operator.neg, np.negative, second_order=True),
    _row("python scalar operand",
         unary(kinks=[0.0], params=st.fixed_dictionaries({
             "form": st.sampled_from(sorted(SCALAR_FORMS)),
             "c": st.sampled_from([-1.5, 0.5, 2.0, 3])})),
         _scalar_arith, _scalar_arith, second_order=True),
    _row("pow (tensor exponent)", binary(a_range=(0.3, 2.5), b_range=(-2.0, 2.0)),
         operator.pow, np.power, second_order=True),
    _row("pow (number exponent)", scalar_power(), lambda x, p: x ** p,
         lambda x, p: np.power(x, p), second_order=True),
    _row("pow (number base)",
         unary(low=-2.0, high=2.0, params=st.fixed_dictionaries({
             "c": st.sampled_from([0.5, 2.0, math.e, 3])})),
         lambda x, c: c ** x, lambda x, c: np.power(c, x), second_order=True),
    _row("exp", unary(), tg.exp, np.exp, second_order=True),
    _row("log", unary(low=0.2, high=3.0), tg.log, np.log, second_order=True),
    _row("sqrt", unary(low=0.2, high=3.0), tg.sqrt, np.sqrt, second_order=True),
    _row("abs", unary(kinks=[0.0]), tg.abs, np.abs, second_order=True),
    _row("tanh", unary(), tg.tanh, np.tanh, second_order=True),
    _row("sigmoid", unary(low=-6.0, high=6.0), tg.sigmoid, special.expit, second_order=True),
    _row("relu", unary(kinks=[0.0]), tg.relu, lambda x: np.maximum(x, 0.0), second_order=True),
    _row("leaky_relu",
         unary(kinks=[0.0], params=st.fixed_dictionaries({
             "negative_slope": st.sampled_from([0.01, 0.2, 0.5])})),
         tg.leaky_relu, lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
         second_order=True),
    _row("gelu",
         unary(params=st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})),
         tg.gelu, _gelu_reference, second_order=True),
    _row("erf", unary(low=-2.5, high=2.5), tg.erf, np.vectorize(math.erf, otypes=[float]),
         second_order=True),
    _row("clip", clip_case(), lambda x, lo, hi: x.clip(lo, hi), _clip_reference,
         second_order=True),
    _row("maximum", tie_free_pair(), tg.maximum, np.maximum, second_order=True),
    _row("minimum", tie_free_pair(), tg.minimum, np.minimum, second_order=True),
    _row("where", where_case(), _where, lambda a, b, condition, form: np.where(condition, a, b),
         second_order=True),
]

LINALG = [
    _row("matmul", matmul_operands(), _matmul,
         lambda a, b, use_operator: np.matmul(a, b), second_order=True),
    _row("similarity_logits", similarity_operands(), similarity_logits,
         _similarity_reference, second_order=True, rtol=1e-5, atol=1e-5),
]

REDUCTIONS = [
    _row("sum", reduction(), tg.sum, np.sum, second_order=True),
    _row("mean", reduction(), tg.mean, np.mean, second_order=True),
    _row("max", reduction(tie_free=True), tg.max, np.max, second_order=True),
    _row("min", reduction(tie_free=True), tg.min, np.min, second_order=True),
    _row("var", variance(), tg.var, np.var, second_order=True, atol=1e-5),
    _row("logsumexp", reduction(), tg.logsumexp, _logsumexp_reference, second_order=True),
    _row("softmax", softmax_case(), tg.softmax, _softmax_reference, second_order=True),
    _row("log_softmax", softmax_case(), tg.log_softmax, _log_softmax_reference,
         second_order=True),
    _row("masked_mean", masked_mean_case(), masked_mean, _masked_mean_reference,
         second_order=True),
]

MOVEMENT = [
    _row("reshape", reshape_case(), _reshape, lambda x, shape, form: np.reshape(x, shape),
         second_order=True),
    _row("transpose/permute/T", transpose_case(), _transpose, _transpose_reference,
         second_order=True),
    _row("swapaxes", swapaxes_case(), tg.swapaxes, np.swapaxes, second_order=True),
    _row("expand/broadcast_to", broadcast_case(), _broadcast,
         lambda x, shape, form: np.broadcast_to(x, shape), second_order=True),
    _row("squeeze", squeeze_case(), tg.squeeze, np.squeeze, second_order=True),
    _row("unsqueeze", unsqueeze_case(), tg.unsqueeze, np.expand_dims, second_order=True),
    _row("flatten", flatten_case(), tg.flatten, _flatten_reference, second_order=True),
    _row("concatenate", concatenate_case(), lambda *xs, axis: tg.concatenate(xs, axis=axis),
         lambda *xs, axis: np.concatenate(xs, axis=axis), second_order=True),
    _row("stack", stack_case(), lambda *xs, axis: tg.stack(xs, axis=axis),
         lambda *xs, axis: np.stack(xs, axis=axis), second_order=True),
    _row("split", split_case(), _split, _split_reference, second_order=True),
    _row("pad", pad_case(), lambda x, pad_width, value: tg.pad(x, pad_width, value=value),
         lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value),
         second_order=True),
    _row("index: ints, slices, None, ...", basic_index(), _getitem, _getitem_reference,
         second_order=True),
    _row("index: integer arrays (repeats)", integer_array_index(), _getitem,
         _getitem_reference, second_order=True),
    _row("index: boolean mask", boolean_mask_index(), _getitem, _getitem_reference,
         second_order=True),
]

CONVERSIONS = [
    # float64 -> float32 rounds x + eps: a step of 1e-2 keeps that error near 1e-5 relative,
    # and the map is linear, so the big step costs no accuracy
    _row("cast (float64 <-> float32)", unary(), _cast_round_trip, lambda x: x,
         second_order=True, eps=1e-2),
    _row("to another device and back", unary(), _device_round_trip, lambda x: 2 * x,
         second_order=True),
    _row("scatter_add", scatter_add_case(), _scatter_add, _scatter_add_reference,
         second_order=True),
]

FUSED = [
    _row("linear", linear_case(), linear, lambda x, w, *b: x @ w.T + (b[0] if b else 0.0),
         second_order=True),
    _row("layer_norm", layer_norm_case(), _layer_norm, _layer_norm_reference,
         second_order=True, atol=1e-5),
    _row("l2_normalize", l2_normalize_case(), l2_normalize, _l2_normalize_reference,
         second_order=True),
    _row("softmax_cross_entropy", cross_entropy_case(), softmax_cross_entropy,
         _cross_entropy_reference, second_order=True, atol=1e-5),
    _row("binary_cross_entropy", binary_cross_entropy_case(), binary_cross_entropy,
         _binary_cross_entropy_reference, second_order=True, atol=1e-5),
    _row("squared_error", squared_error_case(), squared_error,
         lambda x, y, scale: scale * ((x - y) ** 2).sum(), second_order=True, atol=1e-5),
    _row("symmetric_cross_entropy", square_logits(), symmetric_cross_entropy,
         _symmetric_cross_entropy_reference, second_order=True),
    _row("embedding", embedding_case(), _embedding, _embedding_reference, second_order=True),
    _row("conv1d", conv1d_case(), _conv1d, _conv1d_reference, second_order=True, atol=1e-5),
    _row("scaled_dot_product_attention", attention_case(), _attention, _attention_reference,
         second_order=True, atol=1e-5),
    _row("packed_self_attention", packed_attention_case(), _packed_attention,
         _packed_attention_reference, second_order=True, atol=1e-5),
    _row("conv2d", conv2d_case(), _conv2d, _conv2d_reference, second_order=True, atol=1e-5),
    _row("conv_transpose2d", conv_transpose2d_case(), _conv_transpose2d,
         _conv_transpose2d_reference, second_order=True, atol=1e-5),
    _row("unfold", unfold_case(), tg.functional.unfold, _unfold_reference, second_order=True),
    _row("fold", fold_case(), tg.functional.fold, _fold_reference, second_order=True,
         atol=1e-5),
    _row("max_pool2d", pool_case(tie_free=True), tg.functional.max_pool2d,
         _max_pool2d_reference, second_order=True),
    _row("avg_pool2d", avg_pool_case(), tg.functional.avg_pool2d, _avg_pool2d_reference,
         second_order=True),
    _row("adaptive_avg_pool2d", resize_case(None), tg.functional.adaptive_avg_pool2d,
         _adaptive_avg_pool2d_reference, second_order=True),
    _row("interpolate nearest", resize_case("nearest"), tg.functional.interpolate,
         _nearest_reference, second_order=True),
    _row("interpolate bilinear", resize_case("bilinear"), tg.functional.interpolate,
         _bilinear_reference, second_order=True),
    _row("pixel_shuffle", pixel_shuffle_case(), tg.functional.pixel_shuffle,
         _pixel_shuffle_reference, second_order=True),
    _row("straight_through", unary(params=st.fixed_dictionaries({
        "shift": st.sampled_from([-0.5, 0.0, 1.25])})), _straight_through,
         lambda z, shift: z + shift, second_order=True),
]

# Their backward runs on raw arrays (backpropagation through time by hand, for speed), so
# gradcheck only: backward(create_graph=True) through them raises DoubleBackwardError.
SEQUENCES = [
    _row(f"{kind} over a sequence", sequence_case(kind), _sequence, _sequence_reference,
         atol=1e-5)
    for kind in SEQUENCE_OPS
]
FIRST_ORDER_ONLY = {
    op: "backpropagation through time written on raw arrays for speed (one op per layer "
        "instead of ~20 per step); for second derivatives loop over the composed cells "
        "(nn.RNNCell / nn.LSTMCell / nn.GRUCell), which gradgradcheck covers"
    for op in SEQUENCE_OPS.values()
}

OPS = ELEMENTWISE + LINALG + REDUCTIONS + MOVEMENT + CONVERSIONS + FUSED + SEQUENCES
SECOND_ORDER_OPS = [spec for spec in OPS if spec.second_order]


def applied_functions(spec, case, dtype=np.float64):
    """The Function subclasses that calling the row's op on ``case`` applies (forward only)."""
    applied = set()
    original = Function.__dict__["apply"]

    def recording(cls, *inputs, **params):
        applied.add(cls)
        return original.__func__(cls, *inputs, **params)

    Function.apply = classmethod(recording)
    try:
        call(spec, case, tensors_of(case, dtype=dtype))
    finally:
        Function.apply = original
    return applied


@functools.cache
def row_functions(spec, examples=10):
    """The Function subclasses applied by ``examples`` cases of the row, drawn
    deterministically (the same cases on every run; no shrinking, no example database)."""
    applied = set()

    @settings(max_examples=examples, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=spec.cases)
    def collect(case):
        applied.update(applied_functions(spec, case))

    collect()
    return frozenset(applied)


def tensors_of(case, dtype=None, requires_grad=True):
    """The case's arrays as tensors on the default device (float32 unless ``dtype``)."""
    return [tg.tensor(a, dtype=dtype, requires_grad=requires_grad) for a in case.arrays]


def call(spec, case, tensors):
    return spec.op(*tensors, **case.params)


def expected(spec, case, arrays_=None):
    return np.asarray(spec.reference(*(arrays_ or case.arrays), **case.params))


# ----- composed activations, functional layers and losses (issue 20) ------------------------
# No new Function: each is a few ops, so these rows check the composition (its forward
# against NumPy, its gradient, and, being made of second-order ops, its second derivative).
F = tg.functional


def _softplus_reference(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


@st.composite
def softplus_case(draw):
    """beta and threshold, with x kept off the switch to the identity at threshold / beta."""
    beta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    threshold = draw(st.sampled_from([20.0, 1.0]))
    x = draw(arrays(draw(shapes()), kinks=[threshold / beta], margin=5e-2))
    return Case((x,), {"beta": beta, "threshold": threshold})


@st.composite
def elu_case(draw):
    alpha = draw(st.sampled_from([1.0, 0.5, 2.0]))
    return Case((draw(arrays(draw(shapes()), kinks=[0.0])),), {"alpha": alpha})


@st.composite
def hardtanh_case(draw):
    low = draw(st.sampled_from([-1.0, -2.0, 0.5]))
    high = low + draw(st.sampled_from([1.0, 2.5]))
    x = draw(arrays(draw(shapes()), kinks=[low, high]))
    return Case((x,), {"min_val": low, "max_val": high})


@st.composite
def glu_case(draw):
    shape = list(draw(shapes(min_dims=1)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    shape[dim] *= 2
    return Case((draw(arrays(tuple(shape))),), {"dim": dim})


def _glu_reference(x, dim):
    a, b = np.split(x, 2, axis=dim)
    return a * special.expit(b)


def _vector_case_params(draw, shape):
    return {"dim": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def normalize_case(draw):
    """Vectors with every entry at least 0.5 from 0: norms well above eps, no kink of |x|."""
    shape = draw(shapes(min_dims=1))
    x = draw(arrays(shape, kinks=[0.0], margin=0.5))
    p = draw(st.sampled_from([1.0, 2.0, 3.0, math.inf]))
    if p == math.inf:  # a tie for the largest |x| (x and -x too) would be a kink of the max
        magnitudes = np.abs(draw(distinct_arrays([shape]))[0])
        magnitudes = magnitudes + np.arange(magnitudes.size).reshape(shape) * 1e-3 + 0.5
        signs = draw(hnp.arrays(np.bool_, shape))
        x = np.where(signs, magnitudes, -magnitudes)
    return Case((x,), {"p": p, **_vector_case_params(draw, shape)})


def _p_norm_reference(x, p, axis, keepdims):
    if p == math.inf:
        return np.abs(x).max(axis=axis, keepdims=keepdims)
    return (np.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


def _normalize_reference(x, p, dim):
    return x / np.maximum(_p_norm_reference(x, p, dim, True), 1e-12)


@st.composite
def cosine_case(draw):
    shape_a, shape_b = draw(broadcastable_shapes(min_dims=1))
    shape = np.broadcast_shapes(shape_a, shape_b)
    x1 = draw(arrays(shape_a, kinks=[0.0], margin=0.5))
    x2 = draw(arrays(shape_b, kinks=[0.0], margin=0.5))
    return Case((x1, x2), _vector_case_params(draw, shape))


def _cosine_reference(x1, x2, dim):
    x1, x2 = np.broadcast_arrays(x1, x2)
    norms = np.linalg.norm(x1, axis=dim) * np.linalg.norm(x2, axis=dim)
    return (x1 * x2).sum(axis=dim) / norms


@st.composite
def pairwise_distance_case(draw):
    """x2 = x1 - d with every |d + eps| at least 0.3: no kink of |.|, no tie for p = inf."""
    shape = draw(shapes(min_dims=1))
    x1 = draw(arrays(shape))
    p = draw(st.sampled_from([1.0, 2.0, 3.0, math.inf]))
    d = draw(distinct_arrays([shape], scale=0.37))[0] if p == math.inf else draw(
        arrays(shape, kinks=[0.0], margin=0.3))
    d = np.where(np.abs(d) < 0.3, 0.3 + np.abs(d), d)
    return Case((x1, x1 - d), {"p": p, "keepdim": draw(st.booleans())})


def _pairwise_distance_reference(x1, x2, p, keepdim):
    return _p_norm_reference(x1 - x2 + 1e-6, p, -1, keepdim)


@st.composite
def functional_pad_case(draw):
    shape = draw(shapes(min_dims=1, min_side=2))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    axes = draw(st.integers(1, len(shape)))
    widths = []
    for size in shape[::-1][:axes]:  # (left, right) of the last axis first
        limit = {"reflect": size - 1, "circular": size}.get(mode, 3)
        widths += [draw(st.integers(0, limit)), draw(st.integers(0, limit))]
    value = draw(st.sampled_from([None, 1.5])) if mode == "constant" else None
    return Case((draw(arrays(shape)),), {"pad": tuple(widths), "mode": mode, "value": value})


def _functional_pad_reference(x, pad, mode, value):
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    if mode == "constant":
        return np.pad(x, widths, constant_values=0.0 if value is None else value)
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge",
                                   "circular": "wrap"}[mode])


@st.composite
def grouped_conv1d_case(draw):
    groups = draw(st.integers(2, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2)), 1
    padding = draw(st.sampled_from([0, 1] + (["same"] if stride == 1 else [])))
    length = draw(st.integers(kernel, kernel + 2))
    parts = [draw(arrays((draw(st.integers(1, 2)), c_in, length))),
             draw(arrays((c_out, c_in // groups, kernel)))]
    if draw(st.booleans()):
        parts.append(draw(arrays((c_out,))))
    return Case(tuple(parts), {"stride": stride, "padding": padding, "dilation": dilation,
                               "groups": groups})


def _grouped_conv1d_reference(x, w, *bias, stride, padding, dilation, groups):
    """Each group of input channels convolved with its own block of filters, then joined."""
    xs = np.split(x, groups, axis=1)
    ws = np.split(w, groups, axis=0)
    bs = np.split(bias[0], groups) if bias else [()] * groups
    return np.concatenate([_conv1d_reference(xg, wg, *((bg,) if bias else ()), stride=stride,
                                             padding=padding, dilation=dilation)
                           for xg, wg, bg in zip(xs, ws, bs)], axis=1)


@st.composite
def batch_norm_case(draw):
    """Training-mode batch_norm without running statistics: a function of x, weight, bias."""
    n, c = draw(st.integers(2, 3)), draw(st.integers(1, 3))
    extra = draw(st.sampled_from([(), (2,), (2, 2)]))
    parts = [draw(arrays((n, c) + extra))]
    # a channel of (nearly) equal values: float32 rounding of its mean, divided by
    # sqrt(eps), is all the output has; keep the test about the formula
    assume(np.all(parts[0].var(axis=(0,) + tuple(range(2, parts[0].ndim))) > 0.05))
    affine = draw(st.booleans())
    if affine:
        parts += [draw(arrays((c,), 0.5, 2.0)), draw(arrays((c,)))]
    return Case(tuple(parts), {})


def _batch_norm(x, *affine):
    return F.batch_norm(x, None, None, *affine, training=True)


def _batch_norm_reference(x, *affine):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    if affine:
        y = y * affine[0].reshape(shape) + affine[1].reshape(shape)
    return y


COMPOSED = [
    _row("silu", unary(), F.silu, lambda x: x * special.expit(x), second_order=True),
    _row("elu", elu_case(), F.elu,
         lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)), second_order=True),
    _row("selu", unary(kinks=[0.0]), F.selu,
         lambda x: F.SELU_SCALE * np.where(x > 0, x, F.SELU_ALPHA * np.expm1(x)),
         second_order=True),
    _row("softplus", softplus_case(), F.softplus, _softplus_reference, second_order=True),
    _row("mish", unary(), F.mish, lambda x: x * np.tanh(np.logaddexp(0.0, x)),
         second_order=True),
    _row("hardtanh", hardtanh_case(), F.hardtanh,
         lambda x, min_val, max_val: np.clip(x, min_val, max_val), second_order=True),
    _row("softsign", unary(kinks=[0.0]), F.softsign, lambda x: x / (1 + np.abs(x)),
         second_order=True),
    _row("logsigmoid", unary(low=-6.0, high=6.0), F.logsigmoid,
         lambda x: -np.logaddexp(0.0, -x), second_order=True),
    _row("glu", glu_case(), F.glu, _glu_reference, second_order=True),
    _row("normalize", normalize_case(), F.normalize, _normalize_reference, second_order=True),
    _row("cosine_similarity", cosine_case(), F.cosine_similarity, _cosine_reference,
         second_order=True),
    _row("pairwise_distance", pairwise_distance_case(), F.pairwise_distance,
         _pairwise_distance_reference, second_order=True, atol=1e-5),
    _row("F.pad (constant, reflect, replicate, circular)", functional_pad_case(), F.pad,
         _functional_pad_reference, second_order=True),
    _row("conv1d (groups)", grouped_conv1d_case(), F.conv1d, _grouped_conv1d_reference,
         second_order=True, atol=1e-5),
    _row("batch_norm (training)", batch_norm_case(), _batch_norm, _batch_norm_reference,
         second_order=True, atol=1e-5),
]
OPS = OPS + COMPOSED
SECOND_ORDER_OPS = [spec for spec in OPS if spec.second_order]


# ----- the losses added in issue 20 (targets are params; the inputs are differentiated) --------
def _reduced(loss, reduction):
    return {"none": loss, "sum": np.sum(loss), "mean": np.mean(loss)}[reduction]


REDUCTION_NAMES = st.sampled_from(["none", "mean", "sum"])


@st.composite
def robust_regression_case(draw, what):
    """x and a target x - d with |d| off 0 and off the switch at ``beta``/``delta``."""
    shape = draw(shapes())
    knee = draw(st.sampled_from([0.5, 1.0, 2.0]))
    d = draw(arrays(shape, kinks=[-knee, 0.0, knee], margin=5e-2))
    x = draw(arrays(shape))
    return Case((x,), {"target": x - d, "reduction": draw(REDUCTION_NAMES), what: knee})


def _smooth_l1_reference(x, target, reduction, beta):
    d = np.abs(x - target)
    return _reduced(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def _huber_reference(x, target, reduction, delta):
    d = np.abs(x - target)
    return _reduced(np.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def _signs(draw, shape):
    return np.where(draw(hnp.arrays(np.bool_, shape)), 1.0, -1.0)


@st.composite
def hinge_embedding_case(draw):
    shape = draw(shapes())
    margin = draw(st.sampled_from([1.0, 0.5]))
    x = draw(arrays(shape, kinks=[margin]))
    return Case((x,), {"target": _signs(draw, shape), "margin": margin,
                       "reduction": draw(REDUCTION_NAMES)})


def _hinge_embedding_reference(x, target, margin, reduction):
    return _reduced(np.where(target > 0, x, np.maximum(0.0, margin - x)), reduction)


@st.composite
def margin_ranking_case(draw):
    shape = draw(shapes())
    margin = draw(st.sampled_from([0.0, 0.5]))
    y = _signs(draw, shape)
    x1 = draw(arrays(shape))
    gap = draw(arrays(shape, kinks=[0.0]))  # -y (x1 - x2) + margin = gap, kept off 0
    x2 = x1 + (gap - margin) / y
    return Case((x1, x2), {"target": y, "margin": margin, "reduction": draw(REDUCTION_NAMES)})


def _margin_ranking_reference(x1, x2, target, margin, reduction):
    return _reduced(np.maximum(0.0, -target * (x1 - x2) + margin), reduction)


def _cos_rows(x1, x2):
    return (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))


@st.composite
def cosine_embedding_case(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (3, 2)]))
    x1 = draw(arrays(shape, kinks=[0.0], margin=0.3))
    x2 = draw(arrays(shape, kinks=[0.0], margin=0.3))
    margin = draw(st.sampled_from([0.0, 0.5, -0.5]))
    assume(np.all(np.abs(_cos_rows(x1, x2) - margin) > 0.05))
    return Case((x1, x2), {"target": _signs(draw, shape[:-1]), "margin": margin,
                           "reduction": draw(REDUCTION_NAMES)})


def _cosine_embedding_reference(x1, x2, target, margin, reduction):
    cos = _cos_rows(x1, x2)
    return _reduced(np.where(target > 0, 1 - cos, np.maximum(0.0, cos - margin)), reduction)


@st.composite
def triplet_case(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (3, 2)]))
    anchor = draw(arrays(shape))
    positive = anchor + draw(arrays(shape, kinks=[0.0], margin=0.3))
    negative = anchor + draw(arrays(shape, kinks=[0.0], margin=0.3))
    p, margin = draw(st.sampled_from([1.0, 2.0])), draw(st.sampled_from([1.0, 0.2]))
    swap = draw(st.booleans())
    if swap:
        assume(np.all(np.abs(positive - negative) > 0.1))
    params = {"margin": margin, "p": p, "swap": swap, "reduction": draw(REDUCTION_NAMES)}
    gap = _triplet_pointwise(anchor, positive, negative, margin, p, swap, relu=False)
    ties = np.abs(_distance(anchor, negative, p) - _distance(positive, negative, p))
    assume(np.all(np.abs(gap) > 0.05) and (not swap or np.all(ties > 0.05)))
    return Case((anchor, positive, negative), params)


def _distance(a, b, p):
    return (np.abs(a - b + 1e-6) ** p).sum(-1) ** (1 / p)


def _triplet_pointwise(a, pos, neg, margin, p, swap, relu=True):
    to_negative = _distance(a, neg, p)
    if swap:
        to_negative = np.minimum(to_negative, _distance(pos, neg, p))
    gap = _distance(a, pos, p) - to_negative + margin
    return np.maximum(gap, 0.0) if relu else gap


def _triplet_reference(a, pos, neg, margin, p, swap, reduction):
    return _reduced(_triplet_pointwise(a, pos, neg, margin, p, swap), reduction)


@st.composite
def poisson_case(draw):
    shape = draw(shapes())
    log_input = draw(st.booleans())
    x = draw(arrays(shape, -2.0, 2.0)) if log_input else draw(arrays(shape, 0.2, 3.0))
    counts = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 5))).astype(np.float64)
    return Case((x,), {"target": counts, "log_input": log_input, "full": draw(st.booleans()),
                       "reduction": draw(REDUCTION_NAMES)})


def _poisson_reference(x, target, log_input, full, reduction):
    loss = np.exp(x) - target * x if log_input else x - target * np.log(x + 1e-8)
    if full:
        safe = np.maximum(target, 1.0)
        loss = loss + np.where(target > 1, safe * np.log(safe) - safe
                               + 0.5 * np.log(2 * np.pi * safe), 0.0)
    return _reduced(loss, reduction)


@st.composite
def gaussian_nll_case(draw):
    shape = draw(shapes(min_dims=1))
    form = draw(st.sampled_from(["same", "last axis 1", "last axis dropped"]))
    var_shape = {"same": shape, "last axis 1": shape[:-1] + (1,),
                 "last axis dropped": shape[:-1]}[form]
    return Case((draw(arrays(shape)), draw(arrays(var_shape, 0.2, 3.0))),
                {"target": draw(arrays(shape)), "full": draw(st.booleans()),
                 "reduction": draw(REDUCTION_NAMES)})


def _gaussian_nll(x, var, target, full, reduction):
    return F.gaussian_nll_loss(x, target, var, full=full, reduction=reduction)


def _gaussian_nll_reference(x, var, target, full, reduction):
    if var.shape != x.shape and var.shape == x.shape[:-1]:
        var = var[..., None]
    loss = 0.5 * (np.log(var) + (x - target) ** 2 / var) + (0.5 * np.log(2 * np.pi) if full
                                                           else 0.0)
    return _reduced(loss, reduction)


LOSSES = [
    _row("smooth_l1_loss", robust_regression_case("beta"), F.smooth_l1_loss,
         _smooth_l1_reference, second_order=True, atol=1e-5),
    _row("huber_loss", robust_regression_case("delta"), F.huber_loss, _huber_reference,
         second_order=True, atol=1e-5),
    _row("hinge_embedding_loss", hinge_embedding_case(), F.hinge_embedding_loss,
         _hinge_embedding_reference, second_order=True, atol=1e-5),
    _row("margin_ranking_loss", margin_ranking_case(), F.margin_ranking_loss,
         _margin_ranking_reference, second_order=True, atol=1e-5),
    _row("cosine_embedding_loss", cosine_embedding_case(), F.cosine_embedding_loss,
         _cosine_embedding_reference, second_order=True, atol=1e-5),
    _row("triplet_margin_loss", triplet_case(), F.triplet_margin_loss, _triplet_reference,
         second_order=True, atol=1e-5),
    _row("poisson_nll_loss", poisson_case(), F.poisson_nll_loss, _poisson_reference,
         second_order=True, atol=1e-5),
    _row("gaussian_nll_loss", gaussian_nll_case(), _gaussian_nll, _gaussian_nll_reference,
         second_order=True, atol=1e-5),
]
OPS = OPS + LOSSES
SECOND_ORDER_OPS = [spec for spec in OPS if spec.second_order]


# ----- issue 20: the names a PyTorch user reaches for (math, scans, indexing, rearranging) --
@st.composite
def atan2_case(draw):
    """a kept 0.3 off 0: atan2 jumps by 2 pi across a = 0 for b < 0 (its branch cut), and
    the origin has no derivative."""
    shape_a, shape_b = draw(broadcastable_shapes())
    return Case((draw(arrays(shape_a, kinks=[0.0], margin=0.3)), draw(arrays(shape_b))))


ROUNDING_KINDS = ["floor", "ceil", "round", "trunc", "sign"]


@st.composite
def rounding_case(draw):
    """Values 1e-2 off every integer and half-integer (floor, ceil, trunc and sign jump at
    integers, round at halves): the function is flat around each one, so its derivative
    0 matches finite differences."""
    kinks = [k / 2 for k in range(-6, 7)]
    x = draw(arrays(draw(shapes()), kinks=kinks))
    return Case((x,), {"kind": draw(st.sampled_from(ROUNDING_KINDS))})


def _rounding(x, kind):
    return getattr(tg, kind)(x)


def _rounding_reference(x, kind):
    return {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc,
            "sign": np.sign}[kind](x)


LOG_FORMS = {"log2": np.log2, "log10": np.log10, "rsqrt": lambda x: 1 / np.sqrt(x),
             "reciprocal": np.reciprocal}


@st.composite
def clamp_case(draw):
    """x, lower and upper bound tensors of broadcastable shapes, all values distinct (x is
    never at a bound, where clamp's derivative jumps); sometimes lower > upper."""
    shapes_ = draw(broadcastable_shapes(num_shapes=3))
    which = draw(st.sampled_from(["both", "min", "max", "number max"]))
    arrays_ = draw(distinct_arrays(list(shapes_) if which == "both" else list(shapes_[:2])))
    return Case(tuple(arrays_), {"which": which})


def _clamp(x, *bounds, which):
    if which == "min":
        return tg.clamp(x, min=bounds[0])
    if which == "max":
        return x.clamp(max=bounds[0])
    if which == "number max":
        return tg.clamp(x, bounds[0], 0.35)
    return x.clamp(*bounds)


def _clamp_reference(x, *bounds, which):
    if which == "min":
        return np.maximum(x, bounds[0])
    if which == "max":
        return np.minimum(x, bounds[0])
    if which == "number max":
        return np.minimum(np.maximum(x, bounds[0]), 0.35)
    return np.minimum(np.maximum(x, bounds[0]), bounds[1])


@st.composite
def lerp_case(draw):
    shapes_ = draw(broadcastable_shapes(num_shapes=3))
    return Case(tuple(draw(arrays(shape)) for shape in shapes_))


# einsum: one subscript string per form the issue names, plus NumPy's other forms
EINSUM_FORMS = {
    "matmul": ("ij,jk->ik", lambda m, n, p: [(m, n), (n, p)]),
    "batch matmul": ("bij,bjk->bik", lambda m, n, p: [(2, m, n), (2, n, p)]),
    "outer": ("i,j->ij", lambda m, n, p: [(m,), (n,)]),
    "trace": ("ii->", lambda m, n, p: [(n, n)]),
    "diagonal": ("ii->i", lambda m, n, p: [(n, n)]),
    "3 operands": ("ij,jk,kl->il", lambda m, n, p: [(m, n), (n, p), (p, m)]),
    "sum inside one operand": ("ij,j->", lambda m, n, p: [(m, n), (n,)]),
    "implicit output": ("ij,jk", lambda m, n, p: [(m, n), (n, p)]),
    "ellipsis, broadcast": ("...ij,...jk->...ik", lambda m, n, p: [(2, 1, m, n), (3, n, p)]),
    "transpose": ("ij->ji", lambda m, n, p: [(m, n)]),
}


@st.composite
def einsum_case(draw):
    form = draw(st.sampled_from(sorted(EINSUM_FORMS)))
    subscripts, shapes_of = EINSUM_FORMS[form]
    sizes = draw(st.tuples(*[st.integers(1, 3)] * 3))
    return Case(tuple(draw(arrays(shape)) for shape in shapes_of(*sizes)),
                {"subscripts": subscripts})


def _einsum(*xs, subscripts):
    return tg.einsum(subscripts, *xs)


def _einsum_reference(*xs, subscripts):
    return np.einsum(subscripts, *xs)


@st.composite
def with_zeros(draw, case_strategy):
    """A case whose first array has some elements set to exactly 0 (prod and cumprod are
    linear in each element, so finite differences stay exact at 0)."""
    case = draw(case_strategy)
    x = case.arrays[0].copy()
    zeros_at = draw(hnp.arrays(bool, x.shape, elements=st.sampled_from([False, False, True])))
    # tiny values become 0 too: y / x at x = 1e-300 would overflow in the second derivative
    x[zeros_at | (np.abs(x) < 1e-3)] = 0.0
    return Case((x,) + case.arrays[1:], case.params)


@st.composite
def scan_case(draw):
    shape = draw(shapes())
    axis = draw(st.one_of(st.none(), st.integers(-max(len(shape), 1), max(len(shape), 1) - 1)))
    return Case((draw(arrays(shape, -2.0, 2.0)),), {"axis": axis})


def _scan_reference(function):
    def reference(x, axis):
        return function(x, axis=axis) if x.ndim or axis is None else x
    return reference


@st.composite
def std_case(draw):
    """Distinct values and at least 2 reduced elements, so the variance is never 0 (where
    the square root has no derivative)."""
    shape = draw(shapes(min_dims=1, min_side=2))
    x = draw(distinct_arrays([shape]))[0]
    axis = draw(reduction_axes(len(shape), allow_empty=False))
    form = draw(st.sampled_from(["ddof=0", "ddof=1", "correction=1", "unbiased=False"]))
    return Case((x,), {"axis": axis, "keepdims": draw(st.booleans()), "form": form})


def _std(x, axis, keepdims, form):
    name, value = form.split("=")
    value = {"False": False, "True": True}.get(value, value)
    return x.std(axis=axis, keepdim=keepdims, **{name: int(value) if name != "unbiased"
                                                  else value})


def _std_reference(x, axis, keepdims, form):
    return np.std(x, axis=axis, keepdims=keepdims, ddof=1 if form in ("ddof=1",
                                                                      "correction=1") else 0)


@st.composite
def norm_case(draw):
    """Magnitudes distinct and at least 0.1 (no ties for ord=inf, no kink of |x| at 0)."""
    shape = draw(shapes(min_dims=1))
    size = int(np.prod(shape))
    ranks = np.array(draw(st.permutations(range(size)))).reshape(shape)
    magnitudes = 0.1 + 0.1 * ranks  # distinct, >= 0.1
    signs = draw(hnp.arrays(bool, shape)).astype(float) * 2 - 1
    ord_ = draw(st.sampled_from([1, 2, math.inf, -math.inf, "fro", 3]))
    axis = draw(reduction_axes(len(shape), allow_empty=False))
    return Case((signs * magnitudes,), {"ord": ord_, "axis": axis,
                                        "keepdims": draw(st.booleans())})


def _norm(x, ord, axis, keepdims):
    return tg.norm(x, p=ord, dim=axis, keepdims=keepdims)


def _norm_reference(x, ord, axis, keepdims):
    magnitude = np.abs(x)
    if ord == math.inf:
        return magnitude.max(axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return magnitude.min(axis=axis, keepdims=keepdims)
    p = 2 if ord == "fro" else ord
    return (magnitude ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


@st.composite
def gather_case(draw):
    """x (1 to 3 dims), an axis, and an index no larger than x outside the axis (any length
    along it, repeats and negative positions included)."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if a == axis else draw(st.integers(1, size))
                        for a, size in enumerate(shape))
    n = shape[axis]
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-n, n - 1)))
    return Case((draw(arrays(shape)),), {"axis": axis, "index": index,
                                         "form": draw(st.sampled_from(["function", "method"]))})


def _gather(x, axis, index, form):
    index = tg.tensor(index)
    return tg.gather(x, axis, index) if form == "function" else x.gather(axis, index)


def _block(x, shape, axis=None):
    """x's leading block of ``shape`` (every axis but ``axis`` cut)."""
    return x[tuple(slice(None) if a == axis else slice(0, n) for a, n in enumerate(shape))]


def _gather_reference(x, axis, index, form):
    return np.take_along_axis(_block(x, index.shape, axis), index, axis=axis)


@st.composite
def scatter_case(draw, unique):
    """x, src, an axis and an index (positions unique along the axis for scatter)."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    index_shape = tuple(draw(st.integers(1, n if unique else 4)) if a == axis
                        else draw(st.integers(1, size)) for a, size in enumerate(shape))
    if unique:  # each line along the axis: distinct positions (a prefix of a permutation)
        keys = draw(hnp.arrays(np.float64, index_shape[:axis] + (n,) + index_shape[axis + 1:],
                               elements=st.floats(0, 1)))
        index = np.argsort(keys, axis=axis, kind="stable")
        index = np.take(index, np.arange(index_shape[axis]), axis=axis)
    else:
        index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-n, n - 1)))
    src_shape = tuple(i + draw(st.integers(0, 1)) for i in index_shape)
    return Case((draw(arrays(shape)), draw(arrays(src_shape))), {"axis": axis, "index": index})


def _scatter_add(x, src, axis, index):
    return tg.scatter_add(x, axis, tg.tensor(index), src)


def _scatter_add_along_reference(x, src, axis, index):
    out = x.copy()
    positions = [np.arange(n).reshape([-1 if a == b else 1 for b in range(index.ndim)])
                 for a, n in enumerate(index.shape)]
    positions[axis] = index
    np.add.at(out, tuple(positions), _block(src, index.shape))
    return out


def _scatter(x, src, axis, index):
    return x.scatter(axis, tg.tensor(index), src)


def _scatter_reference(x, src, axis, index):
    out = x.copy()
    positions = [np.arange(n).reshape([-1 if a == b else 1 for b in range(index.ndim)])
                 for a, n in enumerate(index.shape)]
    positions[axis] = index
    out[tuple(positions)] = _block(src, index.shape)
    return out


@st.composite
def index_select_case(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    index = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
    return Case((draw(arrays(shape)),), {"axis": axis, "index": index})


@st.composite
def masked_fill_case(draw):
    shape, mask_shape = draw(broadcastable_shapes())
    shape = np.broadcast_shapes(shape, mask_shape)  # the mask broadcasts to x
    mask = draw(arrays(mask_shape)) > 0
    value = draw(st.sampled_from([0.0, -1.5, 4.0]))
    return Case((draw(arrays(shape)),), {"mask": mask, "value": value})


@st.composite
def sort_case(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    form = draw(st.sampled_from(["sort", "sort descending", "topk", "topk smallest"]))
    k = draw(st.integers(0, shape[axis]))
    return Case((draw(distinct_arrays([shape]))[0],), {"axis": axis, "form": form, "k": k})


def _sort(x, axis, form, k):
    if form.startswith("sort"):
        return tg.sort(x, dim=axis, descending=form.endswith("descending")).values
    return x.topk(k, dim=axis, largest=form == "topk").values


def _sort_reference(x, axis, form, k):
    ascending = np.sort(x, axis=axis)
    if form == "sort":
        return ascending
    descending = np.flip(ascending, axis=axis)
    if form == "sort descending":
        return descending
    chosen = descending if form == "topk" else ascending
    return np.take(chosen, np.arange(k), axis=axis)


@st.composite
def triangle_case(draw):
    shape = draw(shapes(min_dims=2, max_side=4))
    form = draw(st.sampled_from(["tril", "triu", "diagonal"]))
    offset = draw(st.integers(-3, 3))
    axes = draw(st.permutations(range(len(shape))))[:2]
    return Case((draw(arrays(shape)),), {"form": form, "offset": offset, "axes": tuple(axes)})


def _triangle(x, form, offset, axes):
    if form == "diagonal":
        return x.diagonal(offset, *axes)
    return getattr(tg, form)(x, offset)


def _triangle_reference(x, form, offset, axes):
    if form == "diagonal":
        return np.diagonal(x, offset, *axes)
    return getattr(np, form)(x, offset)


@st.composite
def repeat_case(draw):
    """flip, roll, tile, x.repeat and repeat_interleave on an array of 1 to 3 dims."""
    shape = draw(shapes(min_dims=1))
    ndim = len(shape)
    form = draw(st.sampled_from(["flip", "roll", "roll all", "tile", "repeat",
                                 "repeat_interleave", "repeat_interleave counts"]))
    axis = draw(st.integers(-ndim, ndim - 1))
    params = {"form": form, "axis": axis}
    if form == "roll":
        params["amount"] = draw(st.integers(-4, 4))
    elif form == "roll all":
        params["amount"] = draw(st.integers(-7, 7))
    elif form in ("tile", "repeat"):
        params["amount"] = tuple(draw(st.lists(st.integers(1, 2), min_size=ndim if form ==
                                               "repeat" else 1, max_size=ndim + 1)))
    elif form == "repeat_interleave":
        params["amount"] = draw(st.integers(0, 3))
    elif form == "repeat_interleave counts":
        params["amount"] = tuple(draw(st.lists(st.integers(0, 3), min_size=shape[axis],
                                               max_size=shape[axis])))
    return Case((draw(arrays(shape)),), params)


def _repeat(x, form, axis, amount=None):
    if form == "flip":
        return x.flip(dims=(axis,))
    if form == "roll":
        return x.roll(shifts=amount, dims=axis)
    if form == "roll all":
        return tg.roll(x, amount)
    if form == "tile":
        return tg.tile(x, amount)
    if form == "repeat":
        return x.repeat(*amount)
    if form == "repeat_interleave":
        return x.repeat_interleave(amount, dim=axis)
    return tg.repeat_interleave(x, list(amount), axis=axis)


def _repeat_reference(x, form, axis, amount=None):
    if form == "flip":
        return np.flip(x, axis)
    if form in ("roll", "roll all"):
        return np.roll(x, amount, axis if form == "roll" else None)
    if form in ("tile", "repeat"):
        return np.tile(x, amount)
    return np.repeat(x, amount, axis=axis)


@st.composite
def rearrange_case(draw):
    """moveaxis, narrow, unflatten, chunk, split_size, unbind, transpose(a, b) and mT."""
    shape = draw(shapes(min_dims=1, max_side=4))
    ndim = len(shape)
    form = draw(st.sampled_from(["movedim", "narrow", "unflatten", "chunk", "split_size",
                                 "unbind", "transpose(a, b)", "mT"][:8 if ndim >= 2 else 7]))
    axis = draw(st.integers(-ndim, ndim - 1))
    n = shape[axis]
    params = {"form": form, "axis": axis}
    if form == "movedim":
        params["other"] = draw(st.integers(-ndim, ndim - 1))
    elif form == "transpose(a, b)":
        params["other"] = draw(st.integers(-ndim, ndim - 1))
    elif form == "narrow":
        start = draw(st.integers(0, n))
        params["other"] = (start, draw(st.integers(0, n - start)))
    elif form == "unflatten":
        params["other"] = draw(st.sampled_from([(1, n), (n, 1), (-1, 1), (1, -1, 1)]))
    elif form in ("chunk", "split_size"):
        params["other"] = draw(st.integers(1, 5))
    return Case((draw(arrays(shape)),), params)


def _joined(pieces, axis):
    """Pieces joined back along ``axis``, each scaled by its position (a gradient sent to
    the wrong piece shows up)."""
    return tg.concatenate([piece * (k + 1) for k, piece in enumerate(pieces)], axis=axis)


def _rearrange(x, form, axis, other=None):
    if form == "movedim":
        return x.movedim(axis, other)
    if form == "transpose(a, b)":
        return x.transpose(axis, other)
    if form == "mT":
        return x.mT
    if form == "narrow":
        return x.narrow(axis, *other)
    if form == "unflatten":
        return x.unflatten(axis, other)
    if form == "chunk":
        return _joined(x.chunk(other, dim=axis), axis)
    if form == "split_size":
        return _joined(tg.split(x, split_size=other, dim=axis), axis)
    return tg.stack([t * (k + 1) for k, t in enumerate(tg.unbind(x, axis))], axis=axis)


def _rearrange_reference(x, form, axis, other=None):
    n = x.shape[axis]
    if form == "movedim":
        return np.moveaxis(x, axis, other)
    if form == "transpose(a, b)":
        return np.swapaxes(x, axis, other)
    if form == "mT":
        return np.swapaxes(x, -1, -2)
    if form == "narrow":
        return np.take(x, np.arange(other[0], other[0] + other[1]), axis=axis)
    if form == "unflatten":
        sizes = tuple(n if s == -1 else s for s in other)
        axis %= x.ndim
        return x.reshape(x.shape[:axis] + sizes + x.shape[axis + 1:])
    if form == "unbind":
        pieces = np.split(x, n, axis=axis)
    else:
        size = -(-n // other) if form == "chunk" else other
        pieces = np.split(x, list(range(size, n, size)), axis=axis)
    return np.concatenate([p * (k + 1) for k, p in enumerate(pieces)], axis=axis)


TENSOR_API = [
    _row("sin", unary(), tg.sin, np.sin, second_order=True),
    _row("cos", unary(), lambda x: x.cos(), np.cos, second_order=True),
    _row("tan", unary(low=-1.3, high=1.3), tg.tan, np.tan, second_order=True),
    _row("sinh", unary(), tg.sinh, np.sinh, second_order=True),
    _row("cosh", unary(), lambda x: x.cosh(), np.cosh, second_order=True),
    _row("atan2", atan2_case(), tg.atan2, np.arctan2, second_order=True),
    _row("expm1", unary(), tg.expm1, np.expm1, second_order=True),
    _row("log1p", unary(low=-0.8, high=3.0), lambda x: x.log1p(), np.log1p, second_order=True),
    _row("log2/log10/rsqrt/reciprocal",
         unary(low=0.2, high=3.0, params=st.fixed_dictionaries({
             "form": st.sampled_from(sorted(LOG_FORMS))})),
         lambda x, form: getattr(x, form)(), lambda x, form: LOG_FORMS[form](x),
         second_order=True),
    _row("floor/ceil/round/trunc/sign (zero gradient)", rounding_case(), _rounding,
         _rounding_reference, second_order=True),
    _row("clamp (tensor bounds)", clamp_case(), _clamp, _clamp_reference, second_order=True),
    _row("lerp", lerp_case(), tg.lerp, lambda a, b, w: a + w * (b - a), second_order=True),
    _row("hypot", atan2_case(), tg.hypot, np.hypot, second_order=True),
    _row("einsum", einsum_case(), _einsum, _einsum_reference, second_order=True, atol=1e-5),
    _row("prod (zeros included)", with_zeros(reduction()), tg.prod, np.prod,
         second_order=True),
    _row("cumsum", scan_case(), lambda x, axis: x.cumsum(dim=axis), _scan_reference(np.cumsum),
         second_order=True),
    _row("cumprod (zeros included)", with_zeros(scan_case()), tg.cumprod,
         _scan_reference(np.cumprod), second_order=True),
    _row("std", std_case(), _std, _std_reference, second_order=True, atol=1e-5),
    _row("norm", norm_case(), _norm, _norm_reference, second_order=True, atol=1e-5),
    _row("gather", gather_case(), _gather, _gather_reference, second_order=True),
    _row("scatter_add", scatter_case(unique=False), _scatter_add, _scatter_add_along_reference,
         second_order=True),
    _row("scatter", scatter_case(unique=True), _scatter, _scatter_reference, second_order=True),
    _row("index_select", index_select_case(),
         lambda x, axis, index: x.index_select(axis, tg.tensor(index)),
         lambda x, axis, index: np.take(x, index, axis=axis), second_order=True),
    _row("masked_fill", masked_fill_case(),
         lambda x, mask, value: x.masked_fill(tg.tensor(mask), value),
         lambda x, mask, value: np.where(mask, value, x), second_order=True),
    _row("sort/topk values", sort_case(), _sort, _sort_reference, second_order=True),
    _row("tril/triu/diagonal", triangle_case(), _triangle, _triangle_reference,
         second_order=True),
    _row("flip/roll/tile/repeat/repeat_interleave", repeat_case(), _repeat, _repeat_reference,
         second_order=True),
    _row("movedim/narrow/unflatten/chunk/split_size/unbind/transpose(a, b)/mT",
         rearrange_case(), _rearrange, _rearrange_reference, second_order=True),
]
OPS = OPS + TENSOR_API
SECOND_ORDER_OPS = [spec for spec in OPS if spec.second_order]

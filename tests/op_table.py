"""One table of every differentiable op; three test files run every row of it.

Each row (an ``OpSpec``) says how to draw inputs for the op (a hypothesis strategy of
``Case``), how to call it on tensors (``op``), and what NumPy computes for the same inputs
(``reference``). Then

- test_ops_gradients.py  gradcheck: backward vs central finite differences, float64;
- test_ops_forward.py    forward vs the NumPy reference, in float32, and dtypes stay float32;
- test_ops_gradgrad.py   gradgradcheck for the rows marked ``second_order``.

Adding an op to the engine means adding a row here, and it gets all three tests.

A ``Case`` holds the differentiable inputs (float64 host arrays: gradcheck differentiates
these) and the params that are not differentiated (axes, constants, conditions, indices).
``op(*tensors, **params)`` and ``reference(*arrays, **params)`` receive the same params.
"""

import math
import operator
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st
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
    if form == "transpose":
        return x.transpose(*axes)
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
    pieces = tg.split(x, sections, axis=axis)
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
    _row("reshape", reshape_case(), _reshape, lambda x, shape, form: np.reshape(x, shape)),
    _row("transpose/permute/T", transpose_case(), _transpose, _transpose_reference),
    _row("swapaxes", swapaxes_case(), tg.swapaxes, np.swapaxes),
    _row("expand/broadcast_to", broadcast_case(), _broadcast,
         lambda x, shape, form: np.broadcast_to(x, shape)),
    _row("squeeze", squeeze_case(), tg.squeeze, np.squeeze),
    _row("unsqueeze", unsqueeze_case(), tg.unsqueeze, np.expand_dims),
    _row("flatten", flatten_case(), tg.flatten, _flatten_reference),
    _row("concatenate", concatenate_case(), lambda *xs, axis: tg.concatenate(xs, axis=axis),
         lambda *xs, axis: np.concatenate(xs, axis=axis)),
    _row("stack", stack_case(), lambda *xs, axis: tg.stack(xs, axis=axis),
         lambda *xs, axis: np.stack(xs, axis=axis)),
    _row("split", split_case(), _split, _split_reference),
    _row("pad", pad_case(), lambda x, pad_width, value: tg.pad(x, pad_width, value=value),
         lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value)),
    _row("index: ints, slices, None, ...", basic_index(), _getitem, _getitem_reference),
    _row("index: integer arrays (repeats)", integer_array_index(), _getitem,
         _getitem_reference),
    _row("index: boolean mask", boolean_mask_index(), _getitem, _getitem_reference),
]

OPS = ELEMENTWISE + LINALG + REDUCTIONS + MOVEMENT
SECOND_ORDER_OPS = [spec for spec in OPS if spec.second_order]


def tensors_of(case, dtype=None, requires_grad=True):
    """The case's arrays as tensors on the default device (float32 unless ``dtype``)."""
    return [tg.tensor(a, dtype=dtype, requires_grad=requires_grad) for a in case.arrays]


def call(spec, case, tensors):
    return spec.op(*tensors, **case.params)


def expected(spec, case, arrays_=None):
    return np.asarray(spec.reference(*(arrays_ or case.arrays), **case.params))

"""Scaled dot-product attention.  Twins: ``attention_composed`` and
``packed_self_attention_composed``; fused op: ``ScaledDotProductAttention``.

    scores   S  = Q K^T * scale + B         scale = 1 / sqrt(d_k) unless given
    weights  P  = softmax(S) over the keys   (a row whose keys are all masked gets P = 0)
    dropout  P~ = P * M / (1 - p)            M ~ Bernoulli(1 - p); only when dropout_p > 0
    output   O  = P~ V

Shapes: Q (..., L, d_k), K (..., S, d_k), V (..., S, d_v) -> O (..., L, d_v). The batch axes
"..." broadcast: (N, H) for N sequences of H heads each. B, the mask, broadcasts to
(..., L, S): 0 where query i may look at key j, -inf where it may not, or any float bias.

Why the scale: if the entries of q and k are independent with mean 0 and variance 1, the
score q.k is a sum of d_k such products, so its variance is d_k. Unscaled scores grow like
sqrt(d_k), the softmax saturates towards one-hot and its gradient vanishes
(demos/attention_scaling.py measures it). Dividing by sqrt(d_k) keeps the variance at 1.

Backward, with G = dL/dO, reusing the saved P (no second softmax):
    dV = P~^T G
    dP = (G V^T) * M / (1 - p)
    dS = P * (dP - rowsum(dP * P))                  the softmax backward, row by row;
                                                    rowsum(dP * P) = rowsum(G * O), cheaper
    dQ = dS K * scale,     dK = dS^T Q * scale,     dB = dS
(each summed over batch axes that were broadcast).

Masks follow torch.nn.functional.scaled_dot_product_attention (PyTorch 2.x):
    attn_mask bool    True = the key TAKES PART in attention; False -> -inf
    attn_mask float   added to the scores (a learnable bias gets its gradient dS)
    is_causal=True    query i sees keys j <= i (lower triangle of an L x S matrix); it cannot
                      be combined with attn_mask (PyTorch raises too)
A row with every key masked gives weights 0 and output 0, as PyTorch's F.sdpa does (softmax
of all -inf would be NaN, and one NaN there would poison every gradient).
nn.MultiheadAttention uses the opposite convention for its masks (True = NOT allowed);
it converts them before calling this function.

Multi-head self-attention (``packed_self_attention``) runs the same op on the layer's one
projection X W_in^T + b, (N, L, 3E): the op views it as Q, K, V split into H heads of
d = E / H columns, (N, H, L, d) each, and writes each head's output into its own columns of
one (N, L, E) array; its backward writes dQ, dK, dV into the columns they came from. No
reshape, transpose or copy op around it, in either direction.

Read the twins first: ``attention_weights`` and ``attention_composed`` write the four lines
at the top with Tensor ops (matmul, scale, add, softmax, multiply, matmul), and
``packed_self_attention_composed`` splits the heads with reshape and permute, attends and
merges them back. What the fused op saves: the twin records about 7 ops per attention (13
with the head split and merge) and keeps S, P and the products alive for the backward;
the fused op keeps P only, never materialises a transposed K or a second softmax, and
writes dQ, dK, dV straight into the projection's layout. Measured on the CLIP text layer:
attention backward with its transposes 1.24 -> 0.69 ms (NumPy by hand 0.66); ops per CLIP
step 91 -> 62 with packed_self_attention (benchmarks/README.md, the optimisation log).

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for packed_self_attention of (16, 32, 192)
with 4 heads, the twin takes 1.65-1.67x the fused op's time.
"""

import math

import numpy

from ... import backend
from ...autograd import Function, is_grad_enabled
from ...errors import DTypeError, ShapeError
from ...fused import fused_enabled
from ...tensor import Tensor, constant, host_array
from ..broadcast import sum_to_shape
from ..elementwise import where
from ..movement import stack

_OP = "scaled_dot_product_attention"


def _add_into(scores, addend):
    """scores + addend, in place when the result has the scores' shape (it usually has)."""
    try:
        scores += addend
        return scores
    except ValueError:  # the addend broadcasts the scores up to a bigger shape
        return scores + addend


def _product(xp, a, b, shape, out=None):
    """a @ b summed down to ``shape`` (undoing broadcast batch axes), written into ``out``
    when given (a view into a bigger gradient array) and returned."""
    if out is not None and (a.shape[:-2] == b.shape[:-2] == shape[:-2] or  # the usual case
                            numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2]) == shape[:-2]):
        return xp.matmul(a, b, out=out)
    result = sum_to_shape(xp.matmul(a, b), shape)
    if out is None:
        return result
    out[...] = result
    return out


def _split_heads(qkv, heads):
    """A self-attention projection (N, L, 3E) -> (3, N, H, L, d) view: Q, K, V each split
    into H heads of d = E / H columns (arrays or Tensors alike)."""
    n, length, width = qkv.shape
    return qkv.reshape(n, length, 3, heads, width // (3 * heads)).transpose(2, 0, 3, 1, 4)


def _heads_view(x, heads):
    """(N, L, E) -> (N, H, L, d) view: the columns of each head (arrays or Tensors alike)."""
    n, length, width = x.shape
    return x.reshape(n, length, heads, width // heads).transpose(0, 2, 1, 3)


class ScaledDotProductAttention(Function):
    """O = dropout(softmax(Q K^T * scale + B)) V; inputs (Q, K, V) or (Q, K, V, float mask).

    Params: ``scale``; ``blocked``, an additive array of 0 / -inf built from boolean masks
    (or None); ``keep``, the dropout mask already divided by (1 - p) (or None); ``heads``:
    if given, the first input is not Q but the whole (N, L, 3E) projection of a
    self-attention layer, Q, K and V side by side, each split into ``heads`` heads, and the
    output comes back with the heads merged, (N, L, E): see ``packed_self_attention``.
    """

    def forward(self, *inputs, scale, blocked, keep, heads=None):
        xp = self.xp
        self.scale, self.blocked, self.keep, self.heads = scale, blocked, keep, heads
        if heads is not None:
            q, k, v = _split_heads(inputs[0], heads)
            float_mask = inputs[1:]
        else:
            q, k, v, float_mask = inputs[0], inputs[1], inputs[2], inputs[3:]
        scores = xp.matmul(q, k.swapaxes(-1, -2))
        scores *= scale
        if float_mask:
            scores = _add_into(scores, float_mask[0])
        if blocked is not None:
            scores = _add_into(scores, blocked)
        row_max = scores.max(axis=-1, keepdims=True)
        self.empty = None
        if float_mask or blocked is not None:
            if bool(row_max.min() == -numpy.inf):  # a row with every key masked:
                self.empty = empty = xp.isneginf(row_max)  # keep such rows at zero
                row_max = xp.where(empty, 0.0, row_max).astype(scores.dtype)
        scores -= row_max
        weights = xp.exp(scores, out=scores)
        total = weights.sum(axis=-1, keepdims=True)
        if self.empty is not None:
            total = xp.where(self.empty, 1.0, total).astype(total.dtype)
        weights /= total
        self.weights = weights
        self.dropped = weights if keep is None else weights * keep
        if heads is None:
            return xp.matmul(self.dropped, v)
        n, h, length, d_v = v.shape[0], v.shape[1], q.shape[2], v.shape[3]
        merged = xp.empty((n, length, h, d_v), dtype=weights.dtype)  # (N, L, H, d): each
        xp.matmul(self.dropped, v, out=merged.transpose(0, 2, 1, 3))  # head's output lands
        return merged.reshape(n, length, h * d_v)                     # in its own columns

    def _unpacked(self, arrays=False):
        """(q, k, v, float mask or None, which of q, k, v, mask need a gradient), as Tensors
        or (``arrays=True``) as their backend arrays."""
        inputs = [t.data for t in self.inputs] if arrays else self.inputs
        if self.heads is not None:
            split, rest = _split_heads(inputs[0], self.heads), inputs[1:]
            needs = self.needs_input_grad  # the projection's flag goes to each of Q, K, V
            return (split[0], split[1], split[2], rest[0] if rest else None,
                    (needs[0],) * 3 + tuple(needs[1:]))
        q, k, v, rest = inputs[0], inputs[1], inputs[2], inputs[3:]
        return q, k, v, rest[0] if rest else None, self.needs_input_grad

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: Tensor ops, differentiable again, and
            q, k, v, float_mask, needs = self._unpacked()  # P must depend on Q, K (and mask)
            weights = attention_weights(q, k, float_mask, self.blocked, self.scale, self.empty)
            keep = None if self.keep is None else constant(self.keep, like=grad)
            dropped = weights if keep is None else weights * keep
            output = self.output
            if self.heads is not None:  # (N, L, E) -> (N, H, L, d), as Tensor ops
                grad, output = _heads_view(grad, self.heads), _heads_view(output, self.heads)
            grads = self._gradients(grad, q, k, v, float_mask, needs, weights, dropped, keep,
                                    output)
            return self._per_input(grads, stack)
        # Otherwise the same formulas run straight on the saved arrays, in place where an
        # array is ours alone (see _array_gradients).
        return [None if g is None else constant(g, like=grad)
                for g in self._array_gradients(grad.data)]

    def _array_gradients(self, grad):
        """The formulas of ``_gradients`` on backend arrays, written for speed:

        * dS is built in place in the fresh dP array, and scaled once there (rather than
          scaling dQ and dK separately);
        * rowsum(dP * P) is taken from whichever of (L, S) and (L, d_v) is smaller;
        * heads given: dQ, dK and dV are written straight into the columns of one (N, L, 3E)
          array, the layout of the projection they go back to (no stacking or copying).
        """
        xp = self.xp
        q, k, v, float_mask, needs = self._unpacked(arrays=True)
        weights, dropped, keep = self.weights, self.dropped, self.keep
        slots = (None, None, None)
        packed_grad = None
        output = self.output.data
        if self.heads is not None:
            grad, output = _heads_view(grad, self.heads), _heads_view(output, self.heads)
            if needs[0]:
                packed_grad = xp.empty(self.inputs[0].shape, dtype=grad.dtype)
                slots = _split_heads(packed_grad, self.heads)
        grad_v = None
        if needs[2]:
            grad_v = _product(xp, dropped.swapaxes(-1, -2), grad, v.shape, slots[2])
        grad_q = grad_k = grad_mask = None
        if any(needs[:2]) or any(needs[3:]):
            grad_scores = xp.matmul(grad, v.swapaxes(-1, -2))       # dP, ours: in place
            if keep is not None:
                grad_scores *= keep
            if grad_scores.shape[-1] <= grad.shape[-1]:                  # S <= d_v
                row_dot = (grad_scores * weights).sum(axis=-1, keepdims=True)
            else:
                row_dot = (grad * output).sum(axis=-1, keepdims=True)
            grad_scores -= row_dot
            grad_scores *= weights                                       # dS
            if float_mask is not None and needs[3]:
                grad_mask = sum_to_shape(grad_scores, float_mask.shape)
                if grad_mask is grad_scores:
                    grad_mask = grad_mask.copy()  # dS is scaled in place below
            grad_scores *= grad_scores.dtype.type(self.scale)           # dS * scale
            if needs[0]:
                grad_q = _product(xp, grad_scores, k, q.shape, slots[0])
            if needs[1]:
                grad_k = _product(xp, grad_scores.swapaxes(-1, -2), q, k.shape, slots[1])
        if self.heads is not None:
            return (packed_grad,) + ((grad_mask,) if len(self.inputs) > 1 else ())
        return self._per_input((grad_q, grad_k, grad_v, grad_mask), None)

    def _gradients(self, grad, q, k, v, float_mask, needs, weights, dropped, keep, output):
        """(dQ, dK, dV, dB) from the formulas of the module docstring, on Tensors or on
        backend arrays alike (None where no gradient is needed)."""
        grad_v = None
        if needs[2]:
            grad_v = sum_to_shape(dropped.swapaxes(-1, -2) @ grad, v.shape)
        if not any(needs[:2]) and not any(needs[3:]):
            return None, None, grad_v, None
        grad_weights = grad @ v.swapaxes(-1, -2)
        if keep is not None:
            grad_weights = grad_weights * keep
        # rowsum(dP * P) = rowsum(G * O): the same numbers from (L, d_v) arrays, not (L, S)
        row_dot = (grad * output).sum(axis=-1, keepdims=True)
        grad_scores = weights * (grad_weights - row_dot)
        grad_q = grad_k = None
        if needs[0]:
            grad_q = sum_to_shape((grad_scores @ k) * self.scale, q.shape)
        if needs[1]:
            grad_k = sum_to_shape((grad_scores.swapaxes(-1, -2) @ q) * self.scale, k.shape)
        grad_mask = None
        if float_mask is not None and needs[3]:
            grad_mask = sum_to_shape(grad_scores, float_mask.shape)
        return grad_q, grad_k, grad_v, grad_mask

    def _per_input(self, grads, stack):
        """One gradient per input, in the order of the inputs (heads given: dQ, dK, dV
        side by side in the projection's (N, L, 3E) layout)."""
        grad_q, grad_k, grad_v, grad_mask = grads
        if self.heads is not None:
            per_input = (None,)
            if grad_q is not None:
                stacked = stack([grad_q, grad_k, grad_v])               # (3, N, H, L, d)
                n, length = grad_q.shape[0], grad_q.shape[2]
                per_input = (stacked.transpose(1, 3, 0, 2, 4).reshape(n, length, -1),)
        else:
            per_input = (grad_q, grad_k, grad_v)
        return per_input + ((grad_mask,) if len(self.inputs) > len(per_input) else ())


def attention_composed(query, key, value, float_mask=None, blocked=None, keep=None,
                       scale=None):
    """The twin: O = (P * keep) V with P = softmax(Q K^T * scale + mask), in Tensor ops.
    ``keep`` is the dropout array M / (1 - p) or None; the masks as in attention_weights."""
    weights = attention_weights(query, key, float_mask, blocked, scale)
    if keep is not None:
        weights = weights * constant(keep, like=weights)
    return weights @ value


def packed_self_attention_composed(qkv, num_heads, float_mask=None, blocked=None, keep=None):
    """The twin of packed_self_attention: split (N, L, 3E) into Q, K, V of H heads each,
    (N, H, L, d), attend, and merge the heads back to (N, L, E)."""
    n, length, width = qkv.shape
    d = width // (3 * num_heads)
    heads = qkv.reshape(n, length, 3, num_heads, d).permute(2, 0, 3, 1, 4)  # (3, N, H, L, d)
    out = attention_composed(heads[0], heads[1], heads[2], float_mask, blocked, keep,
                             scale=1.0 / math.sqrt(d))
    return out.permute(0, 2, 1, 3).reshape(n, length, num_heads * d)


def attention_weights(query, key, float_mask=None, blocked=None, scale=None, empty=None):
    """P = softmax(Q K^T * scale + mask) built from differentiable ops (no fusion).

    The readable reference for the fused op, and what nn.MultiheadAttention returns as
    its attention weights. ``blocked`` is an additive 0 / -inf array (see ``mask_to_bias``);
    ``empty`` marks rows whose keys are all masked (found here when not given): their
    weights are 0.
    """
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = (query @ key.swapaxes(-1, -2)) * scale
    if float_mask is not None:
        scores = scores + float_mask
    if blocked is not None:
        scores = scores + constant(blocked, like=scores)
    if empty is None and (float_mask is not None or blocked is not None):
        row_max = scores.data.max(axis=-1, keepdims=True)
        empty = scores.xp.isneginf(row_max) if bool(scores.xp.isneginf(row_max).any()) else None
    if empty is None:
        return scores.softmax(axis=-1)
    keep_row = constant((~empty).astype(scores.dtype), like=scores)
    return where(empty, 0.0, scores).softmax(axis=-1) * keep_row


# ----- turning user arguments into what the op needs ---------------------------------------
def as_mask_tensor(mask, like, name, op=_OP):
    """A mask (Tensor, NumPy array or list) as a Tensor on ``like``'s device: bool stays bool,
    floating becomes ``like``'s float dtype. Integer masks are refused, as PyTorch does: a 0/1
    mask of ints would be added to the scores, so a key marked 1 would keep most of its
    weight instead of being masked."""
    if not isinstance(mask, Tensor):
        mask = Tensor(host_array(mask, op), device=like.device)
    if mask.device != like.device:
        raise ShapeError(f"{op}: {name} is on '{mask.device}', the query on '{like.device}'")
    if mask.dtype != bool and mask.dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be bool (see the mask convention in the docstring) "
                         f"or floating (added to the scores), got {mask.dtype}; turn a 0/1 "
                         f"mask into bool first, e.g. {name} == 1")
    return mask if mask.dtype == bool else mask.astype(like.dtype)


def mask_to_bias(allowed, dtype, xp):
    """A boolean 'may attend' array -> additive array: 0 where True, -inf where False."""
    scalar = numpy.dtype(dtype).type  # numpy scalars keep the result in ``dtype``
    return xp.where(allowed, scalar(0), scalar(-numpy.inf))


def causal_mask(length_q, length_k, xp):
    """allowed[i, j] = j <= i: query i sees itself and the keys before it."""
    return xp.tri(length_q, length_k, dtype=bool)


def _check_shapes(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_OP}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ShapeError(f"{_OP}: {name} must have shape (..., length, features), got "
                             f"{t.shape}")
        if t.dtype.kind != "f":
            raise DTypeError(f"{_OP}: {name} must be floating, got {t.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(f"{_OP}: query (..., L, {query.shape[-1]}) and key (..., S, "
                         f"{key.shape[-1]}) need the same feature size d_k")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{_OP}: key {key.shape} and value {value.shape} need the same "
                         "length S (axis -2)")
    try:
        batch = numpy.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ShapeError(f"{_OP}: batch axes of query {query.shape}, key {key.shape} and value "
                         f"{value.shape} do not broadcast") from None
    return batch + (query.shape[-2], key.shape[-2])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, generator=None):
    """softmax(Q K^T / sqrt(d_k) + mask) V with PyTorch's arguments (see the module docstring).

    query (..., L, d_k), key (..., S, d_k), value (..., S, d_v) -> (..., L, d_v)
    attn_mask  bool (True = takes part) or float (added), broadcastable to (..., L, S)
    dropout_p  dropout on the attention weights; needs ``generator`` (a numpy Generator or an
               int seed), since randomness in this library is always explicit
    scale      replaces 1 / sqrt(d_k)
    """
    scores_shape = _check_shapes(query, key, value)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{_OP}: dropout_p must be in [0, 1), got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{_OP}: give attn_mask or is_causal=True, not both (fold the causal "
                         "mask into attn_mask)")
    float_mask = allowed = None
    if is_causal:
        allowed = causal_mask(query.shape[-2], key.shape[-2], query.xp)
    if attn_mask is not None:
        attn_mask = as_mask_tensor(attn_mask, query, "attn_mask")
        try:
            fits = numpy.broadcast_shapes(attn_mask.shape, scores_shape) == scores_shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"{_OP}: attn_mask of shape {attn_mask.shape} does not broadcast "
                             f"to the scores' shape {scores_shape} (..., L, S)")
        if attn_mask.dtype == bool:
            allowed = attn_mask.data
        else:
            float_mask = attn_mask
    output, _ = masked_attention(query, key, value, float_mask, allowed, dropout_p, scale,
                                 generator, scores_shape=scores_shape)
    return output


def dropout_keep(shape, dropout_p, generator, dtype, device):
    """The dropout mask M / (1 - p) of the attention weights, drawn on the host from a seeded
    generator (so a seed gives the same mask on every device)."""
    if generator is None:
        raise ValueError(f"{_OP}: dropout_p > 0 needs generator= (a numpy.random.Generator "
                         "or an int seed); randomness is explicit in this library")
    rng = numpy.random.default_rng(generator)
    host = (rng.random(shape) >= dropout_p) / (1.0 - dropout_p)
    return backend.from_numpy(host.astype(dtype), device)


def masked_attention(query, key, value, float_mask=None, allowed=None, dropout_p=0.0,
                     scale=None, generator=None, need_weights=False, scores_shape=None):
    """Attention with masks already in one convention; returns (output, weights or None).

    float_mask  a float Tensor added to the scores (may require grad), or None
    allowed     a bool backend array, True = may attend, broadcastable to (..., L, S), or None
    need_weights=False runs the fused op (its twin under use_fused(False)); True builds P
    from ops (``attention_weights``) and returns it too (after dropout, as PyTorch's
    MultiheadAttention does).
    """
    if scores_shape is None:
        scores_shape = _check_shapes(query, key, value)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    blocked = None if allowed is None else mask_to_bias(allowed, query.dtype, query.xp)
    keep = None
    if dropout_p > 0.0:
        keep = dropout_keep(scores_shape, dropout_p, generator, query.dtype, query.device)
    if not need_weights and fused_enabled():
        inputs = [query, key, value] + ([float_mask] if float_mask is not None else [])
        return ScaledDotProductAttention.apply(*inputs, scale=scale, blocked=blocked,
                                               keep=keep), None
    if not need_weights:
        return attention_composed(query, key, value, float_mask, blocked, keep, scale), None
    weights = attention_weights(query, key, float_mask, blocked, scale)
    if keep is not None:
        weights = weights * constant(keep, like=weights)
    return weights @ value, weights


def packed_self_attention(qkv, num_heads, float_mask=None, allowed=None, dropout_p=0.0,
                          generator=None):
    """Multi-head self-attention straight from one projection, as one op (its twin,
    packed_self_attention_composed, under use_fused(False)).

    qkv (N, L, 3E): Q, K and V side by side, as x W_in^T + b of a self-attention layer.
    Each is split into ``num_heads`` heads of d = E / num_heads columns, every head attends
    with scale 1 / sqrt(d), and the heads' outputs come back merged, (N, L, E), ready for the
    output projection. The same as splitting with reshape/transpose, calling
    scaled_dot_product_attention and merging back, without those six ops and their copies;
    the gradient comes back in the projection's layout. Masks as in ``masked_attention``,
    broadcastable to (N, H, L, L).
    """
    if qkv.ndim != 3:
        raise ShapeError(f"{_OP}: a packed projection must have shape (N, L, 3E), got "
                         f"{qkv.shape}")
    n, length, width = qkv.shape
    if width % (3 * num_heads):
        raise ShapeError(f"{_OP}: a packed projection of width {width} does not split into "
                         f"3 x {num_heads} heads")
    if qkv.dtype.kind != "f":
        raise DTypeError(f"{_OP}: the projection must be floating, got {qkv.dtype}")
    scale = 1.0 / math.sqrt(width // (3 * num_heads))
    blocked = None if allowed is None else mask_to_bias(allowed, qkv.dtype, qkv.xp)
    keep = None
    if dropout_p > 0.0:
        keep = dropout_keep((n, num_heads, length, length), dropout_p, generator, qkv.dtype,
                            qkv.device)
    if not fused_enabled():
        return packed_self_attention_composed(qkv, num_heads, float_mask, blocked, keep)
    inputs = [qkv] + ([float_mask] if float_mask is not None else [])
    return ScaledDotProductAttention.apply(*inputs, scale=scale, blocked=blocked, keep=keep,
                                           heads=num_heads)

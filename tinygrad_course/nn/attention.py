"""Multi-head attention, with PyTorch's arguments, shapes and mask conventions.

    head_h = Attention(query W_q^h, key W_k^h, value W_v^h)        h = 1..H
    MultiHead(query, key, value) = Concat(head_1, ..., head_H) W_o

Each head works in its own d = embed_dim / H dimensional subspace, so H heads cost about as
much as one full-width head but can attend to H different things. Attention is
ops/fused/attention.py's scaled dot-product attention, applied to all heads at once by treating
(batch, head) as batch axes: q, k, v of shape (N, H, L, d).

Shapes (E = embed_dim; N batch, L target length, S source length):
    query (L, N, E), key (S, N, kdim), value (S, N, vdim)   or (N, L, E)... with batch_first
    (L, E), (S, kdim), (S, vdim) for one unbatched sequence
    -> attn_output like query; attn_weights (N, L, S) averaged over heads, or (N, H, L, S)
Self-attention passes the same tensor three times; cross-attention (a decoder looking at an
encoder's output) passes the decoder state as query and the encoder output as key and value.

Masks, as in torch.nn.MultiheadAttention (the OPPOSITE of F.scaled_dot_product_attention):
    key_padding_mask (N, S)              bool True = this key is padding, IGNORE it
    attn_mask (L, S) or (N * H, L, S)    bool True = NOT allowed to attend
    either one as float                  added to the scores
    is_causal=True without attn_mask     query i sees keys j <= i (PyTorch demands attn_mask
                                         here and treats is_causal as a hint; with attn_mask
                                         given, is_causal is ignored here too)
A row whose keys are all masked gets weights 0 (PyTorch's MultiheadAttention returns NaN).

Parameters (PyTorch's names): in_proj_weight (3E, E) = [W_q; W_k; W_v] stacked (or
q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim) when kdim or vdim
differ from E), in_proj_bias (3E,), out_proj (Linear E -> E). Init as PyTorch: Xavier-uniform
projections, zero biases.

Two extra "keys" every query may attend to (PyTorch's options; both give the attention a
place to put weight when no real key fits):
    add_bias_kv=True    learnable bias_k, bias_v (1, 1, E), appended after the projections to
                        every sequence's keys and values: S -> S + 1
    add_zero_attn=True  a key and a value of zeros appended to every head after the split
                        (score 0, output contribution 0): S -> S + 1 (after bias_kv)
Masks are padded with "allowed" for these appended keys, so a row whose real keys are all
masked still attends to them. attn_weights then have S + 1 or S + 2 columns, as PyTorch's.
These options take the general path (the packed self-attention op is for the default layer).
"""

import math
import numbers

import numpy

from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.attention import as_mask_tensor, causal_mask, masked_attention, packed_self_attention
from ..ops.linear import linear
from ..ops.movement import concatenate
from ..tensor import Tensor, zeros
from . import init
from .linear import Linear
from .module import Module, Parameter


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, *, seed=None,
                 generator=None, dtype=None, device=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive "
                             f"multiple of num_heads ({num_heads})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
        for name, flag in (("add_bias_kv", add_bias_kv), ("add_zero_attn", add_zero_attn)):
            if not isinstance(flag, (bool, numpy.bool_)):
                raise ArgumentError(f"MultiheadAttention: {name} must be True or False, got "
                                    f"{flag!r}")
        for name, size in (("kdim", kdim), ("vdim", vdim)):
            if size is not None and (isinstance(size, bool) or not isinstance(
                    size, numbers.Integral) or size < 1):
                raise ArgumentError(f"MultiheadAttention: {name} must be a positive integer "
                                    f"(the key/value feature size) or None, got {size!r}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.dropout, self.batch_first = dropout, batch_first
        self.generator = init.get_generator(seed, generator)
        rng = self.generator

        def weight(rows, cols):
            w = Parameter(zeros(rows, cols, dtype=dtype, device=device))
            return init.xavier_uniform_(w, generator=rng)

        self.packed = self.kdim == embed_dim and self.vdim == embed_dim
        if self.packed:
            self.in_proj_weight = weight(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = weight(embed_dim, embed_dim)
            self.k_proj_weight = weight(embed_dim, self.kdim)
            self.v_proj_weight = weight(embed_dim, self.vdim)
        if bias:
            self.in_proj_bias = Parameter(zeros(3 * embed_dim, dtype=dtype, device=device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, generator=rng, dtype=dtype,
                               device=device)
        if bias:
            init.zeros_(self.out_proj.bias)
        if add_bias_kv:  # Xavier-normal as PyTorch: fans of (1, 1, E) are E and E
            std = math.sqrt(2.0 / sum(init.fan_in_and_out((1, 1, embed_dim))))
            self.bias_k = init.normal_(Parameter(zeros(1, 1, embed_dim, dtype=dtype,
                                                       device=device)), 0.0, std, generator=rng)
            self.bias_v = init.normal_(Parameter(zeros(1, 1, embed_dim, dtype=dtype,
                                                       device=device)), 0.0, std, generator=rng)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = bool(add_zero_attn)

    # ----- the three input projections -------------------------------------------------------
    def _projection_weights(self):
        E = self.embed_dim
        if self.packed:
            w = self.in_proj_weight
            weights = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        if self.in_proj_bias is None:
            return [(w, None) for w in weights]
        b = self.in_proj_bias
        return list(zip(weights, (b[:E], b[E:2 * E], b[2 * E:])))

    def _heads(self, x, weight, bias):
        """(N, L, in) -> x W^T + b split into heads: (N, H, L, d)."""
        N, L, _ = x.shape
        y = linear(x, weight, bias)
        return y.reshape(N, L, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _extra_keys(self, k, v):
        """Append bias_k/bias_v and then the zero key/value (see the module docstring) to
        k, v (N, H, S, d); returns (k, v, how many keys were appended)."""
        N, H, _, d = k.shape
        extra = 0
        if self.bias_k is not None:
            def as_key(bias):  # (1, 1, E) split into heads like a projection: (N, H, 1, d)
                return bias.reshape(1, H, 1, d).broadcast_to(N, H, 1, d)
            k = concatenate([k, as_key(self.bias_k)], axis=2)
            v = concatenate([v, as_key(self.bias_v)], axis=2)
            extra += 1
        if self.add_zero_attn:
            zero = zeros(N, H, 1, d, dtype=k.dtype, device=k.device)
            k, v = concatenate([k, zero], axis=2), concatenate([v, zero], axis=2)
            extra += 1
        return k, v, extra

    @staticmethod
    def _allow_extra_keys(float_mask, allowed, extra, like):
        """Pad both masks along the keys with ``extra`` columns that mask nothing (float 0,
        allowed True), as PyTorch pads attn_mask and key_padding_mask."""
        if float_mask is not None:
            pad = zeros(*float_mask.shape[:-1], extra, dtype=float_mask.dtype,
                        device=float_mask.device)
            float_mask = concatenate([float_mask, pad], axis=-1)
        if allowed is not None:
            xp = like.xp
            allowed = xp.concatenate([allowed, xp.ones(allowed.shape[:-1] + (extra,), bool)],
                                     axis=-1)
        return float_mask, allowed

    # ----- masks: PyTorch's MultiheadAttention convention -> (float mask, allowed) -----------
    def _masks(self, key_padding_mask, attn_mask, is_causal, N, L, S, like):
        """Return (float_mask Tensor or None, allowed bool array or None), shaped to broadcast
        against the scores (N, H, L, S)."""
        H, xp = self.num_heads, like.xp
        floats, allowed = [], None

        def add(mask, shape, name):
            nonlocal allowed
            mask = as_mask_tensor(mask, like, name, "MultiheadAttention")
            if mask.dtype == bool:
                may = ~mask.data.reshape(shape)  # True = NOT allowed, flipped
                allowed = may if allowed is None else allowed & may
            else:
                floats.append(mask.reshape(shape))

        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (N, S):
                raise ShapeError(f"MultiheadAttention: key_padding_mask must have shape (N, S) "
                                 f"= {(N, S)}, got {tuple(key_padding_mask.shape)}")
            add(key_padding_mask, (N, 1, 1, S), "key_padding_mask")
        if attn_mask is not None:
            shape = tuple(attn_mask.shape)
            if shape == (L, S):
                add(attn_mask, (1, 1, L, S), "attn_mask")
            elif shape == (N * H, L, S):
                add(attn_mask, (N, H, L, S), "attn_mask")
            else:
                raise ShapeError(f"MultiheadAttention: attn_mask must have shape (L, S) = "
                                 f"{(L, S)} or (N * num_heads, L, S) = {(N * H, L, S)}, got "
                                 f"{shape}")
        elif is_causal:
            causal = causal_mask(L, S, xp).reshape(1, 1, L, S)
            allowed = causal if allowed is None else allowed & causal
        float_mask = None
        for f in floats:
            float_mask = f if float_mask is None else float_mask + f
        return float_mask, allowed

    def _check(self, name, x, features):
        if not isinstance(x, Tensor):
            raise DTypeError(f"MultiheadAttention: {name} must be a Tensor, got "
                             f"{type(x).__name__}")
        if x.ndim not in (2, 3) or x.shape[-1] != features:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ShapeError(f"MultiheadAttention: {name} must have shape {layout} or (L, E) "
                             f"with E = {features}, got {x.shape}")

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        self._check("query", query, self.embed_dim)
        self._check("key", key, self.kdim)
        self._check("value", value, self.vdim)
        if key_padding_mask is not None:  # lists and arrays too; integer masks are refused
            key_padding_mask = as_mask_tensor(key_padding_mask, query, "key_padding_mask",
                                              "MultiheadAttention")
        if attn_mask is not None:
            attn_mask = as_mask_tensor(attn_mask, query, "attn_mask", "MultiheadAttention")
        batched = query.ndim == 3
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"MultiheadAttention: query {query.shape}, key {key.shape} and "
                             f"value {value.shape} must all be batched or all unbatched")
        if batched and not self.batch_first:  # (L, N, E) -> (N, L, E), once per distinct tensor
            seen = {}
            query, key, value = (seen.setdefault(id(t), t.swapaxes(0, 1))
                                 for t in (query, key, value))
        elif not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
            if key_padding_mask is not None and key_padding_mask.ndim == 1:
                key_padding_mask = key_padding_mask.reshape(1, -1)
        N, L, _ = query.shape
        S = key.shape[1]
        if key.shape[0] != N or value.shape[0] != N or value.shape[1] != S:
            raise ShapeError(f"MultiheadAttention: batch sizes or lengths differ: query "
                             f"(N, L) = {(N, L)}, key {key.shape[:2]}, value {value.shape[:2]}")
        dropout_p = self.dropout if self.training else 0.0
        plain = self.bias_k is None and not self.add_zero_attn
        if plain and self.packed and query is key and key is value and not need_weights:
            # self-attention: one projection (N, L, 3E), and one op splits it into heads,
            # attends and merges the heads back (ops.attention.packed_self_attention)
            qkv = linear(query, self.in_proj_weight, self.in_proj_bias)
            float_mask, allowed = self._masks(key_padding_mask, attn_mask, is_causal, N, L, S,
                                              qkv)
            out = packed_self_attention(qkv, self.num_heads, float_mask, allowed, dropout_p,
                                        self.generator)
            weights = None
        else:
            (wq, bq), (wk, bk), (wv, bv) = self._projection_weights()
            q, k, v = (self._heads(query, wq, bq), self._heads(key, wk, bk),
                       self._heads(value, wv, bv))
            k, v, extra = self._extra_keys(k, v)
            float_mask, allowed = self._masks(key_padding_mask, attn_mask, is_causal, N, L, S,
                                              q)
            if extra:
                float_mask, allowed = self._allow_extra_keys(float_mask, allowed, extra, q)
            out, weights = masked_attention(q, k, v, float_mask, allowed, dropout_p=dropout_p,
                                            generator=self.generator, need_weights=need_weights)
            out = out.transpose(0, 2, 1, 3).reshape(N, L, self.embed_dim)
        out = linear(out, self.out_proj.weight, self.out_proj.bias)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights if batched else weights.squeeze(0))

    def extra_repr(self):
        extras = "" if self.packed else f", kdim={self.kdim}, vdim={self.vdim}"
        extras += ", add_bias_kv=True" if self.bias_k is not None else ""
        extras += ", add_zero_attn=True" if self.add_zero_attn else ""
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}{extras}")


"""Transformer blocks (Vaswani et al. 2017) with PyTorch's names, arguments and layouts.

An encoder layer is self-attention then a position-wise feed-forward network, each wrapped
in a residual connection and a LayerNorm:

    post-LN (norm_first=False, the paper):     x = LN1(x + SA(x));     x = LN2(x + FF(x))
    pre-LN  (norm_first=True, GPT-2 onwards):  x = x + SA(LN1(x));     x = x + FF(LN2(x))
    SA(x) = Dropout(MultiheadAttention(x, x, x))
    FF(x) = Dropout(W2 Dropout(activation(W1 x + b1)) + b2)   (d_model -> dim_ff -> d_model)

Pre-LN keeps an untouched residual path from input to output, so gradients reach the first
layers at full size and deep stacks train without learning-rate warm-up.

A decoder layer adds cross-attention between the two: its queries come from the decoder, its
keys and values from the encoder output ``memory``:

    post-LN:  x = LN1(x + SA(x, tgt_mask));  x = LN2(x + CA(x, memory));  x = LN3(x + FF(x))
    pre-LN:   x = x + SA(LN1(x));            x = x + CA(LN2(x), memory);  x = x + FF(LN3(x))

Shapes: src/tgt (L, N, E), memory (S, N, E), or (N, L, E)... with batch_first=True. Masks
follow nn.MultiheadAttention (bool True = NOT allowed; float added).

``Transformer`` is the whole encoder-decoder of the paper: memory = Encoder(src), then
out = Decoder(tgt, memory), each a stack of layers closed by a final LayerNorm.
"""

import copy

import numpy

from ..errors import ShapeError
from ..ops.attention import mask_to_bias
from ..ops.elementwise import add, gelu, relu
from ..ops.linear import linear
from ..tensor import Tensor, as_tensor
from . import init
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList
from .normalization import LayerNorm

_ACTIVATIONS = {"relu": relu, "gelu": gelu}


def _activation(activation):
    if callable(activation):
        return activation
    if activation not in _ACTIVATIONS:
        raise ValueError(f"transformer: activation must be 'relu', 'gelu' or a callable, got "
                         f"{activation!r}")
    return _ACTIVATIONS[activation]


def generate_square_subsequent_mask(size, device=None, dtype=None):
    """The causal mask as PyTorch makes it: float (size, size), 0 on and below the diagonal,
    -inf above (position i may not look at j > i)."""
    allowed = numpy.tri(size, size, dtype=bool)
    bias = mask_to_bias(allowed, numpy.float32 if dtype is None else dtype, numpy)
    return Tensor(bias, dtype=bias.dtype, device=device)


def _residual(x, update):
    """x + update, the residual connection, written into update's array: update is the fresh
    output of a sublayer (its last op is a Linear or a dropout, whose backwards do not need
    their output), so the sum needs no new array (see ops.elementwise.add)."""
    return add(update, x, inplace=True)


class _Block(Module):
    """What encoder and decoder layers share: the self-attention block, the feed-forward
    network and the norms."""

    def _build_common(self, d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                      norm_first, bias, num_norms, rng, dtype, device):
        self.d_model, self.norm_first = d_model, norm_first
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, generator=rng, dtype=dtype,
                              device=device)
        self.dropout = Dropout(dropout, generator=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, generator=rng, dtype=dtype,
                              device=device)
        for i in range(1, num_norms + 1):
            norm = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype, device=device)
            if not bias:
                norm.register_parameter("bias", None)
            setattr(self, f"norm{i}", norm)
            setattr(self, f"dropout{i}", Dropout(dropout, generator=rng))
        self.activation = _activation(activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        """Self-attention of x (both layers have one, followed by dropout1)."""
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x, dropout):
        """FF(x) on (..., d_model); ops.linear makes each layer one big matrix product. ReLU
        runs in place on linear1's fresh output (nothing else holds it): no (..., dim_ff)
        array more, and those values are still in the cache."""
        hidden = linear(x, self.linear1.weight, self.linear1.bias)
        h = relu(hidden, inplace=True) if self.activation is relu else self.activation(hidden)
        return dropout(linear(self.dropout(h), self.linear2.weight, self.linear2.bias))


class TransformerEncoderLayer(_Block):
    """Self-attention + feed-forward, post-LN or pre-LN (see the module docstring)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, *,
                 seed=None, generator=None, dtype=None, device=None):
        super().__init__()
        rng = init.get_generator(seed, generator)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, generator=rng, dtype=dtype,
                                            device=device)
        self._build_common(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                           norm_first, bias, 2, rng, dtype, device)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = _residual(x, self._sa_block(self.norm1(x), src_mask, src_key_padding_mask,
                                            is_causal))
            return _residual(x, self._ff_block(self.norm2(x), self.dropout2))
        x = self.norm1(_residual(x, self._sa_block(x, src_mask, src_key_padding_mask, is_causal)))
        return self.norm2(_residual(x, self._ff_block(x, self.dropout2)))


class TransformerDecoderLayer(_Block):
    """Masked self-attention + cross-attention to ``memory`` + feed-forward."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, *,
                 seed=None, generator=None, dtype=None, device=None):
        super().__init__()
        rng = init.get_generator(seed, generator)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, generator=rng, dtype=dtype,
                                            device=device)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, generator=rng,
                                                 dtype=dtype, device=device)
        self._build_common(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                           norm_first, bias, 3, rng, dtype, device)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=is_causal)[0]
        return self.dropout2(x)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = _residual(x, self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                            tgt_is_causal))
            x = _residual(x, self._mha_block(self.norm2(x), memory, memory_mask,
                                             memory_key_padding_mask, memory_is_causal))
            return _residual(x, self._ff_block(self.norm3(x), self.dropout3))
        x = self.norm1(_residual(x, self._sa_block(x, tgt_mask, tgt_key_padding_mask,
                                                   tgt_is_causal)))
        x = self.norm2(_residual(x, self._mha_block(x, memory, memory_mask,
                                                    memory_key_padding_mask, memory_is_causal)))
        return self.norm3(_residual(x, self._ff_block(x, self.dropout3)))


def _clones(layer, num_layers):
    """num_layers deep copies of ``layer``: the same initial weights, as PyTorch's
    TransformerEncoder makes them, but each copy with its own random stream for dropout
    (copies of one generator would drop the same units in every layer)."""
    layers = []
    for i in range(num_layers):
        clone = copy.deepcopy(layer)
        streams = {}
        for module in clone.modules():
            rng = getattr(module, "generator", None)
            if isinstance(rng, numpy.random.Generator):
                if id(rng) not in streams:
                    streams[id(rng)] = numpy.random.default_rng([i, int(rng.integers(2**32))])
                module.generator = streams[id(rng)]
        layers.append(clone)
    return ModuleList(layers)


class TransformerEncoder(Module):
    """num_layers copies of an encoder layer, one after the other, then an optional norm."""

    def __init__(self, encoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """num_layers copies of a decoder layer, each attending to the same ``memory``."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder transformer, with PyTorch's arguments and defaults:

    Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                bias=True)
    forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
            src_key_padding_mask=None, tgt_key_padding_mask=None,
            memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
            memory_is_causal=False) -> (T, N, E), the decoder's output (N, T, E batch_first)

        memory = TransformerEncoder(src)        src (S, N, E)
        output = TransformerDecoder(tgt, memory)    tgt (T, N, E)

    For training on a target sequence, pass tgt_mask=generate_square_subsequent_mask(T) (or
    tgt_is_causal=True) so position t of the decoder cannot see the tokens after it. No
    embeddings or output layer: they are the caller's, as in PyTorch. Every weight with two
    or more axes is re-drawn Xavier-uniform (PyTorch's _reset_parameters), so a Transformer
    does not start from the same numbers as its layers built on their own.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, *, seed=None, generator=None, dtype=None, device=None):
        super().__init__()
        rng = init.get_generator(seed, generator)
        common = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                      layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                      norm_first=norm_first, bias=bias, generator=rng, dtype=dtype,
                      device=device)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **common), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype, device=device))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **common), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype, device=device))
        for param in self.parameters():
            if param.ndim > 1:
                init.xavier_uniform_(param, generator=rng)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        src = as_tensor(src, "Transformer")
        tgt = as_tensor(tgt, "Transformer")
        if src.ndim != tgt.ndim or src.ndim not in (2, 3):
            raise ShapeError(f"Transformer: src and tgt must both be batched (3 axes) or both "
                             f"unbatched (S, E) and (T, E), got {src.shape} and {tgt.shape}")
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise ShapeError(f"Transformer: src {src.shape} and tgt {tgt.shape} must have the "
                             f"same batch size (axis {batch_axis})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"Transformer: src and tgt need d_model = {self.d_model} features "
                             f"(the last axis), got {src.shape} and {tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=bool(src_is_causal))
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=bool(tgt_is_causal),
                            memory_is_causal=bool(memory_is_causal))

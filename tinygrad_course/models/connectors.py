"""Connectors: how a frozen vision encoder is joined to a frozen language model.

The vision encoder turns an image into features v (N, S, d_v), one per patch (and a CLS); the
language model (models/gpt.py's GPT) turns characters into logits. Both stay frozen; only the
connector learns (and, optionally, low-rank adapters on the LM). Three ways to connect them:

LLaVA: an MLP projector. Every image feature becomes one input token of the LM:

    prefix = W_2 GELU(W_1 v + b_1) + b_2           (N, S, d_lm)
    h_0    = [prefix ; E[text]] + P[:S + T]        the S image tokens in front of the text
    cost   S image positions in the LM's sequence (S grows with the image's resolution)

Perceiver resampler (Flamingo) / Q-Former (BLIP-2): k learned queries read the features by
cross-attention, several layers deep, and only they go to the LM:

    z_0 = Q                                        (k, d) learned, the same for every image
    z_l = z_{l-1} + Attn(q = LN(z_{l-1}), k = v = [LN(W_in v) ; LN(z_{l-1})])
    z_l = z_l + FF(LN(z_l))                                     l = 1..L
    out = W_out LN(z_L)                            (N, k, d_lm): k tokens, whatever S is

(BLIP-2's Q-Former also lets the queries meet the question's words in a shared BERT; the
resampler here is the Flamingo form: queries attend to the features and to themselves.)

Flamingo: gated cross-attention blocks inserted before the frozen LM's layers; the text
tokens look at the image from inside the LM, which gets no extra positions:

    x = x + tanh(alpha_xattn) * Attn(q = LN(x), k = v = image)
    x = x + tanh(alpha_ff)    * FF(LN(x))
    alpha_xattn = alpha_ff = 0 at initialisation

tanh(0) = 0, so at initialisation every block returns x exactly and the whole model IS the
frozen LM (its pretrained behaviour is kept, not disturbed by random new layers); the gates
open as training finds the image useful. d/d alpha of the output is (1 - tanh^2 alpha) *
Attn(...), not zero at alpha = 0, so the gates do receive a gradient from the first step,
while the attention weights' gradient is tanh(alpha) * (...) = 0 at step 0: the gate moves
first, then the layers behind it.

Any-resolution (LLaVA-NeXT): an image larger than the encoder's input is cut into tiles of
the encoder's size, plus the whole image scaled down to one tile (the global view); each view
is encoded separately and a learned view embedding says which view a feature came from:

    views  = tiles (row by row) + [downscale(image)]      (H / t)(W / t) + 1 views
    tokens = views x S                                    for the projector; k for a resampler

All three read the same features; the LM is any GPT (frozen with requires_grad_(False)).
"""

import numpy

from ..errors import ArgumentError, ShapeError
from ..nn import init
from ..nn.attention import MultiheadAttention
from ..nn.linear import Linear
from ..nn.module import Module, ModuleList, Parameter
from ..nn.normalization import LayerNorm
from ..ops.elementwise import gelu
from ..ops.movement import concatenate
from ..tensor import as_tensor, host_array, zeros


class FeedForward(Module):
    """FF(x) = W_2 GELU(W_1 x + b_1) + b_2: (..., d_in) -> (..., d_out), hidden width
    ``hidden``. It is also LLaVA's projector (MLPProjector)."""

    def __init__(self, d_in, hidden, d_out, generator=None):
        super().__init__()
        self.linear1 = Linear(d_in, hidden, generator=generator)
        self.linear2 = Linear(hidden, d_out, generator=generator)

    def forward(self, x):
        return self.linear2(gelu(self.linear1(x)))


class MLPProjector(FeedForward):
    """LLaVA's connector: MLPProjector(vision_dim, lm_dim, hidden=None, seed=None):
    features (N, S, vision_dim) -> image tokens (N, S, lm_dim), one per feature; hidden
    defaults to lm_dim."""

    def __init__(self, vision_dim, lm_dim, hidden=None, seed=None, generator=None):
        super().__init__(vision_dim, hidden or lm_dim, lm_dim,
                         init.get_generator(seed, generator))
        self.vision_dim, self.out_dim = vision_dim, lm_dim

    def forward(self, features):
        features = _check_features("MLPProjector", features, self.vision_dim)
        return super().forward(features)

    def image_tokens(self, num_features):
        """How many LM positions an image of ``num_features`` features takes: all of them."""
        return num_features


class ResamplerLayer(Module):
    """One layer of the resampler: the queries attend to [features ; themselves], then a
    feed-forward, both residual and pre-LN (see the module docstring)."""

    def __init__(self, width, nhead, generator=None):
        super().__init__()
        self.norm_queries = LayerNorm(width)
        self.norm_features = LayerNorm(width)
        self.attn = MultiheadAttention(width, nhead, batch_first=True, generator=generator)
        self.norm_ff = LayerNorm(width)
        self.ff = FeedForward(width, 2 * width, width, generator)

    def forward(self, queries, features):
        q = self.norm_queries(queries)
        keys = concatenate([self.norm_features(features), q], axis=1)
        queries = queries + self.attn(q, keys, keys, need_weights=False)[0]
        return queries + self.ff(self.norm_ff(queries))


class PerceiverResampler(Module):
    """PerceiverResampler(vision_dim, out_dim, num_queries=8, width=None, num_layers=2,
    nhead=4, seed=None): features (N, S, vision_dim), any S -> (N, num_queries, out_dim).

    width (default out_dim) is the queries' size inside; out_dim the LM's embedding size (or
    a Flamingo block's key size). The queries are drawn N(0, 1) (each is layer-normed before
    it attends, so only the direction matters at first)."""

    def __init__(self, vision_dim, out_dim, num_queries=8, width=None, num_layers=2, nhead=4,
                 seed=None, generator=None):
        super().__init__()
        rng = init.get_generator(seed, generator)
        width = width or out_dim
        self.vision_dim, self.out_dim, self.num_queries = vision_dim, out_dim, num_queries
        self.input_proj = Linear(vision_dim, width, generator=rng)
        self.queries = Parameter(zeros(num_queries, width))
        init.normal_(self.queries, 0.0, 1.0, generator=rng)
        self.layers = ModuleList(ResamplerLayer(width, nhead, rng) for _ in range(num_layers))
        self.norm = LayerNorm(width)
        self.output_proj = Linear(width, out_dim, generator=rng)

    def forward(self, features):
        features = self.input_proj(_check_features("PerceiverResampler", features,
                                                   self.vision_dim))
        N = features.shape[0]
        z = self.queries.unsqueeze(0).broadcast_to(N, *self.queries.shape)
        for layer in self.layers:
            z = layer(z, features)
        return self.output_proj(self.norm(z))

    def image_tokens(self, num_features):
        """How many LM positions an image takes: num_queries, whatever ``num_features``."""
        return self.num_queries


class GatedCrossAttentionBlock(Module):
    """Flamingo's GATED XATTN-DENSE: GatedCrossAttentionBlock(d_model, vision_dim, nhead=4):
    x (N, T, d_model), image (N, S, vision_dim) -> (N, T, d_model).

        x = x + tanh(alpha_xattn) * Attn(LN(x), image, image)
        x = x + tanh(alpha_ff) * FF(LN(x))

    Both alphas are Parameters of shape (1,) starting at 0: the block starts as the identity.
    No mask: every text position may see every image feature (the image is all "before" the
    text, so this breaks no causality)."""

    def __init__(self, d_model, vision_dim, nhead=4, seed=None, generator=None):
        super().__init__()
        rng = init.get_generator(seed, generator)
        self.d_model, self.vision_dim = d_model, vision_dim
        self.norm_xattn = LayerNorm(d_model)
        self.xattn = MultiheadAttention(d_model, nhead, kdim=vision_dim, vdim=vision_dim,
                                        batch_first=True, generator=rng)
        self.alpha_xattn = Parameter(zeros(1))
        self.norm_ff = LayerNorm(d_model)
        self.ff = FeedForward(d_model, 4 * d_model, d_model, rng)
        self.alpha_ff = Parameter(zeros(1))

    def forward(self, x, image):
        image = _check_features("GatedCrossAttentionBlock", image, self.vision_dim)
        x = _check_features("GatedCrossAttentionBlock", x, self.d_model, what="x")
        if image.shape[0] != x.shape[0]:
            raise ShapeError(f"GatedCrossAttentionBlock: x {x.shape} and image {image.shape} "
                             "must have the same batch size")
        h = self.norm_xattn(x)
        x = x + self.alpha_xattn.tanh() * self.xattn(h, image, image, need_weights=False)[0]
        return x + self.alpha_ff.tanh() * self.ff(self.norm_ff(x))

    def gates(self):
        """(tanh alpha_xattn, tanh alpha_ff) as floats: how far the block lets the image in."""
        return float(self.alpha_xattn.tanh().item()), float(self.alpha_ff.tanh().item())


def trainable_parameters(model):
    """The parameters that learn (requires_grad): what an optimiser gets when the LM and the
    vision encoder are frozen (the optimisers refuse frozen parameters)."""
    return [param for param in model.parameters() if param.requires_grad]


def _check_features(name, features, dim, what="image features"):
    features = as_tensor(features, name)
    if features.ndim != 3 or features.shape[-1] != dim:
        raise ShapeError(f"{name}: {what} must have shape (N, S, {dim}), got {features.shape}")
    return features


def _lm_run(lm, x, before_layer=None):
    """The frozen GPT on embedded inputs x (N, T, d_model), exactly as GPT.forward runs it
    after its token embedding: positions, the causal blocks, the final norm, the head.
    before_layer(l, x) -> x runs before layer l (Flamingo's blocks). Returns (N, T, vocab)."""
    N, T, d = x.shape
    if T > lm.block_size:
        raise ShapeError(f"connectors: {T} positions (image tokens + text) do not fit the LM's "
                         f"block_size {lm.block_size}")
    x = lm.position_embedding(x)
    for layer, block in enumerate(lm.blocks):
        if before_layer is not None:
            x = before_layer(layer, x)
        x = block(x, is_causal=True)
    return lm.head(lm.norm(x).reshape(N * T, d)).reshape(N, T, lm.vocab_size)


def _check_ids(name, ids):
    ids = as_tensor(ids, name)
    if ids.dtype.kind not in "iu" or ids.ndim != 2:
        raise ShapeError(f"{name}: ids must be integer (N, T), got {ids.dtype} {ids.shape}")
    return ids


def _run_with_inserted(name, lm, ids, tokens, insert_at):
    """The LM on the text ``ids`` (N, T) with ``tokens`` (N, P, d_model) placed before text
    position ``insert_at`` (0: in front of everything). Returns logits (N, T, vocab) with
    logits[:, t] predicting ids[:, t + 1]: the prediction of ids[:, insert_at] comes from the
    last inserted token's position (it has read the text before it and every token), the
    others from the text's own positions."""
    T, P = ids.shape[1], tokens.shape[1]
    if not 0 <= insert_at <= T:
        raise ShapeError(f"{name}: insert_at must be in 0..{T} (the text's length), got "
                         f"{insert_at}")
    if tokens.shape[0] != ids.shape[0]:
        raise ShapeError(f"{name}: {tokens.shape[0]} images for {ids.shape[0]} texts")
    text = lm.token_embedding(ids)
    logits = _lm_run(lm, concatenate([text[:, :insert_at], tokens, text[:, insert_at:]], axis=1))
    if insert_at == 0:
        return logits[:, P:]
    return concatenate([logits[:, :insert_at - 1], logits[:, insert_at + P - 1:]], axis=1)


class PrefixLM(Module):
    """A frozen LM reading image tokens among the text: PrefixLM(lm, connector), with
    connector an MLPProjector (LLaVA) or a PerceiverResampler (whose out_dim is the LM's
    d_model). forward(ids (N, T), features (N, S, d_v), insert_at=0) -> logits (N, T, vocab)
    at the text positions: logits[:, t] predicts ids[:, t + 1].

    insert_at: the text position the image tokens go before: 0 puts them in front of the
    text (LLaVA's "<image> question"); the question's length puts them between question and
    answer, where a language model that looks mostly at the last few characters (as a small
    char-level LM does) still sees them when it starts the answer.

    The LM's parameters are frozen here (requires_grad_(False)); wrap its layers with LoRA
    after building the PrefixLM to train adapters."""

    def __init__(self, lm, connector):
        super().__init__()
        if connector.out_dim != lm.d_model:
            raise ShapeError(f"PrefixLM: the connector writes {connector.out_dim} features per "
                             f"token, the LM reads {lm.d_model}")
        self.lm = lm.requires_grad_(False)
        self.connector = connector

    def forward(self, ids, features, insert_at=0):
        ids = _check_ids("PrefixLM", ids)
        return _run_with_inserted("PrefixLM", self.lm, ids, self.connector(features), insert_at)

    def image_tokens(self, num_features):
        return self.connector.image_tokens(num_features)


class FlamingoLM(Module):
    """A frozen LM with a GatedCrossAttentionBlock before each of its layers (every
    ``every``-th layer): FlamingoLM(lm, vision_dim, nhead=4, every=1, resampler=None).
    forward(ids (N, T), features (N, S, vision_dim)) -> logits (N, T, vocab).

    With a ``resampler`` (a PerceiverResampler with out_dim = vision_dim, as Flamingo has) the
    blocks attend to its k outputs instead of the S features. The image takes no position of
    the LM's sequence (image_tokens is 0); the blocks' keys are the image's tokens."""

    def __init__(self, lm, vision_dim, nhead=4, every=1, resampler=None, seed=None,
                 generator=None):
        super().__init__()
        if every < 1:
            raise ArgumentError(f"FlamingoLM: every must be >= 1, got {every}")
        rng = init.get_generator(seed, generator)
        self.lm = lm.requires_grad_(False)
        self.vision_dim, self.resampler = vision_dim, resampler
        self.inserted_before = [layer for layer in range(len(lm.blocks)) if layer % every == 0]
        self.cross_blocks = ModuleList(GatedCrossAttentionBlock(lm.d_model, vision_dim, nhead,
                                                                generator=rng)
                                       for _ in self.inserted_before)

    def forward(self, ids, features, insert_at=None):
        """insert_at is accepted for PrefixLM's interface and ignored: no image token enters
        the sequence."""
        ids = _check_ids("FlamingoLM", ids)
        image = features if self.resampler is None else self.resampler(features)
        blocks = dict(zip(self.inserted_before, self.cross_blocks))

        def before_layer(layer, x):
            return blocks[layer](x, image) if layer in blocks else x
        return _lm_run(self.lm, self.lm.token_embedding(ids), before_layer)

    def gates(self):
        """[(tanh alpha_xattn, tanh alpha_ff)] of each inserted block, first layer first."""
        return [block.gates() for block in self.cross_blocks]

    def image_tokens(self, num_features):
        return 0


class TextOnlyLM(Module):
    """The baseline that cannot see: TextOnlyLM(lm, num_tokens=8), a frozen LM reading
    num_tokens learned tokens, the same for every image (prompt tuning), where PrefixLM puts
    the image's. Trained like the connectors, it learns what the question alone says about the
    answer. forward(ids, features=None, insert_at=0) -> logits (N, T, vocab); the features
    are ignored."""

    def __init__(self, lm, num_tokens=8, seed=None, generator=None):
        super().__init__()
        self.lm = lm.requires_grad_(False)
        self.prompt = Parameter(zeros(num_tokens, lm.d_model))
        init.normal_(self.prompt, 0.0, 0.02, generator=init.get_generator(seed, generator))

    def forward(self, ids, features=None, insert_at=0):
        ids = _check_ids("TextOnlyLM", ids)
        tokens = self.prompt.unsqueeze(0).broadcast_to(ids.shape[0], *self.prompt.shape)
        return _run_with_inserted("TextOnlyLM", self.lm, ids, tokens, insert_at)

    def image_tokens(self, num_features):
        return 0


# ----- any resolution ------------------------------------------------------------------------

def _check_images(name, images, tile_size):
    images = host_array(images, name)
    if images.ndim != 4:
        raise ShapeError(f"{name}: images must be (N, C, H, W), got shape {images.shape}")
    H, W = images.shape[2:]
    if H % tile_size or W % tile_size:
        raise ShapeError(f"{name}: image size {(H, W)} must be a multiple of the tile size "
                         f"{tile_size}")
    return images


def downscale(images, size):
    """(N, C, H, W) host images -> (N, C, size, size) by averaging each (H/size) x (W/size)
    block of pixels (area interpolation; H and W multiples of size)."""
    images = _check_images("downscale", images, size)
    N, C, H, W = images.shape
    return images.reshape(N, C, size, H // size, size, W // size).mean(axis=(3, 5))


def num_views(height, width, tile_size):
    """Views of an any-resolution image: one when it is one tile, else every tile + 1."""
    if height % tile_size or width % tile_size:
        raise ShapeError(f"num_views: image size {(height, width)} must be a multiple of the "
                         f"tile size {tile_size}")
    tiles = (height // tile_size) * (width // tile_size)
    return 1 if tiles == 1 else tiles + 1


def any_resolution_views(images, tile_size):
    """(N, C, H, W) host images -> (N, V, C, t, t): the t x t tiles row by row, then the whole
    image downscaled to t x t (no global view when the image is a single tile)."""
    images = _check_images("any_resolution_views", images, tile_size)
    N, C, H, W = images.shape
    rows, cols = H // tile_size, W // tile_size
    tiles = images.reshape(N, C, rows, tile_size, cols, tile_size).transpose(0, 2, 4, 1, 3, 5)
    tiles = tiles.reshape(N, rows * cols, C, tile_size, tile_size)
    if rows * cols == 1:
        return tiles
    return numpy.concatenate([tiles, downscale(images, tile_size)[:, None]], axis=1)


class ViewEmbedding(Module):
    """ViewEmbedding(max_views, dim): features of V views (N, V, S, dim) -> (N, V S, dim), each
    view's features plus a learned vector e_v (init N(0, 0.02^2)), so that a connector can tell
    tile 3's features from the global view's (the encoder's own positions repeat in every
    view)."""

    def __init__(self, max_views, dim, seed=None, generator=None):
        super().__init__()
        self.max_views, self.dim = max_views, dim
        self.weight = Parameter(zeros(max_views, dim))
        init.normal_(self.weight, 0.0, 0.02, generator=init.get_generator(seed, generator))

    def forward(self, features):
        features = as_tensor(features, "ViewEmbedding")
        if features.ndim != 4 or features.shape[-1] != self.dim or \
                features.shape[1] > self.max_views:
            raise ShapeError(f"ViewEmbedding: features must be (N, V <= {self.max_views}, S, "
                             f"{self.dim}), got {features.shape}")
        N, V, S, d = features.shape
        x = features + self.weight[:V].reshape(1, V, 1, d)
        return x.reshape(N, V * S, d)

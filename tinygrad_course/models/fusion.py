"""Building blocks of the fusion vision-language models (ALBEF, ViLT, VLMo): token encoders
that keep every token, and a cross-attention fusion encoder.

A dual encoder (models/clip.py) pools each modality into ONE vector and compares the two by a
dot product; nothing in that score can ask "is the red thing the one on the left?". A fusion
encoder keeps the sequences and lets every word attend to every image patch:

    text tokens   t_0 = [CLS] w_1 ... w_L      (N, L + 1, d) from a text encoder
    image tokens  v_0 = [CLS] p_1 ... p_P      (N, P + 1, d) from a ViT
    fusion layer  (pre-LN, as nn.TransformerDecoderLayer without a causal mask)
        t = t + SelfAttention(LN1(t), key padding = the text's pads)
        t = t + CrossAttention(queries LN2(t), keys and values v)
        t = t + FF(LN3(t))
    output        LN(t): (N, L + 1, d); the fused [CLS] t_0 summarises the pair

The fused [CLS] feeds binary image-text matching heads, the fused word vectors the masked
language model; both can depend on which word goes with which patch.
"""

import numpy

from ..errors import ShapeError
from ..nn import init
from ..nn.embedding import Embedding
from ..nn.linear import Linear
from ..nn.module import Module, ModuleList, Parameter
from ..nn.normalization import LayerNorm
from ..nn.transformer import TransformerDecoderLayer, TransformerEncoderLayer
from ..ops.elementwise import gelu
from ..ops.movement import concatenate
from ..tensor import Tensor, tensor, zeros
from .clip import CaptionTokenizer
from .vit import patchify

CLS, MASK = "[cls]", "[mask]"


class SceneTokenizer(CaptionTokenizer):
    """Words -> ids with [CLS] in front: (N, 1 + max_length) int64, padded with 0.

    Id 0 is padding and id 1 an unknown word (CaptionTokenizer); [cls] and [mask] are two
    more words of the vocabulary, never produced by splitting a caption."""

    def __init__(self, words, max_length):
        super().__init__(list(words) + [CLS, MASK])
        self.max_length = max_length
        self.cls_id, self.mask_id = self.index[CLS], self.index[MASK]

    def __call__(self, captions, max_length=None):
        words = super().__call__(captions, max_length or self.max_length)
        return numpy.concatenate([numpy.full((len(words), 1), self.cls_id), words], axis=1)


def _encoder_layers(width, heads, layers, rng):
    return ModuleList(TransformerEncoderLayer(width, heads, dim_feedforward=2 * width,
                                              dropout=0.0, activation="gelu", batch_first=True,
                                              norm_first=True, generator=rng)
                      for _ in range(layers))


class PatchEmbedding(Module):
    """images (N, C, S, S) -> [CLS; patches W_e^T + b_e] + positions: (N, 1 + P, d)."""

    def __init__(self, image_size, patch_size, in_channels, width, rng):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"PatchEmbedding: image_size {image_size} is not a multiple of "
                             f"patch_size {patch_size}")
        self.image_size, self.patch_size, self.in_channels = image_size, patch_size, in_channels
        self.num_patches, self.width = (image_size // patch_size) ** 2, width
        self.projection = Linear(in_channels * patch_size ** 2, width, generator=rng)
        self.cls_token = Parameter(zeros(1, 1, width))
        init.normal_(self.cls_token, 0.0, 0.02, generator=rng)
        self.position = Parameter(zeros(1, self.num_patches + 1, width))
        init.normal_(self.position, 0.0, 0.02, generator=rng)

    def forward(self, images):
        expected = (self.in_channels, self.image_size, self.image_size)
        if not isinstance(images, Tensor):
            images = tensor(images, device=self.position.device)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ShapeError(f"PatchEmbedding: expected images of shape (N, {expected[0]}, "
                             f"{expected[1]}, {expected[2]}), got {images.shape}")
        n = images.shape[0]
        x = self.projection(patchify(images, self.patch_size))            # (N, P, d)
        cls = self.cls_token.broadcast_to(n, 1, self.width)
        return concatenate([cls, x], axis=1) + self.position


class WordEmbedding(Module):
    """ids (N, T) -> token embeddings + learned positions: (N, T, d)."""

    def __init__(self, vocab_size, max_tokens, width, rng):
        super().__init__()
        self.max_tokens = max_tokens
        self.token = Embedding(vocab_size, width, padding_idx=0, generator=rng)
        init.normal_(self.token.weight, 0.0, 0.02, generator=rng)
        self.position = Parameter(zeros(max_tokens, width))
        init.normal_(self.position, 0.0, 0.02, generator=rng)

    def forward(self, ids):
        if not isinstance(ids, Tensor):
            ids = tensor(numpy.asarray(ids), device=self.position.device)
        if ids.ndim != 2 or not 0 < ids.shape[1] <= self.max_tokens:
            raise ShapeError(f"WordEmbedding: ids must have shape (N, T) with 0 < T <= "
                             f"{self.max_tokens}, got {ids.shape}")
        positions = self.position if ids.shape[1] == self.max_tokens else \
            self.position[:ids.shape[1]]
        return self.token(ids) + positions


class ImageEncoder(Module):
    """A ViT that keeps every token: images -> LN(Encoder(PatchEmbedding)): (N, 1 + P, d)."""

    def __init__(self, image_size=24, patch_size=4, in_channels=3, width=48, heads=4, layers=1,
                 seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.embedding = PatchEmbedding(image_size, patch_size, in_channels, width, rng)
        self.layers = _encoder_layers(width, heads, layers, rng)
        self.norm = LayerNorm(width)

    def forward(self, images):
        x = self.embedding(images)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class TextEncoder(Module):
    """ids (N, T), [CLS] first and 0 for padding -> (N, T, d); padded positions are
    ignored as keys (their own outputs are computed but never used)."""

    def __init__(self, vocab_size, max_tokens, width=48, heads=4, layers=1, seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.embedding = WordEmbedding(vocab_size, max_tokens, width, rng)
        self.layers = _encoder_layers(width, heads, layers, rng)
        self.norm = LayerNorm(width)

    def forward(self, ids):
        ids = numpy.asarray(ids.numpy() if isinstance(ids, Tensor) else ids)
        x = self.embedding(ids)
        padding = ids == 0
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=padding)
        return self.norm(x)


class CrossAttentionFusion(Module):
    """Text tokens attend to themselves and to the image tokens, layer by layer (the module
    docstring's fusion layer): (N, T, d), (N, 1 + P, d) -> (N, T, d)."""

    def __init__(self, width=48, heads=4, layers=1, seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.layers = ModuleList(TransformerDecoderLayer(width, heads, dim_feedforward=2 * width,
                                                         dropout=0.0, activation="gelu",
                                                         batch_first=True, norm_first=True,
                                                         generator=rng)
                                 for _ in range(layers))
        self.norm = LayerNorm(width)

    def forward(self, text, image, text_padding_mask=None):
        if text.shape[0] != image.shape[0] or text.shape[2] != image.shape[2]:
            raise ShapeError(f"CrossAttentionFusion: text {text.shape} and image {image.shape}"
                             f" must share the batch size and the width")
        x = text
        for layer in self.layers:
            x = layer(x, image, tgt_key_padding_mask=text_padding_mask)
        return self.norm(x)


class MLMHead(Module):
    """BERT's masked-language-model head: W_out LN(gelu(W_t h + b_t)) + b_out, (..., vocab)."""

    def __init__(self, width, vocab_size, rng):
        super().__init__()
        self.transform = Linear(width, width, generator=rng)
        self.norm = LayerNorm(width)
        self.decoder = Linear(width, vocab_size, generator=rng)

    def forward(self, h):
        return self.decoder(self.norm(gelu(self.transform(h))))

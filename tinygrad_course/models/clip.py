"""A tiny CLIP: images and captions mapped into one space where matching pairs are close.

    image -> image encoder -> W_i -> L2-normalise -> u   (N, D)
    text  -> text encoder  -> W_t -> L2-normalise -> v   (N, D)
    logits = exp(t) * u v^T            (N, N): cosine similarity, times a learned temperature
    loss = ( CE(logits, diag) + CE(logits^T, diag) ) / 2

Row i of the logits asks "which caption is image i's?" and column i asks "which image is
caption i's?"; the answer is always the diagonal, so both are cross-entropies with target
i (InfoNCE). Every other pair in the batch serves as a negative. The temperature is learned
as t = log(1/tau), starts at log(1/0.07) and is clamped at log(100) so the logits cannot blow up.

Zero-shot classification: embed one caption per class ("a red circle"), or the mean of
several templates per class (a template ensemble), and pick the class whose text embedding
is closest to the image's.
"""

import math

import numpy

from .. import nn
from ..errors import ArgumentError, ShapeError
from ..ops import normalization
from ..ops.elementwise import gelu
from ..ops.nn import symmetric_cross_entropy
from ..ops.reduce import masked_mean
from ..ops.similarity import similarity_logits
from ..tensor import Tensor, tensor
from . import hf_clip
from .activations import feed_forward_activation
from .vit import ViT

PAD, UNKNOWN = "<pad>", "<unk>"


class CaptionTokenizer:
    """Words -> ids with a fixed vocabulary; id 0 is padding, id 1 an unknown word."""

    def __init__(self, words):
        self.vocabulary = [PAD, UNKNOWN] + sorted(set(words) - {PAD, UNKNOWN})
        self.index = {w: i for i, w in enumerate(self.vocabulary)}

    def __len__(self):
        return len(self.vocabulary)

    def __call__(self, captions, max_length):
        """(N, max_length) int64 ids, padded with 0 (longer captions are cut)."""
        ids = numpy.zeros((len(captions), max_length), dtype=numpy.int64)
        for row, text in enumerate(captions):
            words = text.lower().split()[:max_length]
            ids[row, :len(words)] = [self.index.get(w, 1) for w in words]
        return ids


def l2_normalize(x, axis=-1, eps=1e-8):
    """x / ||x||, so that a dot product of two results is their cosine similarity.

    x / sqrt(sum(x * x) + eps), as one op with its gradient in closed form
    (ops/normalization.py)."""
    return normalization.l2_normalize(x, axis=axis, eps=eps)


class MLPImageEncoder(nn.Module):
    """(N, C, H, W) -> flatten -> Linear -> GELU -> Linear -> (N, width)."""

    def __init__(self, image_shape, width=128, seed=0):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.output_dim = width
        rng = numpy.random.default_rng(seed)
        self.hidden = nn.Linear(math.prod(self.image_shape), width, generator=rng)
        self.out = nn.Linear(width, width, generator=rng)

    def forward(self, images):
        if images.shape[1:] != self.image_shape:
            raise ShapeError(f"MLPImageEncoder: expected images of shape (N, *{self.image_shape})"
                             f", got {images.shape}")
        return self.out(gelu(self.hidden(images.flatten(1))))


class ViTImageEncoder(ViT):
    """The Vision Transformer (models/vit.py) as a CLIP image encoder: its classification
    head becomes a linear map of the CLS token to ``width`` features."""

    def __init__(self, image_size, patch_size, in_channels=3, width=64, heads=4, layers=2,
                 seed=0):
        super().__init__(image_size, patch_size, num_classes=width, in_channels=in_channels,
                         d_model=width, nhead=heads, num_layers=layers, seed=seed)
        self.output_dim = width


class TransformerTextEncoder(nn.Module):
    """Token ids (N, L) -> embeddings + learned positions -> pre-LN transformer encoder
    layers -> LayerNorm -> mean over the non-padding tokens -> (N, width).

    CLIP's own text encoder (CLIP.from_hf sets it up) differs in the pooling and the mask:
    ``pooling="eos"`` takes the final vector at the end-of-text token (the first position
    holding ``eos_token_id``; with eos_token_id=None the largest id of each row, which is
    the end-of-text token in CLIP's vocabulary), and ``causal=True`` lets position t attend
    to positions <= t only, so padding after the end-of-text token changes nothing and needs
    no mask (id 0 is then an ordinary token). Also ``dim_feedforward`` (default 2 width),
    ``activation`` (models/activations.py; CLIP: "quick_gelu") and ``layer_norm_eps``."""

    def __init__(self, vocab_size, max_length, width=64, heads=4, layers=2, seed=0,
                 dim_feedforward=None, activation="gelu", layer_norm_eps=1e-5, causal=False,
                 pooling="mean", eos_token_id=None):
        super().__init__()
        if pooling not in ("mean", "eos"):
            raise ArgumentError(f"TransformerTextEncoder: pooling must be 'mean' or 'eos', got "
                                f"{pooling!r}")
        self.output_dim, self.max_length = width, max_length
        self.causal, self.pooling, self.eos_token_id = causal, pooling, eos_token_id
        rng = numpy.random.default_rng(seed)
        self.token_embedding = nn.Embedding(vocab_size, width,
                                            padding_idx=0 if pooling == "mean" else None,
                                            generator=rng)
        self.position_embedding = nn.Parameter(
            tensor(0.02 * rng.standard_normal((max_length, width))))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(width, heads, dim_feedforward=dim_feedforward or 2 * width,
                                       dropout=0.0, activation=feed_forward_activation(activation),
                                       layer_norm_eps=layer_norm_eps, batch_first=True,
                                       norm_first=True, generator=rng)
            for _ in range(layers))
        self.final_norm = nn.LayerNorm(width, eps=layer_norm_eps)

    def forward(self, ids):
        if not isinstance(ids, Tensor):
            ids = tensor(ids, device=self.position_embedding.device)
        n, length = ids.shape
        if length > self.max_length:
            raise ShapeError(f"TransformerTextEncoder: token ids of length {length}, but it "
                             f"has positions for at most {self.max_length}")
        padding = ids == 0 if self.pooling == "mean" else None     # (N, L) True at padding
        positions = self.position_embedding
        if length != self.max_length:  # shorter captions use the first rows
            positions = positions[:length]
        x = self.token_embedding(ids) + positions
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=padding, is_causal=self.causal)
        if self.pooling == "eos":  # a mean over one position: that position's vector
            return masked_mean(self.final_norm(x), self._end_of_text(ids))
        # the mean over the real tokens (ops.reduce.masked_mean: one op)
        return masked_mean(self.final_norm(x), ids != 0)

    def _end_of_text(self, ids):
        """(N, L) bool, True at each row's end-of-text position (see the class docstring)."""
        xp, data = ids.xp, ids.data
        if self.eos_token_id is None:
            position = xp.argmax(data, axis=1)
        else:
            found = data == self.eos_token_id
            if not bool(xp.all(xp.any(found, axis=1))):
                raise ShapeError(f"TransformerTextEncoder: every row of ids must hold the "
                                 f"end-of-text token {self.eos_token_id} (pooling='eos')")
            position = xp.argmax(found, axis=1)
        return xp.arange(data.shape[1])[None, :] == position[:, None]


class CLIP(nn.Module):
    """Two encoders, two projections into a joint space of ``embed_dim``, one temperature."""

    max_logit_scale = math.log(100.0)

    def __init__(self, image_encoder, text_encoder, embed_dim=64, seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.image_encoder, self.text_encoder = image_encoder, text_encoder
        self.image_projection = nn.Linear(image_encoder.output_dim, embed_dim, bias=False,
                                          generator=rng)
        self.text_projection = nn.Linear(text_encoder.output_dim, embed_dim, bias=False,
                                         generator=rng)
        self.logit_scale = nn.Parameter(tensor(math.log(1 / 0.07)))

    def encode_image(self, images):
        """(N, C, H, W) -> (N, embed_dim), unit length."""
        return l2_normalize(self.image_projection(self.image_encoder(images)))

    def encode_text(self, ids):
        """(N, L) token ids -> (N, embed_dim), unit length."""
        return l2_normalize(self.text_projection(self.text_encoder(ids)))

    def forward(self, images, ids):
        """Logits (N_images, N_texts) = exp(min(t, log 100)) * cosine similarities u v^T
        (one op: ops.similarity.similarity_logits)."""
        return similarity_logits(self.encode_image(images), self.encode_text(ids),
                                 self.logit_scale, self.max_logit_scale)

    from_hf = classmethod(hf_clip.from_hf)  # Hugging Face CLIPModel weights


def clip_loss(logits):
    """Symmetric InfoNCE: mean of the image->text and text->image cross-entropies, the
    correct pairs on the diagonal:

        (F.cross_entropy(logits, arange(N)) + F.cross_entropy(logits.T, arange(N))) / 2

    computed as one op (ops.nn.SymmetricCrossEntropy) whose gradient is
    (softmax over rows + softmax over columns - 2 I) / 2N; non-square logits and NaN/inf
    in them raise, named after clip_loss."""
    return symmetric_cross_entropy(logits, name="clip_loss")


def zero_shot_classifier(model, tokenizer, class_prompts, max_length):
    """Unit text embeddings (num_classes, D), one per class: the normalised mean of the
    embeddings of that class's prompts (one prompt, or a template ensemble)."""
    rows = []
    for prompts in class_prompts:
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        embeddings = model.encode_text(tokenizer(prompts, max_length))
        rows.append(l2_normalize(embeddings.mean(axis=0)).numpy())
    return numpy.stack(rows)


def recall_at_k(similarity, ks=(1, 5), targets=None):
    """Fraction of rows whose matching column is among the top k, for each k.

    ``similarity`` is a host array (queries, candidates); the match of row i is column
    ``targets[i]`` (default: column i, the diagonal). Ties count against the match.
    """
    similarity = numpy.asarray(similarity)
    rows = numpy.arange(similarity.shape[0])
    targets = rows if targets is None else numpy.asarray(targets)
    correct = similarity[rows, targets][:, None]
    rank = (similarity >= correct).sum(axis=1) - 1   # how many others score at least as high
    return {k: float((rank < k).mean()) for k in ks}

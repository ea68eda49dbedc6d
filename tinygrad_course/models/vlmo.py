"""VLMo (Bao et al. 2022): one transformer with a mixture of modality experts, used as a dual
encoder AND as a fusion encoder.

Every layer shares its self-attention across modalities; its feed-forward network is chosen
by the token's modality and the layer (pre-LN):

    x = x + SelfAttention(LN1(x))                          shared by every token, every mode
    x = x + FFN_e(LN2(x))    e = V-FFN for image tokens, L-FFN for text tokens in the bottom
                             (unimodal) layers and in the dual-encoder modes;
                             e = VL-FFN for every token in the top ``fusion_layers`` layers
                             when image and text are read together

Three ways to run the same weights:

    image only   [CLS_img; patches]       all layers with V-FFN     -> u = norm(W_v h_0)
    text only    [CLS; words]             all layers with L-FFN     -> w = norm(W_t h_0)
    fusion       [CLS; words; CLS_img; patches]: the bottom layers with V-/L-FFN per token,
                 the top layers with VL-FFN; the fused text [CLS] feeds the ITM head, the
                 fused words the MLM head

Trained with L = L_itc + L_itm + L_mlm (models/albef.py's itc_loss, itm_loss, mlm_loss):

    L_itc = (H(I, softmax(s)) + H(I, softmax(s^T))) / 2,  s = exp(t) u w^T (dual-encoder modes)
    L_itm = -mean log p_itm[y]   N matching pairs, 2N hard negatives drawn in proportion to
                                 softmax(s) (sample_hard_negatives), fusion mode
    L_mlm = -mean_k log p_mlm,k[w_k]   the masked words, fusion mode

Retrieval uses the dual encoder (one embedding per image and per caption, a dot product);
matching uses the fusion mode.
"""

import math

import numpy

from ..autograd import no_grad
from ..errors import ShapeError
from ..nn import init
from ..nn.attention import MultiheadAttention
from ..nn.linear import Linear
from ..nn.module import Module, ModuleList, Parameter
from ..nn.normalization import LayerNorm
from ..ops.elementwise import gelu
from ..ops.movement import concatenate
from ..ops.similarity import similarity_logits
from ..tensor import tensor, zeros
from .albef import identical_rows, itc_loss, itm_loss, mlm_loss, sample_hard_negatives
from .bert import mask_tokens
from .clip import l2_normalize
from .fusion import MLMHead, PatchEmbedding, WordEmbedding

TEXT, IMAGE = 0, 1
EXPERTS = ("vision", "language", "vision_language")


class FeedForward(Module):
    """FFN(x) = W_2 gelu(W_1 x + b_1) + b_2, d -> 2d -> d: one expert."""

    def __init__(self, width, rng):
        super().__init__()
        self.linear1 = Linear(width, 2 * width, generator=rng)
        self.linear2 = Linear(2 * width, width, generator=rng)

    def forward(self, x):
        return self.linear2(gelu(self.linear1(x)))


class MoMELayer(Module):
    """One mixture-of-modality-experts layer (the module docstring). ``has_vl_expert``: the
    layer is one of the top fusion layers and owns a VL-FFN."""

    def __init__(self, width, heads, has_vl_expert, rng):
        super().__init__()
        self.norm1, self.norm2 = LayerNorm(width), LayerNorm(width)
        self.self_attn = MultiheadAttention(width, heads, batch_first=True, generator=rng)
        self.vision = FeedForward(width, rng)
        self.language = FeedForward(width, rng)
        self.vision_language = FeedForward(width, rng) if has_vl_expert else None

    def forward(self, x, text_length, fused, padding=None):
        """x (N, L, d) holds text tokens at positions < text_length and image tokens after.
        fused=True routes every token to the VL-FFN (this layer must have one)."""
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h, key_padding_mask=padding, need_weights=False)[0]
        h = self.norm2(x)
        if fused:
            if self.vision_language is None:
                raise ValueError("MoMELayer: fused=True on a layer without a VL-FFN")
            return x + self.vision_language(h)
        parts = []
        if text_length > 0:
            parts.append(self.language(h[:, :text_length]))
        if text_length < x.shape[1]:
            parts.append(self.vision(h[:, text_length:]))
        return x + (parts[0] if len(parts) == 1 else concatenate(parts, axis=1))


class VLMo(Module):
    """VLMo(vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4, layers=2,
    fusion_layers=1, embed_dim=32): a mixture-of-modality-experts transformer (module
    docstring); the top ``fusion_layers`` of the ``layers`` own a VL-FFN."""

    max_logit_scale = math.log(100.0)

    def __init__(self, vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4,
                 layers=2, fusion_layers=1, embed_dim=32, seed=0):
        super().__init__()
        if not 0 < fusion_layers <= layers:
            raise ValueError(f"VLMo: fusion_layers must be in [1, layers = {layers}], got "
                             f"{fusion_layers}")
        rng = numpy.random.default_rng(seed)
        self.vocab_size, self.fusion_layers = vocab_size, fusion_layers
        self.words = WordEmbedding(vocab_size, max_tokens, width, rng)
        self.patches = PatchEmbedding(image_size, patch_size, 3, width, rng)
        self.modality = Parameter(zeros(2, width))
        init.normal_(self.modality, 0.0, 0.02, generator=rng)
        self.layers = ModuleList(MoMELayer(width, heads, i >= layers - fusion_layers, rng)
                                 for i in range(layers))
        self.norm = LayerNorm(width)
        self.image_projection = Linear(width, embed_dim, generator=rng)
        self.text_projection = Linear(width, embed_dim, generator=rng)
        self.logit_scale = Parameter(tensor(math.log(1 / 0.07)))
        self.itm_head = Linear(width, 2, generator=rng)
        self.mlm_head = MLMHead(width, vocab_size, rng)

    def _embed_text(self, ids):
        return self.words(ids) + self.modality[TEXT]

    def _embed_image(self, images):
        return self.patches(images) + self.modality[IMAGE]

    def _run(self, x, text_length, fused, padding, hidden=None):
        bottom = len(self.layers) - self.fusion_layers
        for i, layer in enumerate(self.layers):
            x = layer(x, text_length, fused and i >= bottom, padding)
            if hidden is not None:
                hidden.append(x)
        return self.norm(x)

    def encode_image(self, images, hidden=None):
        """Image only, V-FFN everywhere: (N, 1 + P, d). ``hidden``: a list that receives the
        output of every layer."""
        return self._run(self._embed_image(images), 0, False, None, hidden)

    def encode_text(self, ids, hidden=None):
        """Text only, L-FFN everywhere: (N, T, d)."""
        ids = numpy.asarray(ids)
        return self._run(self._embed_text(ids), ids.shape[1], False, ids == 0, hidden)

    def encode_pair(self, images, ids, hidden=None):
        """Fusion: [words; patches] through the unimodal layers, then the VL layers:
        (N, T + 1 + P, d), the text first."""
        ids = numpy.asarray(ids)
        text, image = self._embed_text(ids), self._embed_image(images)
        if text.shape[0] != image.shape[0]:
            raise ShapeError(f"VLMo: {image.shape[0]} images but {text.shape[0]} captions")
        padding = numpy.concatenate([ids == 0, numpy.zeros(image.shape[:2], dtype=bool)], axis=1)
        return self._run(concatenate([text, image], axis=1), ids.shape[1], True, padding,
                         hidden)

    def itc_logits(self, images, ids):
        u = l2_normalize(self.image_projection(self.encode_image(images)[:, 0]))
        w = l2_normalize(self.text_projection(self.encode_text(ids)[:, 0]))
        return similarity_logits(u, w, self.logit_scale, self.max_logit_scale)

    def itm_logits(self, images, ids):
        return self.itm_head(self.encode_pair(images, ids)[:, 0])

    def embed(self, images=None, ids=None):
        """Unit dual-encoder features of images and/or captions, host arrays."""
        with no_grad():
            out = []
            if images is not None:
                out.append(l2_normalize(self.image_projection(self.encode_image(images)[:, 0])))
            if ids is not None:
                out.append(l2_normalize(self.text_projection(self.encode_text(ids)[:, 0])))
        return tuple(x.numpy() for x in out)

    def match_score(self, images, ids):
        """log p(match) - log p(no match) of each (image_n, caption_n), fusion mode: (N,)."""
        with no_grad():
            logits = self.itm_logits(images, ids).numpy()
        return logits[:, 1] - logits[:, 0]

    def losses(self, images, ids, rng, mask_id, mask_prob=0.15, special_ids=(0,),
               positives=None):
        """L_itc + L_itm (hard negatives) + L_mlm of one batch, a dict of 0-d tensors.
        positives (N, N) bool: pairs i != j that match too, never drawn as negatives
        (default: identical captions)."""
        ids = numpy.asarray(ids)
        images = numpy.asarray(images)
        n = ids.shape[0]
        positives = identical_rows(ids) if positives is None else positives
        logits = self.itc_logits(images, ids)
        itc = itc_loss(logits)
        text_for_image, image_for_text = sample_hard_negatives(logits.numpy(), rng,
                                                               positives)
        pair_images = numpy.concatenate([images, images[image_for_text], images])
        pair_ids = numpy.concatenate([ids, ids, ids[text_for_image]])
        labels = numpy.concatenate([numpy.ones(n, numpy.int64), numpy.zeros(2 * n, numpy.int64)])
        itm = itm_loss(self.itm_logits(pair_images, pair_ids),
                       tensor(labels, device=logits.device))
        masked_ids, targets = mask_tokens(ids, mask_id, self.vocab_size, rng, mask_prob,
                                          special_ids)
        fused = self.encode_pair(images, masked_ids)[:, :ids.shape[1]]
        mlm = mlm_loss(self.mlm_head(fused), targets)
        return {"loss": itc + itm + mlm, "itc": itc, "itm": itm, "mlm": mlm}

"""ViLT (Kim et al. 2021): one single-stream transformer over words and patches together, no
image encoder of its own.

    x = [ E_w(ids) + P_w + m_text ;  [CLS_img; patches W_e^T] + P_v + m_image ]   (N, T+1+P, d)
    h = LN(Encoder(x))                 pre-LN self-attention layers over BOTH modalities;
                                       the text's pads are masked as keys
    p_itm = softmax(W_itm h_0 + b)     the text [CLS] (position 0) decides "do they match?"
    p_mlm = softmax(MLMHead(h_k))      the words at the masked positions k < T

m_text, m_image are the two modality-type embeddings (one learned vector each): with one
shared stack of layers, they are what tells a word from a patch.

Trained with L = L_itm + L_mlm (models/albef.py's itm_loss and mlm_loss):

    L_itm = -mean log p_itm[y]       over N matching pairs (y = 1) and N mismatches (y = 0):
                                     each image with a random other caption of the batch
    L_mlm = -mean_k log p_mlm,k[w_k] over the masked words k (BERT's 15%, 80/10/10), the
                                     image in the same sequence

The ITM negatives are random, as in the paper: without a contrastive head there is no
similarity to draw hard negatives from.

The price of one stream: every (image, caption) pair is a full pass over T + 1 + P tokens,
and retrieval has to run the whole model on every pair (no embedding to index), where a
dual encoder (CLIP, ALBEF's ITC) embeds each image and each caption once.
"""

import numpy

from ..autograd import no_grad
from ..errors import ShapeError
from ..nn import init
from ..nn.linear import Linear
from ..nn.module import Module, Parameter
from ..nn.normalization import LayerNorm
from ..ops.movement import concatenate
from ..tensor import Tensor, tensor, zeros
from .albef import identical_rows, itm_loss, mlm_loss, sample_random_negatives
from .bert import mask_tokens
from .fusion import MLMHead, PatchEmbedding, WordEmbedding, _encoder_layers

TEXT, IMAGE = 0, 1


class ViLT(Module):
    """ViLT(vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4, layers=2):
    (images (N, 3, S, S), ids (N, T)) -> joint hidden states (N, T + 1 + P, width)."""

    def __init__(self, vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4,
                 layers=2, seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.vocab_size, self.width = vocab_size, width
        self.words = WordEmbedding(vocab_size, max_tokens, width, rng)
        self.patches = PatchEmbedding(image_size, patch_size, 3, width, rng)
        self.modality = Parameter(zeros(2, width))       # row TEXT, row IMAGE
        init.normal_(self.modality, 0.0, 0.02, generator=rng)
        self.layers = _encoder_layers(width, heads, layers, rng)
        self.norm = LayerNorm(width)
        self.itm_head = Linear(width, 2, generator=rng)
        self.mlm_head = MLMHead(width, vocab_size, rng)

    def forward(self, images, ids):
        ids = numpy.asarray(ids)
        text = self.words(ids) + self.modality[TEXT]
        image = self.patches(images) + self.modality[IMAGE]
        if text.shape[0] != image.shape[0]:
            raise ShapeError(f"ViLT: {image.shape[0]} images but {text.shape[0]} captions")
        x = concatenate([text, image], axis=1)
        padding = numpy.concatenate([ids == 0, numpy.zeros(image.shape[:2], dtype=bool)], axis=1)
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=padding)
        return self.norm(x)

    def itm_logits(self, images, ids):
        return self.itm_head(self(images, ids)[:, 0])

    def mlm_logits(self, images, masked_ids):
        length = numpy.asarray(masked_ids).shape[1]
        return self.mlm_head(self(images, masked_ids)[:, :length])

    def match_score(self, images, ids):
        """log p(match) - log p(no match) of each (image_n, caption_n): (N,) host array."""
        with no_grad():
            logits = self.itm_logits(images, ids).numpy()
        return logits[:, 1] - logits[:, 0]

    def losses(self, images, ids, rng, mask_id, mask_prob=0.15, special_ids=(0,),
               positives=None):
        """L_itm + L_mlm of one batch: N matching pairs and N random mismatches (each image
        with another caption of the batch), and the masked words read with the image.
        positives (N, N) bool: pairs i != j that match too, never drawn as negatives (default:
        identical captions)."""
        ids = numpy.asarray(ids)
        n = ids.shape[0]
        positives = identical_rows(ids) if positives is None else positives
        text_for_image, _ = sample_random_negatives(n, rng, positives)
        pair_images = concatenate([images, images], axis=0) if isinstance(images, Tensor) \
            else numpy.concatenate([images, images])
        pair_ids = numpy.concatenate([ids, ids[text_for_image]])
        labels = numpy.concatenate([numpy.ones(n, numpy.int64), numpy.zeros(n, numpy.int64)])
        logits = self.itm_logits(pair_images, pair_ids)
        itm = itm_loss(logits, tensor(labels, device=logits.device))
        masked_ids, targets = mask_tokens(ids, mask_id, self.vocab_size, rng, mask_prob,
                                          special_ids)
        mlm = mlm_loss(self.mlm_logits(images, masked_ids), targets)
        return {"loss": itm + mlm, "itm": itm, "mlm": mlm}

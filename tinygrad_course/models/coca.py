"""CoCa (Yu et al. 2022, "Contrastive Captioners"): one model trained as a dual encoder and
as an image captioner at once.

    image tokens   v = ImageEncoder(image)                       (N, 1 + P, d), a ViT
    text           y = [bos] w_1 ... w_n [eos], then [cls] at position n + 2 (the first
                   pad; caption_decoder.CaptionVocabulary gives the rest)
    unimodal       u = first half of the text layers on y: causal self-attention only
                   (nn.TransformerEncoderLayer, is_causal), no image
    text embedding w = norm(W_t LN(u_cls))                       the [cls] output: it is last,
                   so under the causal mask it has read the whole caption
    pooling        q_con = AttnPool_1(v)  (N, 1, d),  q_cap = AttnPool_n(v)  (N, n, d)
                   (attentional_pooling: learned queries attend to the image tokens)
    image embedding e = norm(W_v q_con)
    multimodal     h = second half of the text layers on u: causal self-attention +
                   cross-attention to q_cap (caption_decoder.GatedDecoderLayer)
    logits         = W_out LN(h)                                 (N, T + 1, V)

The loss of one batch is a weighted sum of the two objectives,

    L = lambda_con L_con + lambda_cap L_cap          (coca_loss)
    L_con = CLIP's symmetric InfoNCE on s = exp(t) e w^T        (contrastive_loss)
    L_cap = -mean log p(y_{t+1} | y_<=t, image)                 (captioning_loss)

so lambda_cap = 0 is a CLIP whose text tower is a causal transformer, and lambda_con = 0 an
image captioner. One forward pass serves both: the unimodal half is run once and feeds both
the text embedding and the multimodal half. (The paper uses lambda_cap = 2, lambda_con = 1,
a 256-query captioning pooler and a single-query contrastive pooler.)
"""

import math

import numpy

from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError
from ..nn import init
from ..nn.attention import MultiheadAttention
from ..nn.linear import Linear
from ..nn.module import Module, ModuleList, Parameter
from ..nn.normalization import LayerNorm
from ..nn.transformer import TransformerEncoderLayer
from ..ops.similarity import similarity_logits
from ..tensor import Tensor, zeros
from .caption_decoder import caption_loss, gated_decoder_layers, repeat_rows
from .clip import clip_loss, l2_normalize
from .decoding import generate
from .fusion import ImageEncoder, WordEmbedding


# ----- the objectives ---------------------------------------------------------------------------
def contrastive_loss(image_embeddings, text_embeddings, logit_scale,
                     max_logit_scale=math.log(100.0)):
    """CLIP's loss on unit embeddings e (N, D) of the images and w (N, D) of their captions:

        s = exp(min(t, log 100)) e w^T                           (N, N), pairs on the diagonal
        L_con = (CE(s, arange N) + CE(s^T, arange N)) / 2       (clip.clip_loss)

    t = logit_scale (a 0-d Tensor, learned). Gradient with respect to s:
    (softmax over rows + softmax over columns - 2 I) / 2N."""
    return clip_loss(similarity_logits(image_embeddings, text_embeddings, logit_scale,
                                       max_logit_scale))


def captioning_loss(logits, ids, pad_id=0):
    """L_cap = -(1 / M) sum_{n, t: y_{n,t+1} != pad} log softmax(logits_{n,t})[y_{n,t+1}], the
    captioner's next-token cross-entropy under teacher forcing (caption_decoder.caption_loss;
    M real targets; gradient (softmax - onehot) / M at each)."""
    return caption_loss(logits, ids, pad_id)


def coca_loss(contrastive, captioning, lambda_con=1.0, lambda_cap=2.0):
    """L = lambda_con L_con + lambda_cap L_cap (0-d Tensors; either may be None when its
    weight is 0, so a CLIP-only or caption-only step need not compute it). Gradient:
    lambda_con dL_con + lambda_cap dL_cap."""
    for name, value in (("lambda_con", lambda_con), ("lambda_cap", lambda_cap)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or value < 0:
            raise ArgumentError(f"coca_loss: {name} must be a finite number >= 0, got "
                                f"{value!r}")
    if lambda_con == 0 and lambda_cap == 0:
        raise ArgumentError("coca_loss: lambda_con and lambda_cap are both 0: nothing to learn")
    terms = []
    for name, weight, loss in (("contrastive", lambda_con, contrastive),
                               ("captioning", lambda_cap, captioning)):
        if weight == 0:
            continue
        if loss is None:
            raise ArgumentError(f"coca_loss: the {name} loss is None but its weight is "
                                f"{weight}")
        if not isinstance(loss, Tensor) or loss.ndim != 0:
            raise ShapeError(f"coca_loss: the {name} loss must be a 0-d Tensor, got "
                             f"{getattr(loss, 'shape', type(loss).__name__)}")
        terms.append(loss if weight == 1 else loss * weight)
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


# ----- attentional pooling ----------------------------------------------------------------------
def attentional_pooling(image_tokens, queries, attention, norm):
    """n learned queries read the image tokens with one multi-head attention:

        pooled = LN(MHA(Q, v, v)),   MHA(Q, v, v) = concat_h softmax(Q W_q^h (v W_k^h)^T /
                                     sqrt(d_h)) v W_v^h, then W_o
    image_tokens v (N, S, d); queries Q (n, d), the same for every image; -> (N, n, d).
    Gradients reach v, Q and the attention and norm weights through the ops."""
    if image_tokens.ndim != 3 or queries.ndim != 2 or queries.shape[1] != image_tokens.shape[2]:
        raise ShapeError(f"attentional_pooling: image_tokens must be (N, S, d) and queries "
                         f"(n, d), got {image_tokens.shape} and {queries.shape}")
    n = image_tokens.shape[0]
    q = queries.reshape(1, *queries.shape).broadcast_to(n, *queries.shape)
    return norm(attention(q, image_tokens, image_tokens, need_weights=False)[0])


class AttentionalPooler(Module):
    """AttentionalPooler(width, heads, num_queries): (N, S, width) -> (N, num_queries, width),
    attentional_pooling with its own queries (drawn N(0, 0.02^2)), attention and LayerNorm."""

    def __init__(self, width, heads, num_queries, rng, dtype=None):
        super().__init__()
        self.queries = Parameter(zeros(num_queries, width, dtype=dtype))
        init.normal_(self.queries, 0.0, 0.02, generator=rng)
        self.attention = MultiheadAttention(width, heads, batch_first=True, generator=rng,
                                            dtype=dtype)
        self.norm = LayerNorm(width, dtype=dtype)

    def forward(self, image_tokens):
        return attentional_pooling(image_tokens, self.queries, self.attention, self.norm)


# ----- the model --------------------------------------------------------------------------------
class CoCa(Module):
    """CoCa(vocabulary, image_size=24, patch_size=4, width=48, heads=4, image_layers=1,
    text_layers=2, caption_queries=8, embed_dim=32, seed=0): the module docstring's model.

    vocabulary: a caption_decoder.CaptionVocabulary; [cls] gets the id after its last word.
    text_layers is split in half: the first text_layers // 2 unimodal, the rest multimodal."""

    max_logit_scale = math.log(100.0)

    def __init__(self, vocabulary, image_size=24, patch_size=4, width=48, heads=4,
                 image_layers=1, text_layers=2, caption_queries=8, embed_dim=32, seed=0):
        super().__init__()
        if text_layers < 2:
            raise ArgumentError(f"CoCa: text_layers must be >= 2 (a unimodal and a multimodal "
                                f"half), got {text_layers}")
        rng = numpy.random.default_rng(seed)
        self.vocabulary, self.width = vocabulary, width
        self.cls_id = len(vocabulary)
        self.vocab_size = len(vocabulary) + 1
        self.image_encoder = ImageEncoder(image_size, patch_size, 3, width, heads, image_layers,
                                          seed=seed + 1)
        self.embedding = WordEmbedding(self.vocab_size, vocabulary.max_tokens + 1, width, rng)
        self.unimodal = ModuleList(
            TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0,
                                    activation="gelu", batch_first=True, norm_first=True,
                                    generator=rng)
            for _ in range(text_layers // 2))
        self.multimodal = gated_decoder_layers(width, heads, text_layers - text_layers // 2, rng)
        self.contrastive_pooler = AttentionalPooler(width, heads, 1, rng)
        self.caption_pooler = AttentionalPooler(width, heads, caption_queries, rng)
        self.text_norm = LayerNorm(width)
        self.image_projection = Linear(width, embed_dim, generator=rng)
        self.text_projection = Linear(width, embed_dim, generator=rng)
        self.logit_scale = Parameter(Tensor(numpy.array(math.log(1 / 0.07), numpy.float32)))
        self.output_norm = LayerNorm(width)
        self.head = Linear(width, self.vocab_size, generator=rng)

    # the pieces
    def with_cls(self, ids):
        """ids (N, T) [bos] ... [eos] pad -> (N, T + 1) with [cls] at each caption's first pad,
        and those positions (N,)."""
        ids = numpy.asarray(ids.numpy() if isinstance(ids, Tensor) else ids)
        if ids.ndim != 2 or ids.shape[1] != self.vocabulary.max_tokens:
            raise ShapeError(f"CoCa: ids must be (N, {self.vocabulary.max_tokens}) from the "
                             f"vocabulary, got {ids.shape}")
        padded = numpy.concatenate([ids, numpy.zeros((len(ids), 1), ids.dtype)], axis=1)
        positions = (ids != self.vocabulary.pad_id).sum(axis=1)
        padded[numpy.arange(len(ids)), positions] = self.cls_id
        return padded, positions

    def unimodal_tokens(self, ids):
        """The unimodal half: (N, T) ids -> (N, T, d), causal, no image."""
        x = self.embedding(ids)
        for layer in self.unimodal:
            x = layer(x, is_causal=True)
        return x

    def multimodal_logits(self, unimodal, caption_queries):
        """The multimodal half on the unimodal outputs, cross-attending to the captioning
        pooler's n image tokens: (N, T, d), (N, n, d) -> logits (N, T, V)."""
        h = unimodal
        for layer in self.multimodal:
            h = layer(h, caption_queries, tgt_is_causal=True)
        return self.head(self.output_norm(h))

    def image_embedding(self, image_tokens):
        return l2_normalize(self.image_projection(self.contrastive_pooler(image_tokens)[:, 0]))

    def text_embedding(self, unimodal, cls_positions):
        rows = numpy.arange(unimodal.shape[0])
        return l2_normalize(self.text_projection(self.text_norm(unimodal[rows, cls_positions])))

    def forward(self, images, ids, captioning=True):
        """One pass: {"image": e (N, D), "text": w (N, D), "logits": (N, T + 1, V) or None}."""
        image_tokens = self.image_encoder(images)
        ids_cls, positions = self.with_cls(ids)
        unimodal = self.unimodal_tokens(ids_cls)
        logits = self.multimodal_logits(unimodal, self.caption_pooler(image_tokens)) \
            if captioning else None
        return {"image": self.image_embedding(image_tokens),
                "text": self.text_embedding(unimodal, positions), "logits": logits}

    def losses(self, images, ids, lambda_con=1.0, lambda_cap=2.0):
        """{"loss": coca_loss, "contrastive": L_con, "captioning": L_cap} of one batch; a term
        whose weight is 0 is not computed (None)."""
        out = self(images, ids, captioning=lambda_cap != 0)
        contrastive = contrastive_loss(out["image"], out["text"], self.logit_scale,
                                       self.max_logit_scale) if lambda_con != 0 else None
        captioning = captioning_loss(out["logits"], ids, self.vocabulary.pad_id) \
            if lambda_cap != 0 else None
        return {"loss": coca_loss(contrastive, captioning, lambda_con, lambda_cap),
                "contrastive": contrastive, "captioning": captioning}

    # using it
    def embed(self, images=None, ids=None):
        """Unit embeddings of images and/or captions as host arrays (the dual-encoder use)."""
        with no_grad():
            e = None if images is None else self.image_embedding(self.image_encoder(images))
            if ids is None:
                w = None
            else:
                ids_cls, positions = self.with_cls(ids)
                w = self.text_embedding(self.unimodal_tokens(ids_cls), positions)
        return tuple(x.numpy() for x in (e, w) if x is not None)

    def generate(self, images, beam_size=1, length_penalty=0.0):
        """Caption ids (N, <= max_tokens - 1) after [bos] (decoding.generate): the unimodal
        half then the multimodal half on the prefix, [cls] never fed (under the causal mask
        nothing before it depends on it)."""
        with no_grad():
            pooled = self.caption_pooler(self.image_encoder(images))

        def next_log_probs(prefix):
            with no_grad():
                queries = repeat_rows(pooled, prefix.shape[0], "CoCa.generate")
                logits = self.multimodal_logits(self.unimodal_tokens(prefix), queries)[:, -1]
                return logits.log_softmax(axis=-1).numpy()[:, :self.cls_id]  # never [cls]

        vocabulary = self.vocabulary
        prefix = numpy.full((len(pooled), 1), vocabulary.bos_id, dtype=numpy.int64)
        return generate(next_log_probs, prefix, vocabulary.max_tokens - 1, vocabulary.eos_id,
                        beam_size=beam_size, length_penalty=length_penalty)

    def caption(self, images, beam_size=1, length_penalty=0.0):
        return self.vocabulary.decode(self.generate(images, beam_size, length_penalty))


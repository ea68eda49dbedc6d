"""BLIP (Li et al. 2022, "Bootstrapping Language-Image Pre-training"): one text transformer
that understands AND writes, and CapFilt, which uses it to clean its own noisy training data.

The image encoder is a ViT (models/vit.py) that keeps every token: v = ViT(image), (N, 1 + P,
d). The text transformer runs in three roles (a "multimodal mixture of encoder-decoder"),
each role picked by the token in front of the words:

    role        first token  self-attention           cross-attention   output read at
    unimodal    [cls]        bidirectional (encoder)  none              [cls] -> ITC
    grounded    [enc]        bidirectional (encoder)  to v, every layer [enc] -> ITM
    decoder     [dec]        causal (its own weights) to v, every layer every word -> LM

Each layer is pre-LN: x += SA(LN(x)); x += CA(LN(x), v) (grounded, decoder); x += FFN(LN(x)).
The encoder and decoder roles share ALL parameters (word embeddings, cross-attention, FFN,
their LayerNorms, the final LayerNorm) except the self-attention layers (SA and its
LayerNorm): bidirectional and causal attention are the two tasks that differ most, and the
rest is shared so that multi-task training is cheaper and each task helps the others.

The loss of one batch is L = L_itc + L_itm + L_lm:

    L_itc = (H(y_i2t, softmax(s)) + H(y_t2i, softmax(s^T))) / 2,   s = exp(t) u w^T,
            u = norm(W_v v_0), w = norm(W_t unimodal(caption)_0)  (albef.itc_loss: CLIP's
            loss, optionally with a momentum teacher's soft targets)
    L_itm = -mean log p_itm[y]   p_itm = softmax(W_itm grounded(caption, v)_0), over N true
            pairs and 2N hard negatives drawn in proportion to softmax(s) (ALBEF's
            sample_hard_negatives)
    L_lm  = -mean_{n, t} log p(y_{n,t} | y_{n,<t}, image_n)   the decoder's next-word
            cross-entropy over the words and the final [eos], padding ignored (lm_loss)

CapFilt (Captioning and Filtering) on a web-like set of (image, caption) pairs, some of whose
captions are wrong:
    1. train BLIP on the noisy pairs;
    2. the captioner (its decoder role) writes a synthetic caption for every training image
       (caption_images: greedy, beam search or nucleus sampling, models/decoding.py);
    3. the filter (its ITM head) scores every web and synthetic caption against its image,
       p_match = softmax(itm logits)[1], and removes those with p_match < threshold
       (filter_captions);
    4. train a new BLIP on the kept pairs (an image may keep both of its captions, one, or
       none).
capfilt takes the captioner and the filter as two models: as in the paper they can be the model
of step 1 fine-tuned apart on a small human-annotated set (COCO there), the captioner with LM
and the filter with ITC + ITM (demos/blip_capfilt.py does both), or that model as it is.
"""

import math
import numbers

import numpy

from ..autograd import no_grad
from ..errors import ArgumentError, DTypeError, ShapeError, TensorError
from ..functional import cross_entropy
from ..nn.attention import MultiheadAttention
from ..nn.linear import Linear
from ..nn.module import Module, ModuleList, Parameter
from ..nn.normalization import LayerNorm
from ..ops.similarity import similarity_logits
from ..tensor import Tensor, tensor
from .albef import (
    identical_rows,
    itc_loss,
    itm_loss,
    sample_hard_negatives,
    sample_random_negatives,
)
from .bert import IGNORE
from .clip import CaptionTokenizer, l2_normalize
from .decoding import generate, nucleus_sample
from .fusion import MLMHead, WordEmbedding
from .vit import ViT
from .vlmo import FeedForward

ROLES = ("unimodal", "grounded", "decoder")
CLS, ENC, DEC, EOS = "[cls]", "[enc]", "[dec]", "[eos]"


class BLIPTokenizer(CaptionTokenizer):
    """Words -> ids for the three roles. Id 0 is padding, 1 an unknown word; [cls], [enc],
    [dec] and [eos] are four more words of the vocabulary, never produced by splitting a
    caption.

    words(captions)       (N, max_words) the words alone, padded with 0 (also the plain
                          call tokenizer(captions), as the other tokenizers)
    encoder_ids(words, role)  (N, 1 + max_words): [cls] or [enc] in front
    decoder_ids(words)    inputs [dec] w_1 .. w_n and targets w_1 .. w_n [eos], (N, 1 +
                          max_words) each, targets IGNORE at padding
    caption(ids)          generated ids -> text, up to the first [eos]
    """

    def __init__(self, words, max_words):
        super().__init__(list(words) + [CLS, ENC, DEC, EOS])
        self.max_words = max_words
        self.cls_id, self.enc_id = self.index[CLS], self.index[ENC]
        self.dec_id, self.eos_id = self.index[DEC], self.index[EOS]
        # what a caption never contains: padding, the unknown word, the role tokens
        self.not_words = (0, 1, self.cls_id, self.enc_id, self.dec_id)

    def words(self, captions):
        return super().__call__(captions, self.max_words)

    def __call__(self, captions, max_length=None):
        return super().__call__(captions, max_length or self.max_words)

    def encoder_ids(self, words, role="unimodal"):
        words = _word_ids(words, "BLIPTokenizer.encoder_ids")
        first = {"unimodal": self.cls_id, "grounded": self.enc_id}.get(role)
        if first is None:
            raise ArgumentError(f"BLIPTokenizer.encoder_ids: role must be 'unimodal' or "
                                f"'grounded', got {role!r}")
        return numpy.concatenate([numpy.full((len(words), 1), first), words], axis=1)

    def decoder_ids(self, words):
        words = _word_ids(words, "BLIPTokenizer.decoder_ids")
        n = len(words)
        inputs = numpy.concatenate([numpy.full((n, 1), self.dec_id), words], axis=1)
        targets = numpy.concatenate([words, numpy.zeros((n, 1), words.dtype)], axis=1)
        lengths = (words != 0).sum(axis=1)
        targets[numpy.arange(n), lengths] = self.eos_id
        return inputs, numpy.where(targets == 0, IGNORE, targets)

    def caption(self, ids):
        """One row of generated ids -> its text, stopping at [eos] and skipping padding."""
        out = []
        for i in numpy.asarray(ids).tolist():
            if i == self.eos_id:
                break
            if i != 0:
                out.append(self.vocabulary[i])
        return " ".join(out)


def _word_ids(words, name):
    words = numpy.asarray(words.numpy() if isinstance(words, Tensor) else words)
    if words.ndim != 2 or not numpy.issubdtype(words.dtype, numpy.integer):
        raise ShapeError(f"{name}: word ids must be an (N, max_words) integer array, got "
                         f"{words.dtype} {words.shape}")
    return words


# ----- the objectives ----------------------------------------------------------------------------
def lm_loss(logits, targets):
    """The captioner's language-modelling loss: next-word cross-entropy, padding ignored.

        L = -1/|K| sum_{(n, t) in K} log softmax(logits_{n,t})[y_{n,t}],  K = {y_{n,t} != IGNORE}

    logits (N, T, V) from the decoder role (position t has read [dec] w_1 .. w_t and the
    image); targets (N, T) int, w_{t+1} (the last one [eos]) and IGNORE at padding. Gradient
    with respect to logits_{n,t}: (softmax(logits_{n,t}) - onehot(y_{n,t})) / |K| on K, 0
    elsewhere."""
    if not isinstance(logits, Tensor) or logits.ndim != 3:
        raise ShapeError(f"lm_loss: logits must have shape (N, T, V), got "
                         f"{getattr(logits, 'shape', type(logits).__name__)}")
    try:
        targets = numpy.asarray(targets.numpy() if isinstance(targets, Tensor) else targets)
    except (TypeError, ValueError, TensorError) as error:
        raise ShapeError(f"lm_loss: targets must be an (N, T) array of token ids, got "
                         f"{type(targets).__name__} ({error})") from None
    n, length, vocab = logits.shape
    if targets.shape != (n, length):
        raise ShapeError(f"lm_loss: targets must have shape {(n, length)}, got {targets.shape}")
    if not numpy.issubdtype(targets.dtype, numpy.integer):
        raise DTypeError(f"lm_loss: targets must be integer token ids, got {targets.dtype}")
    if ((targets != IGNORE) & ((targets < 0) | (targets >= vocab))).any():
        raise ArgumentError(f"lm_loss: targets must be ids in [0, {vocab}) or IGNORE "
                            f"({IGNORE})")
    if (targets == IGNORE).all():
        raise ValueError("lm_loss: every target is IGNORE (no word to predict)")
    return cross_entropy(logits.reshape(n * length, vocab),
                         tensor(targets.reshape(-1), device=logits.device), ignore_index=IGNORE)


# ----- the text transformer --------------------------------------------------------------------
class BLIPTextLayer(Module):
    """One layer of the text transformer (module docstring). encoder_attention (+
    encoder_norm) serves the unimodal and grounded roles, decoder_attention (+ decoder_norm)
    the decoder role; cross-attention, the feed-forward network and their norms serve all
    the roles that use them."""

    def __init__(self, width, heads, rng):
        super().__init__()
        self.encoder_norm = LayerNorm(width)
        self.encoder_attention = MultiheadAttention(width, heads, batch_first=True,
                                                    generator=rng)
        self.decoder_norm = LayerNorm(width)
        self.decoder_attention = MultiheadAttention(width, heads, batch_first=True,
                                                    generator=rng)
        self.cross_norm = LayerNorm(width)
        self.cross_attention = MultiheadAttention(width, heads, batch_first=True, generator=rng)
        self.feed_forward_norm = LayerNorm(width)
        self.feed_forward = FeedForward(width, rng)

    def self_attention_parameters(self, role):
        """The parameters that are the role's own (its self-attention layer)."""
        if role == "decoder":
            return [*self.decoder_norm.parameters(), *self.decoder_attention.parameters()]
        return [*self.encoder_norm.parameters(), *self.encoder_attention.parameters()]

    def forward(self, x, role, image=None, padding=None):
        """x (N, T, d) -> (N, T, d). The decoder role attends causally (position t reads
        positions <= t: the padding at the end is never read by a word, so it needs no mask);
        the encoder roles skip the keys where ``padding`` (N, T) is True."""
        decoder = role == "decoder"
        norm, attention = ((self.decoder_norm, self.decoder_attention) if decoder else
                           (self.encoder_norm, self.encoder_attention))
        h = norm(x)
        x = x + attention(h, h, h, key_padding_mask=None if decoder else padding,
                          need_weights=False, is_causal=decoder)[0]
        if image is not None:
            h = self.cross_norm(x)
            x = x + self.cross_attention(h, image, image, need_weights=False)[0]
        return x + self.feed_forward(self.feed_forward_norm(x))


class BLIPTextTransformer(Module):
    """Word embeddings + layers + a final LayerNorm, run in one of ROLES:
    forward(ids (N, T), role, image (N, 1 + P, d) for the grounded and decoder roles) ->
    (N, T, d)."""

    def __init__(self, vocab_size, max_tokens, width, heads, layers, rng):
        super().__init__()
        self.embedding = WordEmbedding(vocab_size, max_tokens, width, rng)
        self.layers = ModuleList(BLIPTextLayer(width, heads, rng) for _ in range(layers))
        self.norm = LayerNorm(width)

    def forward(self, ids, role, image=None):
        if role not in ROLES:
            raise ArgumentError(f"BLIPTextTransformer: role must be one of {ROLES}, got "
                                f"{role!r}")
        if (role == "unimodal") != (image is None):
            raise ArgumentError(f"BLIPTextTransformer: the {role} role "
                                f"{'takes no' if role == 'unimodal' else 'needs an'} image")
        ids = numpy.asarray(ids.numpy() if isinstance(ids, Tensor) else ids)
        if image is not None and image.shape[0] != ids.shape[0]:
            raise ShapeError(f"BLIPTextTransformer: {image.shape[0]} images but "
                             f"{ids.shape[0]} captions")
        x = self.embedding(ids)
        padding = ids == 0
        for layer in self.layers:
            x = layer(x, role, image, padding)
        return self.norm(x)


# ----- the model --------------------------------------------------------------------------------
class BLIP(Module):
    """BLIP(vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4,
    image_layers=1, text_layers=2, embed_dim=32, seed=0): the ViT image encoder, the text
    transformer of the module docstring, the ITC projections and temperature, the ITM head
    and the LM head (BERT's prediction head: transform, LayerNorm, vocabulary)."""

    max_logit_scale = math.log(100.0)

    def __init__(self, vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4,
                 image_layers=1, text_layers=2, embed_dim=32, seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.vocab_size = vocab_size
        self.image_encoder = ViT(image_size, patch_size, None, in_channels=3, d_model=width,
                                 nhead=heads, num_layers=image_layers,
                                 dim_feedforward=2 * width, seed=seed + 1)
        self.text = BLIPTextTransformer(vocab_size, max_tokens, width, heads, text_layers, rng)
        self.image_projection = Linear(width, embed_dim, generator=rng)
        self.text_projection = Linear(width, embed_dim, generator=rng)
        self.logit_scale = Parameter(tensor(math.log(1 / 0.07)))
        self.itm_head = Linear(width, 2, generator=rng)
        self.lm_head = MLMHead(width, vocab_size, rng)

    def encode_image(self, images):
        """images (N, 3, S, S) -> every ViT token, (N, 1 + P, d)."""
        if not isinstance(images, Tensor):
            images = tensor(numpy.asarray(images), device=self.logit_scale.device)
        return self.image_encoder.encode(images)

    # the three roles
    def itc_logits(self, image_tokens, cls_ids):
        """s = exp(min(t, log 100)) u w^T, (N_images, N_captions); cls_ids start with [cls]."""
        return similarity_logits(self.image_features(image_tokens),
                                 self.text_features(cls_ids), self.logit_scale,
                                 self.max_logit_scale)

    def image_features(self, image_tokens):
        return l2_normalize(self.image_projection(image_tokens[:, 0]))

    def text_features(self, cls_ids):
        return l2_normalize(self.text_projection(self.text(cls_ids, "unimodal")[:, 0]))

    def itm_logits(self, image_tokens, enc_ids):
        """(N, 2): [no match, match] of caption n (starting with [enc]) read with image n."""
        return self.itm_head(self.text(enc_ids, "grounded", image_tokens)[:, 0])

    def lm_logits(self, image_tokens, dec_ids):
        """(N, T, V): position t's distribution of the next word, given [dec] w_1 .. w_t."""
        return self.lm_head(self.text(dec_ids, "decoder", image_tokens))

    # the objectives
    def losses(self, images, words, tokenizer, rng, positives=None, teacher=None, alpha=0.0,
               negatives="hard"):
        """L_itc + L_itm + L_lm of one batch (module docstring), a dict of 0-d tensors with
        their sum under "loss". words (N, W) word ids (tokenizer.words). positives (N, N)
        bool: pairs i != j that match too, never drawn as ITM negatives (default: identical
        captions). teacher, alpha: a momentum model (albef.momentum_copy) whose ITC softmax
        softens the ITC targets, as BLIP's momentum encoder does (alpha = 0: none).
        negatives: "hard" (drawn in proportion to the ITC similarity) or "random" (uniform,
        the ablation)."""
        if negatives not in ("hard", "random"):
            raise ArgumentError(f"BLIP.losses: negatives must be 'hard' or 'random', got "
                                f"{negatives!r}")
        words = _word_ids(words, "BLIP.losses")
        n = len(words)
        positives = identical_rows(words) if positives is None else positives
        image_tokens = self.encode_image(images)
        cls_ids = tokenizer.encoder_ids(words, "unimodal")
        logits = self.itc_logits(image_tokens, cls_ids)
        soft_i2t = soft_t2i = None
        if alpha > 0:
            if teacher is None:
                raise ValueError("BLIP.losses: alpha > 0 needs the momentum teacher")
            with no_grad():
                teacher_logits = teacher.itc_logits(teacher.encode_image(images), cls_ids)
                soft_i2t = teacher_logits.softmax(axis=1).numpy()
                soft_t2i = teacher_logits.T.softmax(axis=1).numpy()
        itc = itc_loss(logits, soft_i2t, soft_t2i, alpha)

        if negatives == "hard":
            text_for_image, image_for_text = sample_hard_negatives(logits.numpy(), rng,
                                                                   positives)
        else:
            text_for_image, image_for_text = sample_random_negatives(n, rng, positives)
        # n true pairs, then (image_for_text[j], caption j), then (image i, text_for_image[i])
        pair_images = image_tokens[numpy.concatenate([numpy.arange(n), image_for_text,
                                                      numpy.arange(n)])]
        enc_ids = tokenizer.encoder_ids(words, "grounded")
        pair_ids = numpy.concatenate([enc_ids, enc_ids, enc_ids[text_for_image]])
        labels = numpy.concatenate([numpy.ones(n, numpy.int64), numpy.zeros(2 * n, numpy.int64)])
        itm = itm_loss(self.itm_logits(pair_images, pair_ids),
                       tensor(labels, device=logits.device))

        dec_ids, targets = tokenizer.decoder_ids(words)
        lm = lm_loss(self.lm_logits(image_tokens, dec_ids), targets)
        return {"loss": itc + itm + lm, "itc": itc, "itm": itm, "lm": lm}

    # inference on host arrays
    def embed(self, images, words, tokenizer):
        """Unit ITC features (u, w) of images and captions, host arrays."""
        with no_grad():
            u = self.image_features(self.encode_image(images))
            w = self.text_features(tokenizer.encoder_ids(words, "unimodal"))
        return u.numpy(), w.numpy()

    def match_probability(self, images, words, tokenizer):
        """p_match = softmax(itm logits)[1] of each (image_n, caption_n): (N,) host array."""
        with no_grad():
            logits = self.itm_logits(self.encode_image(images),
                                     tokenizer.encoder_ids(words, "grounded"))
        return logits.softmax(axis=1).numpy()[:, 1]

    def next_log_probs(self, image_tokens, never=()):
        """The captioner as models/decoding.py sees it: a function of the ids so far
        ([dec] w_1 .. w_t, one row per image or beam_size rows per image, image by image) to
        log p(w_{t+1} | w_<=t, image), a (rows, V) host array, renormalised over the tokens
        that are not in ``never`` (those get log p = -inf: padding and the role tokens are
        never words)."""
        def next_word(ids):
            repeat = len(ids) // image_tokens.shape[0]
            image = image_tokens if repeat == 1 else \
                image_tokens[numpy.repeat(numpy.arange(image_tokens.shape[0]), repeat)]
            with no_grad():
                logits = self.lm_logits(image, ids)[:, -1].numpy().astype(numpy.float64)
            logits[:, list(never)] = -numpy.inf
            top = logits.max(axis=1, keepdims=True)
            return logits - top - numpy.log(numpy.exp(logits - top).sum(axis=1, keepdims=True))
        return next_word


# ----- CapFilt ----------------------------------------------------------------------------------
def filter_captions(match_probability, threshold=0.5):
    """The filter's decision: keep caption n when p_match(n) >= threshold, remove it when
    p_match(n) < threshold. match_probability (N,) in [0, 1]; returns (N,) bool, True = kept.
    A caption scored at or above the threshold is never removed."""
    try:
        p = numpy.asarray(match_probability, dtype=numpy.float64)
    except (TypeError, ValueError, TensorError) as error:
        raise ArgumentError(f"filter_captions: match_probability must be numbers, got "
                            f"{type(match_probability).__name__} ({error})") from None
    if p.ndim != 1:
        raise ShapeError(f"filter_captions: match_probability must be 1-d (N,), got {p.shape}")
    if not (numpy.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()):
        raise ArgumentError("filter_captions: match_probability must hold probabilities in "
                            "[0, 1]")
    if not isinstance(threshold, numbers.Real) or not 0.0 <= threshold <= 1.0:
        raise ArgumentError(f"filter_captions: threshold must be a number in [0, 1], got "
                            f"{threshold!r}")
    return p >= threshold


def caption_images(captioner, images, tokenizer, beam_size=1, chunk=500, top_p=None, rng=None):
    """The captioner's synthetic captions: (N, max_words) word ids, one caption per image,
    decoded from [dec] (never writing padding, an unknown word or a role token) by greedy
    decoding (beam_size 1), beam search, or nucleus sampling when top_p is given (drawn with
    rng, a numpy Generator or seed, chunk by chunk: the same seed and chunk give the same
    captions; models/decoding.py)
    for at most max_words words and [eos]. A caption that never ends is cut at max_words;
    the generated [eos] and what follows become padding."""
    if top_p is not None and beam_size != 1:
        raise ArgumentError(f"caption_images: nucleus sampling (top_p={top_p!r}) draws one "
                            f"caption, it has no beam (got beam_size {beam_size!r})")
    rng = numpy.random.default_rng(rng) if top_p is not None else None
    images = numpy.asarray(images)
    out = numpy.zeros((len(images), tokenizer.max_words), dtype=numpy.int64)
    for start in range(0, len(images), chunk):
        part = slice(start, start + chunk)
        with no_grad():
            image_tokens = captioner.encode_image(images[part])
        next_word = captioner.next_log_probs(image_tokens, tokenizer.not_words)
        start_ids = numpy.full((image_tokens.shape[0], 1), tokenizer.dec_id)
        if top_p is None:
            tokens = generate(next_word, start_ids, tokenizer.max_words + 1, tokenizer.eos_id,
                              beam_size=beam_size)
        else:
            tokens = nucleus_sample(next_word, start_ids, tokenizer.max_words + 1,
                                    tokenizer.eos_id, top_p=top_p, rng=rng)[0]
        ended = numpy.cumsum(tokens == tokenizer.eos_id, axis=1) > 0
        words = numpy.where(ended, 0, tokens)[:, :tokenizer.max_words]
        out[part, :words.shape[1]] = words
    return out


def capfilt(captioner, filter_model, images, web_words, tokenizer, threshold=0.5, beam_size=1,
            chunk=500, top_p=None, rng=None):
    """Captioning and Filtering (module docstring, steps 2 and 3) of N (image, web caption)
    pairs: the captioner writes one synthetic caption per image (caption_images, with
    beam_size or top_p and rng), the filter keeps each web and synthetic caption whose
    p_match >= threshold.

    Returns a dict: synthetic (N, W) word ids; p_web, p_synthetic (N,) the filter's match
    probabilities; keep_web, keep_synthetic (N,) bool; and the cleaned set, image_index (M,)
    and words (M, W): the kept web pairs, then the kept synthetic pairs."""
    images, web_words = numpy.asarray(images), _word_ids(web_words, "capfilt")
    if len(images) != len(web_words):
        raise ShapeError(f"capfilt: {len(images)} images but {len(web_words)} web captions")
    synthetic = caption_images(captioner, images, tokenizer, beam_size, chunk, top_p, rng)
    p_web, p_synthetic = (numpy.concatenate([
        filter_model.match_probability(images[i:i + chunk], words[i:i + chunk], tokenizer)
        for i in range(0, len(images), chunk)]) for words in (web_words, synthetic))
    keep_web = filter_captions(p_web, threshold)
    keep_synthetic = filter_captions(p_synthetic, threshold)
    index = numpy.arange(len(images))
    return {"synthetic": synthetic, "p_web": p_web, "p_synthetic": p_synthetic,
            "keep_web": keep_web, "keep_synthetic": keep_synthetic,
            "image_index": numpy.concatenate([index[keep_web], index[keep_synthetic]]),
            "words": numpy.concatenate([web_words[keep_web], synthetic[keep_synthetic]])}

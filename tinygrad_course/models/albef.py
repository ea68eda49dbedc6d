"""ALBEF (Li et al. 2021, "Align before Fuse"): a dual encoder aligned by a contrastive loss,
then a fusion encoder that reads the two sequences together.

    image tokens  v = ImageEncoder(image)                 (N, 1 + P, d), a ViT
    text tokens   t = TextEncoder(ids)                    (N, T, d), [CLS] first
    ITC features  u = norm(W_v v_0),  w = norm(W_t t_0)    unit vectors, as in CLIP
    fused tokens  f = CrossAttentionFusion(t, v)          (N, T, d) (models/fusion.py)
    ITM           p_itm = softmax(W_itm f_0 + b)          (N, 2): does the caption fit?
    MLM           p_mlm = softmax(MLMHead(f_k))           (N, T, vocab): the masked words

The loss of one batch is L = L_itc + L_itm + L_mlm:

    L_itc = (H(y_i2t, softmax(s)) + H(y_t2i, softmax(s^T))) / 2,     s = exp(t) u w^T
    L_itm = H(y_itm, p_itm)    over N positive pairs and 2N negatives: for each image a
            caption drawn with probability softmax(s_i)_j (j != i), for each caption an
            image drawn the same way: hard negatives, the pairs ITC finds most confusable
            (optional, not in the paper: N more negatives (image n, a generated false caption
            of image n), NegCLIP's structured negatives; ``losses(structured_negatives=...)``)
    L_mlm = H(y_mlm, p_mlm)    at the masked positions only (15% of the words; of those 80%
            become [mask], 10% a random word, 10% stay), the image present

Momentum distillation: an exponential moving average of the model, theta_m <- m theta_m +
(1 - m) theta, gives soft targets q (its own softmax) that soften the one-hot y where the
data is noisy (a wrong caption, a second valid answer):

    L_itc^mod = (1 - alpha) L_itc + alpha (H(q_i2t, softmax(s)) + H(q_t2i, softmax(s^T))) / 2
    L_mlm^mod = (1 - alpha) L_mlm + alpha H(q_mlm, p_mlm)

H(q, p) = KL(q || p) + H(q) and H(q) does not depend on theta, so this is the paper's KL
form with the same gradient. With alpha = 0 both reduce to the plain losses. (The paper
also keeps a queue of 65,536 momentum features as extra ITC negatives; these tiny batches
use the batch only.)
"""

import copy
import math

import numpy

from .. import functional as F
from ..autograd import no_grad
from ..errors import ShapeError
from ..nn.linear import Linear
from ..nn.module import Module, Parameter
from ..ops.movement import concatenate
from ..ops.similarity import similarity_logits
from ..tensor import Tensor, tensor
from .bert import IGNORE, mask_tokens
from .clip import l2_normalize
from .fusion import CrossAttentionFusion, ImageEncoder, MLMHead, TextEncoder


# ----- the objectives ---------------------------------------------------------------------------
def itc_loss(logits, soft_i2t=None, soft_t2i=None, alpha=0.0):
    """Image-text contrastive loss with optional momentum distillation.

        L = (H(target_i2t, softmax(s)) + H(target_t2i, softmax(s^T))) / 2
        target_i2t = (1 - alpha) I + alpha q_i2t,   target_t2i = (1 - alpha) I + alpha q_t2i

    logits s (N, N), image i's caption in column i; soft_i2t, soft_t2i (N, N) host arrays of
    rows that sum to 1 (the momentum model's softmax(s_m) and softmax(s_m^T)), needed when
    alpha > 0. With alpha = 0 it is the CLIP loss. The gradient with respect to s is
    (softmax(s) - target_i2t + (softmax(s^T) - target_t2i)^T) / 2N.
    """
    if not isinstance(logits, Tensor) or logits.ndim != 2 or logits.shape[0] != logits.shape[1]:
        raise ShapeError(f"itc_loss: logits must be a square (N, N) Tensor, got "
                         f"{getattr(logits, 'shape', type(logits).__name__)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"itc_loss: alpha must be in [0, 1], got {alpha}")
    n = logits.shape[0]
    identity = numpy.eye(n, dtype=logits.dtype)
    if alpha > 0 and (soft_i2t is None or soft_t2i is None):
        raise ValueError("itc_loss: alpha > 0 needs the momentum model's soft_i2t and soft_t2i")
    targets = []
    for soft in (soft_i2t, soft_t2i):
        if alpha == 0:
            targets.append(identity)
            continue
        soft = numpy.asarray(soft.numpy() if isinstance(soft, Tensor) else soft)
        if soft.shape != (n, n):
            raise ShapeError(f"itc_loss: soft targets must have shape {(n, n)}, got "
                             f"{soft.shape}")
        targets.append(((1 - alpha) * identity + alpha * soft).astype(logits.dtype))
    image_to_text = F.cross_entropy(logits, tensor(targets[0], device=logits.device))
    text_to_image = F.cross_entropy(logits.T, tensor(targets[1], device=logits.device))
    return (image_to_text + text_to_image) * 0.5


def itm_loss(logits, labels):
    """Image-text matching: a binary cross-entropy over two classes (0: no match, 1: match).

        L = -mean_n log softmax(logits_n)[y_n]      logits (M, 2), labels (M,) in {0, 1}

    Gradient (softmax(logits) - onehot(y)) / M."""
    if not isinstance(logits, Tensor) or logits.ndim != 2 or logits.shape[1] != 2:
        raise ShapeError(f"itm_loss: logits must have shape (M, 2), got "
                         f"{getattr(logits, 'shape', type(logits).__name__)}")
    return F.cross_entropy(logits, labels)


def mlm_loss(logits, targets, soft_targets=None, alpha=0.0):
    """Masked language modelling, optionally distilled from a momentum model.

        L = mean over masked k of H((1 - alpha) onehot(y_k) + alpha q_k, softmax(logits_k))

    logits (N, T, V); targets (N, T) int, the original word at masked positions and IGNORE
    (-100) elsewhere; soft_targets (N, T, V) the momentum model's probabilities (only read at
    the masked positions), needed when alpha > 0. With alpha = 0 it is BERT's loss
    F.cross_entropy(logits, targets, ignore_index=IGNORE). Gradient at a masked position
    (softmax(logits_k) - target_k) / (number masked)."""
    if not isinstance(logits, Tensor) or logits.ndim != 3:
        raise ShapeError(f"mlm_loss: logits must have shape (N, T, V), got "
                         f"{getattr(logits, 'shape', type(logits).__name__)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"mlm_loss: alpha must be in [0, 1], got {alpha}")
    targets = numpy.asarray(targets.numpy() if isinstance(targets, Tensor) else targets)
    n, length, vocab = logits.shape
    if targets.shape != (n, length):
        raise ShapeError(f"mlm_loss: targets must have shape {(n, length)}, got "
                         f"{targets.shape}")
    masked = numpy.flatnonzero(targets.reshape(-1) != IGNORE)
    if masked.size == 0:
        raise ValueError("mlm_loss: no position is masked (all targets are IGNORE)")
    picked = logits.reshape(n * length, vocab)[masked]                 # (M, V)
    target = numpy.eye(vocab, dtype=logits.dtype)[targets.reshape(-1)[masked]]
    if alpha > 0:
        if soft_targets is None:
            raise ValueError("mlm_loss: alpha > 0 needs the momentum model's soft_targets")
        soft = numpy.asarray(soft_targets.numpy() if isinstance(soft_targets, Tensor)
                             else soft_targets)
        if soft.shape != (n, length, vocab):
            raise ShapeError(f"mlm_loss: soft_targets must have shape {(n, length, vocab)}, "
                             f"got {soft.shape}")
        target = (1 - alpha) * target + alpha * soft.reshape(n * length, vocab)[masked]
    return F.cross_entropy(picked, tensor(target.astype(logits.dtype), device=logits.device))


def _negative_weights(weights, positives):
    n = weights.shape[0]
    exclude = numpy.eye(n, dtype=bool) if positives is None else \
        numpy.asarray(positives, dtype=bool) | numpy.eye(n, dtype=bool)
    weights = numpy.where(exclude, 0.0, weights)
    empty = weights.sum(axis=1) <= 0
    if empty.any():
        raise ValueError(f"sample negatives: rows {numpy.flatnonzero(empty).tolist()} have no "
                         f"negative candidate (every pair in the batch is a positive)")
    return weights / weights.sum(axis=1, keepdims=True)


def _draw(weights, rng):
    """One column per row, column j with probability weights[i, j] (rows sum to 1)."""
    cumulative = numpy.cumsum(weights, axis=1)
    u = rng.random((weights.shape[0], 1)) * cumulative[:, -1:]
    return numpy.minimum((cumulative <= u).sum(axis=1), weights.shape[1] - 1)


def sample_hard_negatives(similarity, rng, positives=None):
    """ALBEF's hard negatives, drawn in proportion to the contrastive similarity.

        P(text j for image i) = softmax(s_i)_j / Z_i   over j with (i, j) not a positive
        P(image i for text j) = softmax(s_{:, j})_i / Z_j

    similarity s (N, N) host array (image rows, caption columns); positives (N, N) bool,
    pairs that match although i != j (e.g. two images with the same caption); the diagonal
    is always excluded, so a negative is never the positive pair. Returns (text_for_image,
    image_for_text), two int arrays (N,)."""
    s = numpy.asarray(similarity, dtype=numpy.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ShapeError(f"sample_hard_negatives: similarity must be square (N, N), got "
                         f"{s.shape}")
    positives = None if positives is None else numpy.asarray(positives, dtype=bool)
    i2t = numpy.exp(s - s.max(axis=1, keepdims=True))
    t2i = numpy.exp(s.T - s.T.max(axis=1, keepdims=True))
    text_for_image = _draw(_negative_weights(i2t, positives), rng)
    image_for_text = _draw(_negative_weights(t2i, None if positives is None else positives.T),
                           rng)
    return text_for_image, image_for_text


def sample_random_negatives(n, rng, positives=None):
    """Uniform negatives (the ablation of the hard ones): any j with (i, j) not a positive."""
    uniform = numpy.ones((n, n))
    positives = None if positives is None else numpy.asarray(positives, dtype=bool)
    return (_draw(_negative_weights(uniform, positives), rng),
            _draw(_negative_weights(uniform, None if positives is None else positives.T), rng))


def momentum_copy(model):
    """A frozen deep copy of ``model``: the teacher of momentum distillation."""
    teacher = copy.deepcopy(model)
    for p in teacher.parameters():
        p.requires_grad = False
    return teacher


def momentum_update(model, teacher, momentum):
    """theta_m <- m theta_m + (1 - m) theta, parameter by parameter (an exponential moving
    average with a time constant of about 1 / (1 - m) steps). m = 0 copies the model, m = 1
    leaves the teacher as it is."""
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum_update: momentum must be in [0, 1], got {momentum}")
    student = dict(model.named_parameters())
    for name, p in teacher.named_parameters():
        if name not in student or student[name].shape != p.shape:
            raise ShapeError(f"momentum_update: the teacher's {name} {p.shape} has no "
                             f"counterpart of that shape in the model")
        p.data = momentum * p.data + (1 - momentum) * student[name].data


def identical_rows(ids):
    """(N, N) bool: caption i and caption j are the same token ids (so (image i, caption j)
    is a true pair too)."""
    ids = numpy.asarray(ids)
    return (ids[:, None, :] == ids[None, :, :]).all(axis=2)


# ----- the model --------------------------------------------------------------------------------
class ALBEF(Module):
    """ALBEF(vocab_size, max_tokens, ...): image encoder, text encoder, fusion encoder, and the
    ITC projections, ITM head and MLM head of the module docstring."""

    max_logit_scale = math.log(100.0)

    def __init__(self, vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4,
                 image_layers=1, text_layers=1, fusion_layers=1, embed_dim=32, seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.vocab_size = vocab_size
        self.image_encoder = ImageEncoder(image_size, patch_size, 3, width, heads, image_layers,
                                          seed=seed + 1)
        self.text_encoder = TextEncoder(vocab_size, max_tokens, width, heads, text_layers,
                                        seed=seed + 2)
        self.fusion = CrossAttentionFusion(width, heads, fusion_layers, seed=seed + 3)
        self.image_projection = Linear(width, embed_dim, generator=rng)
        self.text_projection = Linear(width, embed_dim, generator=rng)
        self.logit_scale = Parameter(tensor(math.log(1 / 0.07)))
        self.itm_head = Linear(width, 2, generator=rng)
        self.mlm_head = MLMHead(width, vocab_size, rng)

    # the dual-encoder half
    def image_features(self, image_tokens):
        return l2_normalize(self.image_projection(image_tokens[:, 0]))

    def text_features(self, text_tokens):
        return l2_normalize(self.text_projection(text_tokens[:, 0]))

    def itc_logits(self, image_tokens, text_tokens):
        return similarity_logits(self.image_features(image_tokens),
                                 self.text_features(text_tokens), self.logit_scale,
                                 self.max_logit_scale)

    # the fusion half
    def itm_logits(self, image_tokens, text_tokens, ids):
        fused = self.fusion(text_tokens, image_tokens, numpy.asarray(ids) == 0)
        return self.itm_head(fused[:, 0])

    def mlm_logits(self, image_tokens, masked_ids):
        fused = self.fusion(self.text_encoder(masked_ids), image_tokens,
                            numpy.asarray(masked_ids) == 0)
        return self.mlm_head(fused)

    def match_score(self, images, ids):
        """log p(match) - log p(no match) of each (image_n, caption_n): (N,) host array."""
        with no_grad():
            logits = self.itm_logits(self.image_encoder(images), self.text_encoder(ids), ids)
        logits = logits.numpy()
        return logits[:, 1] - logits[:, 0]

    def embed(self, images=None, ids=None):
        """Unit ITC features of images and/or captions, host arrays."""
        with no_grad():
            u = None if images is None else self.image_features(self.image_encoder(images))
            w = None if ids is None else self.text_features(self.text_encoder(ids))
        return tuple(x.numpy() for x in (u, w) if x is not None)

    def losses(self, images, ids, rng, mask_id, teacher=None, alpha=0.0, negatives="hard",
               mask_prob=0.15, special_ids=(0,), positives=None, structured_negatives=None):
        """The three losses of one batch (the module docstring), as a dict of 0-d tensors
        with their sum under "loss". ``teacher``: the momentum model (needed if alpha > 0).
        negatives: "hard" (sampled by ITC similarity) or "random" (uniform). positives (N, N)
        bool: pairs i != j that match too ("a red circle left of a blue square" is true of an
        image captioned "a blue square right of a red circle"), never drawn as negatives
        (default: identical captions only). structured_negatives (N, T) ids, optional: caption
        n is known to be false of image n (a generated swap, data/scenes.swap_negatives); each
        adds one more ITM negative (image n, caption n), N more pairs labelled 0. This is not
        ALBEF's recipe but NegCLIP's structured negatives fed to the ITM head (an ablation)."""
        if negatives not in ("hard", "random"):
            raise ValueError(f"ALBEF.losses: negatives must be 'hard' or 'random', got "
                             f"{negatives!r}")
        ids = numpy.asarray(ids)
        n = ids.shape[0]
        positives = identical_rows(ids) if positives is None else positives
        image_tokens, text_tokens = self.image_encoder(images), self.text_encoder(ids)
        logits = self.itc_logits(image_tokens, text_tokens)
        masked_ids, mlm_targets = mask_tokens(ids, mask_id, self.vocab_size, rng, mask_prob,
                                              special_ids)
        soft_i2t = soft_t2i = soft_mlm = None
        if alpha > 0:
            if teacher is None:
                raise ValueError("ALBEF.losses: alpha > 0 needs the momentum teacher")
            with no_grad():
                teacher_images = teacher.image_encoder(images)
                teacher_logits = teacher.itc_logits(teacher_images, teacher.text_encoder(ids))
                soft_i2t = teacher_logits.softmax(axis=1).numpy()
                soft_t2i = teacher_logits.T.softmax(axis=1).numpy()
                soft_mlm = teacher.mlm_logits(teacher_images, masked_ids).softmax(axis=-1)
        itc = itc_loss(logits, soft_i2t, soft_t2i, alpha)

        if negatives == "hard":
            text_for_image, image_for_text = sample_hard_negatives(logits.numpy(), rng,
                                                                   positives)
        else:
            text_for_image, image_for_text = sample_random_negatives(n, rng, positives)
        # pairs: n positives, then (image_for_text[j], text j), then (image i, text_for_image[i])
        pair_images = concatenate([image_tokens, image_tokens[image_for_text], image_tokens],
                                  axis=0)
        pair_texts = concatenate([text_tokens, text_tokens, text_tokens[text_for_image]],
                                 axis=0)
        pair_ids = numpy.concatenate([ids, ids, ids[text_for_image]])
        if structured_negatives is not None:
            structured_negatives = numpy.asarray(structured_negatives)
            if structured_negatives.shape != ids.shape:
                raise ShapeError(f"ALBEF.losses: structured_negatives must have the ids' shape "
                                 f"{ids.shape}, got {structured_negatives.shape}")
            pair_images = concatenate([pair_images, image_tokens], axis=0)
            pair_texts = concatenate([pair_texts, self.text_encoder(structured_negatives)],
                                     axis=0)
            pair_ids = numpy.concatenate([pair_ids, structured_negatives])
        labels = numpy.zeros(len(pair_ids), numpy.int64)
        labels[:n] = 1  # the n positive pairs come first
        itm = itm_loss(self.itm_logits(pair_images, pair_texts, pair_ids),
                       tensor(labels, device=logits.device))

        mlm = mlm_loss(self.mlm_logits(image_tokens, masked_ids), mlm_targets, soft_mlm, alpha)
        return {"loss": itc + itm + mlm, "itc": itc, "itm": itm, "mlm": mlm}

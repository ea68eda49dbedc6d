"""SigLIP: the tiny CLIP trained with a pairwise sigmoid loss instead of the softmax (InfoNCE).

With unit image embeddings u_i and unit caption embeddings v_j of a batch of N pairs,

    logit_ij = t * u_i . v_j + b,        t = exp(t'),  t' and b learned
    z_ij     = +1 if i == j (a matching pair), -1 otherwise
    loss     = -(1/N) sum_ij log sigmoid(z_ij logit_ij)

Every (image, caption) pair of the batch is its own binary question, "do these two match?".
The softmax loss of models/clip.py asks "which of the N captions is image i's?": its
normaliser sum_j exp(logit_ij) needs the whole row (and the whole column), so its value and
its difficulty depend on the batch. The sigmoid loss has no normaliser: a term for (i, j)
needs only u_i and v_j, and batches can be split across devices without gathering all of the
embeddings for one softmax. There are N^2 - N negatives for N positives, so the bias starts
at b = -10: every pair starts as a confident "no", the prior the data agrees with, and the
first steps are not spent pushing down a flood of negatives. The temperature starts at t = 10
(t' = log 10). Both as in the SigLIP paper (Zhai et al., 2023).

Derivative: d loss / d logit_ij = -(1/N) z_ij sigmoid(-z_ij logit_ij), which is
(sigmoid(logit_ij) - [i == j]) / N; the chain rule through logit = t u.v + b gives the rest
(the loss is composed of Tensor ops, so autograd does it).
"""

import math

import numpy

from .. import nn, optim
from ..errors import ArgumentError, ShapeError
from ..functional import logsigmoid
from ..optim.lr_scheduler import CosineAnnealingLR
from ..tensor import Tensor, constant, tensor
from .clip import CLIP


def siglip_loss(image_embeddings, text_embeddings, log_temperature, bias):
    """-(1/N) sum_ij log sigmoid(z_ij (exp(t') u_i . v_j + b)), z = 2 I - 1 (module docstring).

    image_embeddings u (N, D) and text_embeddings v (N, D): row i of each is pair i (unit
    length in SigLIP; any vectors are accepted); log_temperature t' and bias b: 0-d tensors
    (or numbers). Returns a 0-d tensor."""
    u, v = image_embeddings, text_embeddings
    if not (isinstance(u, Tensor) and isinstance(v, Tensor)):
        raise ShapeError(f"siglip_loss: expected two Tensors of embeddings, got "
                         f"{type(u).__name__} and {type(v).__name__}")
    if u.ndim != 2 or u.shape != v.shape or u.shape[0] == 0:
        raise ShapeError(f"siglip_loss: expected image and text embeddings of one shape (N, D) "
                         f"with N >= 1, got {u.shape} and {v.shape}")
    n = u.shape[0]
    signs = constant(2.0 * u.xp.eye(n, dtype=u.data.dtype) - 1.0, like=u)  # z: (N, N)
    if not isinstance(log_temperature, Tensor):
        log_temperature = constant(u.xp.asarray(log_temperature, dtype=u.data.dtype), like=u)
    logits = log_temperature.exp() * (u @ v.T) + bias
    return -logsigmoid(signs * logits).sum() * (1.0 / n)


class SigLIP(nn.Module):
    """A CLIP (models/clip.py: its encoders and projections) scored by the sigmoid loss.

    Its own learned t' (init log 10) and b (init -10) replace the CLIP's softmax temperature,
    which stays in the wrapped model unused. encode_image / encode_text are the CLIP's, so
    zero-shot classification and retrieval work on it unchanged."""

    def __init__(self, clip, log_temperature=math.log(10.0), bias=-10.0):
        super().__init__()
        if not isinstance(clip, CLIP):
            raise ArgumentError(f"SigLIP: expected a models.clip.CLIP, got {type(clip).__name__}")
        self.clip = clip
        self.log_temperature = nn.Parameter(tensor(float(log_temperature)))
        self.bias = nn.Parameter(tensor(float(bias)))

    def encode_image(self, images):
        return self.clip.encode_image(images)

    def encode_text(self, ids):
        return self.clip.encode_text(ids)

    def forward(self, images, ids):
        """The sigmoid loss of a batch of N (image, caption ids) pairs, row i matching row i."""
        return siglip_loss(self.encode_image(images), self.encode_text(ids),
                           self.log_temperature, self.bias)


def train_contrastive(model, images, ids, steps, batch_size, lr, seed=0):
    """AdamW (weight decay 0.01) with a cosine lr schedule on random minibatches of pairs.

    ``model`` is a SigLIP (sigmoid loss) or a CLIP (softmax loss: clip_loss of its logits);
    images (M, C, H, W) and ids (M, L) are host arrays. Returns the loss of every step."""
    from .clip import clip_loss

    if batch_size > len(images):
        raise ShapeError(f"train_contrastive: batch_size {batch_size} exceeds the "
                         f"{len(images)} training pairs")
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = CosineAnnealingLR(optimizer, T_max=steps)
    rng = numpy.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        batch = rng.choice(len(images), batch_size, replace=False)
        output = model(tensor(images[batch]), tensor(ids[batch]))
        loss = output if isinstance(model, SigLIP) else clip_loss(output)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses

"""A tiny CLIP (the model of demos/clip_shapes.py), symmetric InfoNCE, one plain SGD step.

Batch: 64 (picture, caption) pairs from data.shapes.make_shapes(seed=0), captions padded to
9 tokens. The model: an MLP image encoder 768 -> 128 -> GELU -> 128; a text encoder of
width 64 (token embeddings + learned positions, 2 pre-LN encoder layers, 4 heads, GELU
feed-forward of 128, padding keys masked, final LayerNorm, mean over the real tokens);
projections to 64 without bias; a learned temperature. The same step three ways, from the
same initial weights (the tinygrad_course model's state_dict) and the same batch:

    tinygrad_course   models.clip.CLIP, clip_loss, loss.backward(), optim.SGD
    numpy             forward and backward written out by hand (below)
    torch             the same layers in PyTorch on the CPU (only when torch imports)

Forward, for images X (N, 768) and token ids (N, L) with keep = [id != 0]:

    image:  A = X W_h^T + b_h,  G = gelu(A) = A Phi(A),  I = G W_o^T + b_o,  u = I P_i^T / |.|
    text:   T_0 = E[ids] keep + P_pos;  T_l = block_l(T_{l-1});  H = LN(T_2)
            t = sum_j keep_j H_j / sum_j keep_j;   v = t P_t^T / |.|
    logits  Z = s u v^T,  s = exp(min(tau, log 100))
    loss    (CE(Z, diag) + CE(Z^T, diag)) / 2

Backward (the chain rule in reverse):

    dZ = (softmax_rows(Z) - 1) / 2N + (softmax_cols(Z) - 1) / 2N    (1 = identity)
    ds = sum(dZ * u v^T),  dtau = ds s  (0 when tau is clamped)
    du = s dZ v,  dv = s dZ^T u;   through y = z / sqrt(|z|^2 + eps):  dz = (dy - y (y.dy)) / |z|
    gelu'(A) = Phi(A) + A phi(A)   (phi the standard normal density)
    the encoder block as benchmarks/bench_transformer.py (LayerNorm backward imported from
    there), with GELU in the feed-forward and the padding keys' scores at -inf (P = 0 there)
    dE = scatter-add of dT_0 keep into the rows ids;  dP_pos = sum over the batch of dT_0

Workloads: ``clip_step``; ``clip_step_2pairs``, the same on 2 pairs (its tg - numpy time is
the framework's fixed cost per step).
"""

import math

import numpy
from scipy.special import erf

from benchmarks import torch_available
from benchmarks.bench_transformer import _layer_norm, _layer_norm_backward

N_PAIRS, MAX_LENGTH = 64, 9
IMAGE_WIDTH, TEXT_WIDTH, HEADS, LAYERS, EMBED_DIM = 128, 64, 4, 2, 64
LR = 0.01
MAX_LOGIT_SCALE = math.log(100.0)
NORM_EPS = 1e-8  # models.clip.l2_normalize


def build_model():
    """The tinygrad_course CLIP of demos/clip_shapes.py and the tokenizer, on the CPU."""
    from tinygrad_course import nn
    from tinygrad_course.data import shapes
    from tinygrad_course.models.clip import (
        CLIP,
        CaptionTokenizer,
        MLPImageEncoder,
        TransformerTextEncoder,
    )

    nn.init.manual_seed(0)  # the encoder layers draw their initial weights from it
    tokenizer = CaptionTokenizer(shapes.caption_vocabulary())
    model = CLIP(MLPImageEncoder((3, 16, 16), width=IMAGE_WIDTH, seed=0),
                 TransformerTextEncoder(len(tokenizer), MAX_LENGTH, width=TEXT_WIDTH,
                                        heads=HEADS, layers=LAYERS, seed=1),
                 embed_dim=EMBED_DIM, seed=2)
    return model.to("cpu"), tokenizer


def batch(tokenizer, n=N_PAIRS, seed=0):
    """Images (n, 3, 16, 16) float32 and token ids (n, MAX_LENGTH) int64."""
    from tinygrad_course.data import shapes

    data = shapes.make_shapes(n, seed=seed)
    return data["images"], tokenizer(data["captions"], MAX_LENGTH)


# ----- hand-written NumPy ------------------------------------------------------------------
def _gelu(a):
    """(gelu(a), Phi(a)): GELU in the erf form and the normal CDF kept for the backward."""
    cdf = erf(a * numpy.float32(1 / math.sqrt(2)))
    cdf += 1
    cdf *= numpy.float32(0.5)
    return a * cdf, cdf


def _gelu_backward(grad, a, cdf):
    """dL/da = dL/dg (Phi(a) + a phi(a))."""
    pdf = numpy.exp(a * a * numpy.float32(-0.5))
    pdf *= numpy.float32(1 / math.sqrt(2 * math.pi))
    pdf *= a
    pdf += cdf
    pdf *= grad
    return pdf


def _encoder_layer(w, p, x, blocked, n, length):
    """Pre-LN block on rows x (n * length, E); ``blocked`` (n, 1, 1, length) is 0 / -inf.
    Returns the output rows and what the backward needs."""
    e = x.shape[1]
    d = e // HEADS
    scale = numpy.float32(1 / math.sqrt(d))
    h1, x_hat1, rstd1 = _layer_norm(x, w[p + "norm1.weight"], w[p + "norm1.bias"])
    qkv = h1 @ w[p + "self_attn.in_proj_weight"].T
    qkv += w[p + "self_attn.in_proj_bias"]
    q, k, v = qkv.reshape(n, length, 3, HEADS, d).transpose(2, 0, 3, 1, 4)  # (n, H, L, d)
    scores = q @ k.transpose(0, 1, 3, 2)
    scores *= scale
    scores += blocked
    scores -= scores.max(axis=-1, keepdims=True)
    probs = numpy.exp(scores, out=scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    o = (probs @ v).transpose(0, 2, 1, 3).reshape(n * length, e)
    x1 = o @ w[p + "self_attn.out_proj.weight"].T
    x1 += w[p + "self_attn.out_proj.bias"]
    x1 += x
    h2, x_hat2, rstd2 = _layer_norm(x1, w[p + "norm2.weight"], w[p + "norm2.bias"])
    a = h2 @ w[p + "linear1.weight"].T
    a += w[p + "linear1.bias"]
    f, cdf = _gelu(a)
    out = f @ w[p + "linear2.weight"].T
    out += w[p + "linear2.bias"]
    out += x1
    return out, (h1, x_hat1, rstd1, q, k, v, probs, o, h2, x_hat2, rstd2, a, f, cdf)


def _encoder_layer_backward(w, p, grad, cache, grads, n, length):
    """dL/dx of the block; parameter gradients go into ``grads`` under their names."""
    h1, x_hat1, rstd1, q, k, v, probs, o, h2, x_hat2, rstd2, a, f, cdf = cache
    e = grad.shape[1]
    scale = numpy.float32(1 / math.sqrt(e // HEADS))
    grads[p + "linear2.weight"] = grad.T @ f
    grads[p + "linear2.bias"] = grad.sum(axis=0)
    d_a = _gelu_backward(grad @ w[p + "linear2.weight"], a, cdf)
    grads[p + "linear1.weight"] = d_a.T @ h2
    grads[p + "linear1.bias"] = d_a.sum(axis=0)
    d_x1, grads[p + "norm2.weight"], grads[p + "norm2.bias"] = _layer_norm_backward(
        d_a @ w[p + "linear1.weight"], x_hat2, rstd2, w[p + "norm2.weight"])
    d_x1 += grad
    grads[p + "self_attn.out_proj.weight"] = d_x1.T @ o
    grads[p + "self_attn.out_proj.bias"] = d_x1.sum(axis=0)
    d_o = (d_x1 @ w[p + "self_attn.out_proj.weight"]).reshape(n, length, HEADS, -1)
    d_o = d_o.transpose(0, 2, 1, 3)                                         # (n, H, L, d)
    d_p = d_o @ v.transpose(0, 1, 3, 2)
    d_v = probs.transpose(0, 1, 3, 2) @ d_o
    d_s = d_p - (d_p * probs).sum(axis=-1, keepdims=True)
    d_s *= probs
    d_s *= scale
    d_q = d_s @ k
    d_k = d_s.transpose(0, 1, 3, 2) @ q
    d_qkv = numpy.stack([d_q, d_k, d_v]).transpose(1, 3, 0, 2, 4).reshape(n * length, 3 * e)
    grads[p + "self_attn.in_proj_weight"] = d_qkv.T @ h1
    grads[p + "self_attn.in_proj_bias"] = d_qkv.sum(axis=0)
    d_x, grads[p + "norm1.weight"], grads[p + "norm1.bias"] = _layer_norm_backward(
        d_qkv @ w[p + "self_attn.in_proj_weight"], x_hat1, rstd1, w[p + "norm1.weight"])
    d_x += d_x1
    return d_x


def _normalize(z):
    """(z / sqrt(|z|^2 + eps), 1 / sqrt(|z|^2 + eps)) row by row."""
    inv = 1 / numpy.sqrt((z * z).sum(axis=1, keepdims=True) + numpy.float32(NORM_EPS))
    return z * inv, inv


def _normalize_backward(grad, y, inv):
    return (grad - y * (grad * y).sum(axis=1, keepdims=True)) * inv


def loss_and_grads(w, images, ids):
    """(loss, {name: dL/dparameter}) for the weight dict ``w`` (state_dict names)."""
    n, length = ids.shape
    grads = {}
    # image tower
    x_img = images.reshape(n, -1)
    a = x_img @ w["image_encoder.hidden.weight"].T
    a += w["image_encoder.hidden.bias"]
    g, cdf = _gelu(a)
    feat_i = g @ w["image_encoder.out.weight"].T
    feat_i += w["image_encoder.out.bias"]
    u, inv_u = _normalize(feat_i @ w["image_projection.weight"].T)
    # text tower
    keep = (ids != 0).astype(numpy.float32)                                  # (n, L)
    blocked = numpy.where(ids == 0, numpy.float32(-numpy.inf), numpy.float32(0))
    blocked = blocked.reshape(n, 1, 1, length)
    t = w["text_encoder.token_embedding.weight"][ids] * keep[:, :, None]
    t += w["text_encoder.position_embedding"][:length]
    t = t.reshape(n * length, -1)
    caches = []
    for i in range(LAYERS):
        p = f"text_encoder.layers.{i}."
        t, cache = _encoder_layer(w, p, t, blocked, n, length)
        caches.append(cache)
    h, x_hat, rstd = _layer_norm(t, w["text_encoder.final_norm.weight"],
                                 w["text_encoder.final_norm.bias"])
    weight = keep / numpy.maximum(keep.sum(axis=1, keepdims=True), 1)      # (n, L)
    pooled = (h.reshape(n, length, -1) * weight[:, :, None]).sum(axis=1)
    v, inv_v = _normalize(pooled @ w["text_projection.weight"].T)
    # logits and the symmetric cross-entropy
    tau = w["logit_scale"]
    s = numpy.exp(numpy.minimum(tau, numpy.float32(MAX_LOGIT_SCALE)))
    cos = u @ v.T
    logits = s * cos
    rows = logits - logits.max(axis=1, keepdims=True)
    cols = logits - logits.max(axis=0, keepdims=True)
    exp_rows, exp_cols = numpy.exp(rows), numpy.exp(cols)
    sum_rows, sum_cols = exp_rows.sum(axis=1), exp_cols.sum(axis=0)
    diag = numpy.arange(n)
    loss = (numpy.log(sum_rows).mean() - rows[diag, diag].mean()
            + numpy.log(sum_cols).mean() - cols[diag, diag].mean()) / 2
    # backward: logits
    d_logits = exp_rows / sum_rows[:, None]
    d_logits += exp_cols / sum_cols[None, :]
    d_logits[diag, diag] -= 2
    d_logits *= numpy.float32(0.5 / n)
    d_s = (d_logits * cos).sum()
    grads["logit_scale"] = numpy.asarray(d_s * s if tau <= MAX_LOGIT_SCALE else 0,
                                         dtype=numpy.float32)
    d_logits *= s
    d_u = _normalize_backward(d_logits @ v, u, inv_u)
    d_v = _normalize_backward(d_logits.T @ u, v, inv_v)
    # image tower
    grads["image_projection.weight"] = d_u.T @ feat_i
    d_feat = d_u @ w["image_projection.weight"]
    grads["image_encoder.out.weight"] = d_feat.T @ g
    grads["image_encoder.out.bias"] = d_feat.sum(axis=0)
    d_a = _gelu_backward(d_feat @ w["image_encoder.out.weight"], a, cdf)
    grads["image_encoder.hidden.weight"] = d_a.T @ x_img
    grads["image_encoder.hidden.bias"] = d_a.sum(axis=0)
    # text tower
    grads["text_projection.weight"] = d_v.T @ pooled
    d_pooled = d_v @ w["text_projection.weight"]                              # (n, E)
    d_h = (d_pooled[:, None, :] * weight[:, :, None]).reshape(n * length, -1)
    d_t, grads["text_encoder.final_norm.weight"], grads["text_encoder.final_norm.bias"] = \
        _layer_norm_backward(d_h, x_hat, rstd, w["text_encoder.final_norm.weight"])
    for i in reversed(range(LAYERS)):
        d_t = _encoder_layer_backward(w, f"text_encoder.layers.{i}.", d_t, caches[i], grads,
                                      n, length)
    d_t = d_t.reshape(n, length, -1)
    grads["text_encoder.position_embedding"] = d_t.sum(axis=0)
    d_embedding = numpy.zeros_like(w["text_encoder.token_embedding.weight"])
    numpy.add.at(d_embedding, ids.reshape(-1), (d_t * keep[:, :, None]).reshape(n * length, -1))
    grads["text_encoder.token_embedding.weight"] = d_embedding
    return float(loss), grads


def numpy_step(w, images, ids, lr=LR):
    """One SGD step on the dict of weights ``w`` (updated in place); returns the loss."""
    loss, grads = loss_and_grads(w, images, ids)
    for name, grad in grads.items():
        w[name] -= numpy.float32(lr) * grad
    return loss


def make_numpy(weights, images, ids, lr=LR):
    weights = {name: value.copy() for name, value in weights.items()}
    return lambda: numpy_step(weights, images, ids, lr)


# ----- tinygrad_course ----------------------------------------------------------------------
def make_tinygrad(model, images, ids, lr=LR):
    import tinygrad_course as tg
    from tinygrad_course import optim
    from tinygrad_course.models.clip import clip_loss

    opt = optim.SGD(model.parameters(), lr=lr)
    images_t, ids_t = tg.tensor(images, device="cpu"), tg.tensor(ids, device="cpu")

    def step():
        opt.zero_grad()
        loss = clip_loss(model(images_t, ids_t))
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ----- PyTorch ------------------------------------------------------------------------------
def make_torch(weights, images, ids, lr=LR):
    import torch

    nn = torch.nn

    class ImageEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(3 * 16 * 16, IMAGE_WIDTH)
            self.out = nn.Linear(IMAGE_WIDTH, IMAGE_WIDTH)

        def forward(self, x):
            return self.out(nn.functional.gelu(self.hidden(x.flatten(1))))

    class TextEncoder(nn.Module):
        def __init__(self, vocab_size):
            super().__init__()
            self.token_embedding = nn.Embedding(vocab_size, TEXT_WIDTH, padding_idx=0)
            self.position_embedding = nn.Parameter(torch.zeros(MAX_LENGTH, TEXT_WIDTH))
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(TEXT_WIDTH, HEADS, 2 * TEXT_WIDTH, dropout=0.0,
                                           activation="gelu", batch_first=True,
                                           norm_first=True) for _ in range(LAYERS))
            self.final_norm = nn.LayerNorm(TEXT_WIDTH)

        def forward(self, ids):
            padding = ids == 0
            x = self.token_embedding(ids) + self.position_embedding[:ids.shape[1]]
            for layer in self.layers:
                x = layer(x, src_key_padding_mask=padding)
            keep = (~padding).float().unsqueeze(-1)
            return (self.final_norm(x) * keep).sum(1) / keep.sum(1).clamp(min=1.0)

    class Clip(nn.Module):
        def __init__(self, vocab_size):
            super().__init__()
            self.image_encoder, self.text_encoder = ImageEncoder(), TextEncoder(vocab_size)
            self.image_projection = nn.Linear(IMAGE_WIDTH, EMBED_DIM, bias=False)
            self.text_projection = nn.Linear(TEXT_WIDTH, EMBED_DIM, bias=False)
            self.logit_scale = nn.Parameter(torch.zeros(()))

        def forward(self, images, ids):
            normalize = lambda z: z / ((z * z).sum(-1, keepdim=True) + NORM_EPS).sqrt()  # noqa
            u = normalize(self.image_projection(self.image_encoder(images)))
            v = normalize(self.text_projection(self.text_encoder(ids)))
            return self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp() * (u @ v.T)

    model = Clip(weights["text_encoder.token_embedding.weight"].shape[0])
    model.load_state_dict({name: torch.from_numpy(v.copy()) for name, v in weights.items()})
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    images_t, ids_t = torch.from_numpy(images), torch.from_numpy(ids)
    targets = torch.arange(ids.shape[0])

    def step():
        opt.zero_grad()
        logits = model(images_t, ids_t)
        loss = (nn.functional.cross_entropy(logits, targets)
                + nn.functional.cross_entropy(logits.T, targets)) / 2
        loss.backward()
        opt.step()
        return loss.item()

    return step


def make_steps(implementations=("tinygrad_course", "numpy", "torch")):
    """{implementation: step} from the same initial weights and batch; torch only if it
    imports."""
    model, tokenizer = build_model()
    weights = model.state_dict()
    images, ids = batch(tokenizer)
    steps = {}
    if "tinygrad_course" in implementations:
        steps["tinygrad_course"] = make_tinygrad(model, images, ids)
    if "numpy" in implementations:
        steps["numpy"] = make_numpy(weights, images, ids)
    if "torch" in implementations and torch_available():
        steps["torch"] = make_torch(weights, images, ids)
    return steps


def setup():
    return make_steps()


def setup_two_pairs():
    """The same step on a batch of 2 pairs: the arrays cost almost nothing, so the time
    difference to NumPy is the framework's fixed cost per step (no torch column)."""
    model, tokenizer = build_model()
    images, ids = batch(tokenizer, n=2)
    return {"tinygrad_course": make_tinygrad(model, images, ids),
            "numpy": make_numpy(model.state_dict(), images, ids)}


WORKLOADS = {"clip_step": setup, "clip_step_2pairs": setup_two_pairs}

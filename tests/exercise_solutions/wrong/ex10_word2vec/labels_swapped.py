"""sigma(s) - 1 used for every target, noise words included: their derivative is sigma(s)."""

from tinygrad_course import backend

CAUGHT_BY = "gradients vs autograd: distinct words"
SLIPS_PAST = ("loss",)


def sgns_loss_and_gradients(w_in, w_out, center, context, negatives, xp):
    targets = xp.concatenate([xp.asarray([context], dtype=negatives.dtype), negatives])
    labels = xp.zeros(targets.shape, dtype=w_in.dtype)
    labels[0] = 1.0
    v = w_in[center]
    scores = w_out[targets] @ v
    loss = xp.logaddexp(0.0, -(2.0 * labels - 1.0) * scores).sum()
    errors = 1.0 / (1.0 + xp.exp(-scores)) - 1.0
    d_w_in = xp.zeros(w_in.shape, dtype=w_in.dtype)
    d_w_in[center] = errors @ w_out[targets]
    d_w_out = xp.zeros(w_out.shape, dtype=w_out.dtype)
    backend.scatter_add(xp, d_w_out, targets, errors[:, None] * v[None, :])
    return float(loss), d_w_in, d_w_out

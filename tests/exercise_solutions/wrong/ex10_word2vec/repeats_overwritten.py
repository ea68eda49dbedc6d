"""d_w_out[targets] += rows: a word drawn twice as noise (or both context and noise) gets
one update instead of the sum of its updates."""

CAUGHT_BY = "property: repeated words"
SLIPS_PAST = ("loss", "gradients vs autograd: distinct words", "gradcheck")


def sgns_loss_and_gradients(w_in, w_out, center, context, negatives, xp):
    targets = xp.concatenate([xp.asarray([context], dtype=negatives.dtype), negatives])
    labels = xp.zeros(targets.shape, dtype=w_in.dtype)
    labels[0] = 1.0
    v = w_in[center]
    scores = w_out[targets] @ v
    loss = xp.logaddexp(0.0, -(2.0 * labels - 1.0) * scores).sum()
    errors = 1.0 / (1.0 + xp.exp(-scores)) - labels
    d_w_in = xp.zeros(w_in.shape, dtype=w_in.dtype)
    d_w_in[center] = errors @ w_out[targets]
    d_w_out = xp.zeros(w_out.shape, dtype=w_out.dtype)
    d_w_out[targets] += errors[:, None] * v[None, :]
    return float(loss), d_w_in, d_w_out

"""Reference solution of exercise 10."""

from tinygrad_course import backend


def sgns_loss_and_gradients(w_in, w_out, center, context, negatives, xp):
    """L = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c);  with e = sigma(s) - labels:
    dL/dv_c = e @ u_targets,  dL/du_t = e_t v_c (repeated targets add up)."""
    targets = xp.concatenate([xp.asarray([context], dtype=negatives.dtype), negatives])
    labels = xp.zeros(targets.shape, dtype=w_in.dtype)
    labels[0] = 1.0
    v = w_in[center]
    scores = w_out[targets] @ v
    signs = 2.0 * labels - 1.0
    loss = xp.logaddexp(0.0, -signs * scores).sum()  # -log sigma(sign * s), stably
    errors = 1.0 / (1.0 + xp.exp(-scores)) - labels
    d_w_in = xp.zeros(w_in.shape, dtype=w_in.dtype)
    d_w_in[center] = errors @ w_out[targets]
    d_w_out = xp.zeros(w_out.shape, dtype=w_out.dtype)
    backend.scatter_add(xp, d_w_out, targets, errors[:, None] * v[None, :])
    return float(loss), d_w_in, d_w_out

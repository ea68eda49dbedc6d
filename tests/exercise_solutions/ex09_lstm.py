"""Reference solution of exercise 9."""


def _sigmoid(z, xp):
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_step_forward(x, h, c, w_ih, w_hh, b, xp):
    n = h.shape[-1]
    z = x @ w_ih.T + h @ w_hh.T + b
    i, f = _sigmoid(z[:, :n], xp), _sigmoid(z[:, n:2 * n], xp)
    g, o = xp.tanh(z[:, 2 * n:3 * n]), _sigmoid(z[:, 3 * n:], xp)
    c_new = f * c + i * g
    tanh_c = xp.tanh(c_new)
    h_new = o * tanh_c
    return h_new, c_new, (x, h, c, w_ih, w_hh, i, f, g, o, tanh_c)


def lstm_step_backward(dh, dc, cache, xp):
    x, h, c, w_ih, w_hh, i, f, g, o, tanh_c = cache
    do = dh * tanh_c
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)  # c_t reaches the loss directly and via h_t
    di, df, dg, dc_prev = dc * g, dc * c, dc * i, dc * f
    dz = xp.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g),
                         do * o * (1.0 - o)], axis=-1)
    return dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dz.T @ h, dz.sum(axis=0)


def lstm_bptt(dhs, caches, xp):
    dh_next = xp.zeros(dhs.shape[1:], dtype=dhs.dtype)
    dc_next = xp.zeros(dhs.shape[1:], dtype=dhs.dtype)
    dxs, totals = [None] * len(caches), None
    for t in reversed(range(len(caches))):
        dx, dh_next, dc_next, *weights = lstm_step_backward(dhs[t] + dh_next, dc_next,
                                                             caches[t], xp)
        dxs[t] = dx
        totals = weights if totals is None else [a + b for a, b in zip(totals, weights)]
    return (xp.stack(dxs), dh_next, dc_next, *totals)

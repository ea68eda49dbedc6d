"""dc_t used as it comes in: the path from c_t through h_t = o tanh(c_t) is forgotten."""

from exercise_solutions.ex09_lstm import lstm_bptt, lstm_step_forward  # noqa: F401

CAUGHT_BY = "one step vs autograd"
SLIPS_PAST = ("forward: one step",)


def lstm_step_backward(dh, dc, cache, xp):
    x, h, c, w_ih, w_hh, i, f, g, o, tanh_c = cache
    do = dh * tanh_c
    di, df, dg, dc_prev = dc * g, dc * c, dc * i, dc * f
    dz = xp.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g),
                         do * o * (1.0 - o)], axis=-1)
    return dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dz.T @ h, dz.sum(axis=0)

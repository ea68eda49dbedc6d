"""BPTT that passes dh back through time but restarts dc at zero at every step."""

from exercise_solutions.ex09_lstm import lstm_step_backward, lstm_step_forward  # noqa: F401

CAUGHT_BY = "three steps vs autograd"
SLIPS_PAST = ("forward: one step", "one step vs autograd")


def lstm_bptt(dhs, caches, xp):
    dh_next = xp.zeros(dhs.shape[1:], dtype=dhs.dtype)
    zeros = xp.zeros(dhs.shape[1:], dtype=dhs.dtype)
    dxs, totals = [None] * len(caches), None
    for t in reversed(range(len(caches))):
        dx, dh_next, dc_prev, *weights = lstm_step_backward(dhs[t] + dh_next, zeros,
                                                             caches[t], xp)
        dxs[t] = dx
        totals = weights if totals is None else [a + b for a, b in zip(totals, weights)]
    return (xp.stack(dxs), dh_next, dc_prev, *totals)

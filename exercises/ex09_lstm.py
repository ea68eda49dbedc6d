# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 9: an LSTM step by hand, then backprop through time
#
# One LSTM step, for a batch: x (B, I), previous state h, c (B, H), weights
# W_ih (4H, I), W_hh (4H, H), bias b (4H,). The four gate blocks come from one affine map,
# in the order i, f, g, o:
#
# $$z = x W_{ih}^T + h W_{hh}^T + b, \quad
# i = \sigma(z_{[0:H]}),\; f = \sigma(z_{[H:2H]}),\; g = \tanh(z_{[2H:3H]}),\;
# o = \sigma(z_{[3H:4H]})$$
#
# $$c_t = f \odot c + i \odot g, \qquad h_t = o \odot \tanh(c_t)$$
#
# **Derive** the step's backward: given $dh_t = \partial L/\partial h_t$ and
# $dc_t = \partial L/\partial c_t$ (from later steps and the loss), find
# $\partial L / \partial$ of x, h, c, W_ih, W_hh and b. Go backwards through the equations
# above one line at a time. Watch $c_t$: it reaches the loss **twice**, directly (through
# $dc_t$) and through $h_t$, so its total gradient is
# $dc_t + dh_t \odot o \odot (1 - \tanh^2 c_t)$.
#
# **Then backprop through time** over a sequence: $h_1, \dots, h_T$ from
# $x_1, \dots, x_T$, with the loss depending on every $h_t$. Walk the steps backwards; the
# gradient reaching step t's output $h_t$ is the loss's own $dh_t$ *plus* what step t+1
# sends back to its input h; $c_t$ gets only what step t+1 sends back. The weights are shared
# by all steps: their gradients add up over the steps.
#
# Write the three functions below on raw arrays (`xp` is NumPy or the device's module). The
# checker runs them inside the autograd engine by wrapping them in two Functions, a step
# and a sequence (see `exercises/checks/ex09_lstm.py`).
#
# **What the checker runs**: your step's forward against the package's `lstm_cell`, your
# step's six gradients against autograd of `lstm_cell` (the same cell composed of Tensor
# ops), the same for three steps through time, then gradcheck of the sequence and a
# hypothesis property over batch, input, hidden sizes and lengths.
#
# **The real thing**: `tinygrad_course/ops/recurrent.py` (`lstm_cell`), and
# `tinygrad_course/ops/fused/sequence.py` (`run_cells`, BPTT composed, and `LSTMSequence`,
# whose backward is this exercise's BPTT loop, fused).
#
# <details><summary>Hint 1: the order of the step's backward</summary>
#
# $do = dh_t \tanh(c_t)$; $dc = dc_t + dh_t\, o\, (1 - \tanh^2 c_t)$; then $df = dc\, c$,
# $di = dc\, g$, $dg = dc\, i$, $dc_{prev} = dc\, f$. Through the nonlinearities:
# $dz_i = di\, i (1 - i)$, likewise f and o, and $dz_g = dg\, (1 - g^2)$.
# </details>
#
# <details><summary>Hint 2: back through the affine map</summary>
#
# Stack $dz = [dz_i, dz_f, dz_g, dz_o]$ (B, 4H). Then $dx = dz\, W_{ih}$,
# $dh_{prev} = dz\, W_{hh}$, $dW_{ih} = dz^T x$, $dW_{hh} = dz^T h$, $db = \sum_B dz$.
# </details>
#
# <details><summary>Hint 3: the time loop</summary>
#
# Start with `dh_next = dc_next = 0`. For t = T-1 down to 0: run the step backward with
# `dhs[t] + dh_next` and `dc_next`; it returns the new `dh_next`, `dc_next`; put `dx` at
# `dxs[t]`; *add* the three weight gradients to running totals. dh0, dc0 are the last
# `dh_next`, `dc_next`.
# </details>

# %%
def lstm_step_forward(x, h, c, w_ih, w_hh, b, xp):
    """One step on arrays: returns (h_t, c_t, cache), cache = whatever the backward needs."""
    raise NotImplementedError("lstm: write lstm_step_forward")


def lstm_step_backward(dh, dc, cache, xp):
    """dL/dh_t, dL/dc_t (B, H) -> (dx, dh_prev, dc_prev, dw_ih, dw_hh, db), arrays."""
    raise NotImplementedError("lstm: write lstm_step_backward")


def lstm_bptt(dhs, caches, xp):
    """dhs (T, B, H): dL/dh_t from the loss; caches: one per step, in time order.
    Returns (dxs (T, B, I), dh0, dc0, dw_ih, dw_hh, db), arrays."""
    raise NotImplementedError("lstm: write lstm_bptt (backprop through time)")


# %% [markdown]
# Run the checks (or: `python -m exercises check lstm`).

# %%
if __name__ == "__main__":
    from exercises import check

    check("lstm", globals())

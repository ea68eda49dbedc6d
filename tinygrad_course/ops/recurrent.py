"""Recurrent networks: the lecture's update equations, one time step at a time.

``rnn_cell``, ``lstm_cell``, ``gru_cell``: one time step composed of Tensor ops. Autograd
derives their backward (and their second derivatives). They are the lecture's equations
line by line. A whole layer runs them at each step (``run_cells`` in ops/fused/sequence.py:
backpropagation through time is autograd's walk back over the steps); nn.LSTM, nn.GRU and
nn.RNN run the fused sequence ops of that file instead, each one op per layer, unless
``tg.use_fused(False)``.

Shapes and names follow PyTorch (G = number of gate blocks: RNN 1, LSTM 4, GRU 3):

    x_t: (B, I)  h, c: (B, H)  w_ih: (G*H, I)  w_hh: (G*H, H)  b_ih, b_hh: (G*H,)

Gate blocks are stacked along the rows of w_ih and w_hh in the order LSTM (i, f, g, o) and
GRU (r, z, n), so all gates of a step come out of ONE matmul and are then sliced apart.
"""




# ----- one step, composed of Tensor ops (autograd does the backward) ---------------------------
def _affine(x, h, w_ih, w_hh, b_ih, b_hh):
    """x W_ih^T + b_ih + h W_hh^T + b_hh: every gate block of a step from one matmul each."""
    z = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        z = z + b_ih + b_hh
    return z


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """Elman RNN step:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)   (or relu).

    x: (B, I)   h: (B, H)   w_ih: (H, I)   w_hh: (H, H)   ->  h_t: (B, H)
    """
    z = _affine(x, h, w_ih, w_hh, b_ih, b_hh)
    return z.tanh() if nonlinearity == "tanh" else z.relu()


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
    """LSTM step (the lecture's equations; W = rows of W_ih, U = rows of W_hh):

        i_t = sigmoid(W_i x_t + U_i h_{t-1} + b_i)      input gate: how much new memory enters
        f_t = sigmoid(W_f x_t + U_f h_{t-1} + b_f)      forget gate: how much old memory stays
        g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)         candidate memory  (c~_t)
        o_t = sigmoid(W_o x_t + U_o h_{t-1} + b_o)      output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    x: (B, I)   h, c: (B, H)   w_ih: (4H, I)   w_hh: (4H, H)   ->  (h_t, c_t), each (B, H)

    With a projection w_hr (P, H), P < H (Sak et al. 2014; PyTorch's proj_size), the state
    that is carried and output is smaller than the memory:
        h_t = W_hr (o_t * tanh(c_t))        h: (B, P)   w_hh: (4H, P)   ->  h_t (B, P), c_t (B, H)
    """
    n = c.shape[-1]
    z = _affine(x, h, w_ih, w_hh, b_ih, b_hh)
    input_gate = z[..., 0:n].sigmoid()
    forget_gate = z[..., n:2 * n].sigmoid()
    candidate = z[..., 2 * n:3 * n].tanh()
    output_gate = z[..., 3 * n:4 * n].sigmoid()
    c_new = forget_gate * c + input_gate * candidate
    h_new = output_gate * c_new.tanh()
    if w_hr is not None:
        h_new = h_new @ w_hr.T
    return h_new, c_new


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """GRU step (PyTorch's form of the lecture's equations):

        r_t = sigmoid(W_r x_t + b_ir + U_r h_{t-1} + b_hr)          reset gate
        z_t = sigmoid(W_z x_t + b_iz + U_z h_{t-1} + b_hz)          update gate
        n_t = tanh(W_n x_t + b_in + r_t * (U_n h_{t-1} + b_hn))     candidate  (h~_t)
        h_t = z_t * h_{t-1} + (1 - z_t) * n_t

    x: (B, I)   h: (B, H)   w_ih: (3H, I)   w_hh: (3H, H)   ->  h_t: (B, H)
    """
    n = h.shape[-1]
    from_x = x @ w_ih.T
    from_h = h @ w_hh.T
    if b_ih is not None:
        from_x, from_h = from_x + b_ih, from_h + b_hh
    reset_gate = (from_x[..., 0:n] + from_h[..., 0:n]).sigmoid()
    update_gate = (from_x[..., n:2 * n] + from_h[..., n:2 * n]).sigmoid()
    candidate = (from_x[..., 2 * n:3 * n] + reset_gate * from_h[..., 2 * n:3 * n]).tanh()
    return update_gate * h + (1.0 - update_gate) * candidate


# The sequence ops (one layer over time as one op) live in ops/fused/sequence.py, beside
# their twin run_cells; imported here under their old paths.
from .fused.sequence import (  # noqa: E402, F401
    GRUSequence,
    LSTMSequence,
    RNNSequence,
    _buffer_pool,
    buffer_pool_bytes,
    clear_buffer_pool,
    gru_sequence,
    lstm_sequence,
    rnn_sequence,
    run_cells,
)

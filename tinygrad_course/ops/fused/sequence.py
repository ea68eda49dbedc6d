"""Recurrent layers over a whole sequence.  Twin: ``run_cells`` (the cell at each step);
fused ops: ``RNNSequence``, ``LSTMSequence``, ``GRUSequence``.

``run_cells`` is backpropagation through time as the lecture tells it: apply the cell
(ops/recurrent.py: ``rnn_cell``, ``lstm_cell``, ``gru_cell``) at each time step in turn, and
let autograd walk back over the steps. Read it first.

The fused ops run one layer over the whole sequence as ONE op, forward and backward written
on raw arrays side by side. The forward loops over time (the recurrence demands it) and
keeps what each step computed; the backward walks the steps in reverse. Only the
h_{t-1} W_hh^T part has to wait for the previous step: x_t W_ih^T for all steps is ONE
matmul before the loop, and dL/dW_ih, dL/dW_hh, dL/dx are one matmul each after it, over
every step's stored gradient. What it saves: one op per layer instead of ~20 small Tensor
ops per step (the twin records T * ~20 ops and keeps each one's inputs), and these few big
matmuls, are what make ``nn.LSTM`` as fast as a hand-written NumPy LSTM
(benchmarks/bench_rnn.py: lstm 0.96-0.98 of NumPy's time). Measured on the way: the gate
math works on fresh contiguous arrays, because in-place NumPy ufuncs on a strided gate block
of z were slower. The price of a raw-array backward: it cannot be differentiated again;
``backward(create_graph=True)`` through a sequence op raises DoubleBackwardError (the twin,
``use_fused(False)`` or nn.LSTMCell in a loop, can be).

Shapes and names follow PyTorch (G = number of gate blocks: RNN 1, LSTM 4, GRU 3):

    x: (T, B, I)  h0, c0: (B, H)  w_ih: (G*H, I)  w_hh: (G*H, H)  b_ih, b_hh: (G*H,)

Variable lengths. A sequence op takes ``mask`` (T, B, 1) bool, True where step t of example
b is real. At a padded step the state is carried over unchanged and the output is 0:

    h_t = h_new  if mask[t, b] else h_{t-1};     output_t = h_new if mask[t, b] else 0

so the final state is the state after each example's last real step, also when the sequence
is read backwards.

A Function has one output, so a sequence op returns one packed array:
    y[:T] = outputs (T, B, H),  y[T] = h_n (B, H),  and for the LSTM  y[T + 1] = c_n (B, H).
``rnn_sequence``, ``lstm_sequence`` and ``gru_sequence`` unpack it, and run the twin
instead under ``use_fused(False)``.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for lstm_sequence with T=32, B=16, I=H=64,
the twin takes 4.9-5.2x the fused op's time (4.3 vs 21 ms).
"""

import numpy

from ...autograd import Function, is_grad_enabled
from ...errors import DoubleBackwardError
from ...fused import fused_enabled
from ...tensor import constant
from ..buffer_pool import BufferPool
from ..elementwise import where
from ..movement import stack
from ..recurrent import gru_cell, lstm_cell, rnn_cell


# ----- the twin: the composed cell, step by step ------------------------------------------------
def run_cells(step, x, states, mask=None, reverse=False):
    """Backpropagation through time, composed: ``states = step(x_t, *states)`` for each t.

    step    a cell: (x_t, *states) -> the new states, h first (h, or (h, c) for the LSTM)
    x       (T, B, I);  states: the initial states, (B, H) each
    mask    (T, B, 1) bool array or None: a padded step keeps the states and outputs 0
    Returns (outputs (T, B, H), the final states as a list).
    """
    steps = x.shape[0]
    outputs = [None] * steps
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        new = step(x[t], *states)
        new = new if isinstance(new, tuple) else (new,)
        if mask is None:
            outputs[t], states = new[0], new
        else:
            real = mask[t]  # (B, 1): True where step t of example b is real
            outputs[t] = where(real, new[0], 0.0)
            states = tuple(where(real, n, s) for n, s in zip(new, states))
    return stack(outputs, axis=0), list(states)


def rnn_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, mask=None, reverse=False,
                 nonlinearity="tanh"):
    """One RNN layer over x (T, B, I) -> (outputs (T, B, H), [h_n])."""
    biases = () if b_ih is None else (b_ih, b_hh)
    if not fused_enabled():
        return run_cells(lambda x_t, h: rnn_cell(x_t, h, w_ih, w_hh, *biases,
                                                 nonlinearity=nonlinearity),
                         x, (h0,), mask, reverse)
    packed = RNNSequence.apply(x, h0, w_ih, w_hh, *biases, mask=mask, reverse=reverse,
                               nonlinearity=nonlinearity)
    return _unpack(packed, x.shape[0], 1)


def lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, mask=None, reverse=False):
    """One LSTM layer over x (T, B, I) -> (outputs (T, B, H), [h_n, c_n])."""
    biases = () if b_ih is None else (b_ih, b_hh)
    if not fused_enabled():
        return run_cells(lambda x_t, h, c: lstm_cell(x_t, h, c, w_ih, w_hh, *biases),
                         x, (h0, c0), mask, reverse)
    packed = LSTMSequence.apply(x, h0, c0, w_ih, w_hh, *biases, mask=mask, reverse=reverse)
    return _unpack(packed, x.shape[0], 2)


def gru_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, mask=None, reverse=False):
    """One GRU layer over x (T, B, I) -> (outputs (T, B, H), [h_n])."""
    biases = () if b_ih is None else (b_ih, b_hh)
    if not fused_enabled():
        return run_cells(lambda x_t, h: gru_cell(x_t, h, w_ih, w_hh, *biases),
                         x, (h0,), mask, reverse)
    packed = GRUSequence.apply(x, h0, w_ih, w_hh, *biases, mask=mask, reverse=reverse)
    return _unpack(packed, x.shape[0], 1)


def _unpack(packed, steps, count):
    """A sequence op's packed (T + count, B, H) result -> (outputs (T, B, H), [count finals])."""
    return packed[:steps], [packed[steps + i] for i in range(count)]


# ----- the fused ops: a whole layer over time as one op ----------------------------------
def _no_double_backward(name):
    """Refuse backward(create_graph=True): the sequence ops are deliberately first-order."""
    if is_grad_enabled():
        raise DoubleBackwardError(
            f"{name}: its backward is written on raw arrays for speed and cannot be "
            "differentiated again (backward/grad with create_graph=True); for second "
            "derivatives loop over the cell (nn.LSTMCell / nn.GRUCell / nn.RNNCell) instead")


_buffer_pool = BufferPool()  # arrays a finished backward handed back (see ops/buffer_pool.py)


def clear_buffer_pool():
    """Free the arrays the sequence ops keep for reuse (at most 64 MiB, least recently used
    shapes evicted first); returns how many bytes were released. Like
    torch.cuda.empty_cache(): only idle memory goes, and a later call allocates again."""
    return _buffer_pool.clear()


def buffer_pool_bytes():
    """How many bytes the sequence ops' buffer pool holds right now."""
    return _buffer_pool.nbytes


def _sigmoid_into(xp, z, out):
    """out <- 1 / (1 + e^-z), computed in ``out`` (a contiguous slot; z may be a strided
    block). Overflow of e^-z to inf for z < -88 still gives 0: the callers silence it."""
    xp.negative(z, out=out)
    xp.exp(out, out=out)
    out += 1
    return xp.reciprocal(out, out=out)


class _Sequence(Function):
    """What the three sequence ops share: the order of the time steps, padding, the matmuls
    that take the input weights and the weight gradients out of the time loop, and the
    buffers for what the forward saves.

    Buffers. What the forward keeps for the backward lives in a few (T, B, k) arrays. When
    the backward has run (and frees the op, see graph_memory.py), they go back to a bounded pool
    (ops/buffer_pool.py) and the next call of the same shape takes them again instead of
    allocating; a graph that never runs backward keeps its own.
    """

    def _buffer(self, shape):
        """An uninitialised (T, B, k) array for this call, from the pool when one is free."""
        key = (shape, numpy.dtype(self.dtype).str, getattr(self.xp, "__name__", "?"))
        array = _buffer_pool.take(key)
        if array is None:
            array = self.xp.empty(shape, dtype=self.dtype)
        self.buffers.append((key, array))
        return array

    def release(self):
        for key, array in self.buffers:
            _buffer_pool.give_back(key, array)
        super().release()

    def _start(self, x, h0, mask, reverse):
        self.mask = mask
        self.order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        self.dtype, self.buffers = x.dtype, []
        # the state entering each step, for dL/dW_hh = sum_t dz_t^T h_{t-1} after the loop
        self.h_prev = self._buffer(x.shape[:1] + h0.shape)

    def _step_gradients(self, width):
        """A (T, B, width) buffer; step t's gradient goes into [t] as it is computed."""
        x = self.inputs[0]
        return self._buffer((x.shape[0], x.shape[1], width))

    def _carry(self, t, new, old):
        """The state after step t: the new one at real steps, the old one at padding."""
        return new if self.mask is None else self.xp.where(self.mask[t], new, old)

    def _only_real(self, t, value):
        """``value`` at real steps, 0 at padding (outputs, and gradients into a step)."""
        return value if self.mask is None else self.xp.where(self.mask[t], value, 0)

    def _project_inputs(self, x, w_ih, bias):
        """x_t W_ih^T (+ bias) for EVERY step in one (T*B, I) @ (I, G*H) matmul -> (T, B, G*H).

        Only h_{t-1} W_hh^T has to wait for the previous step; the input part does not, and
        one big matmul is faster than T small ones."""
        projected = self._buffer((x.shape[0], x.shape[1], w_ih.shape[0]))
        self.xp.matmul(x.reshape(-1, x.shape[-1]), w_ih.T,
                       out=projected.reshape(-1, w_ih.shape[0]))
        if bias is not None:
            projected += bias
        return projected

    def _after_the_loop(self, d_from_x, d_from_h, w_ih, bias_grads):
        """dL/dx, dL/dW_ih, dL/dW_hh and the bias gradients, for all steps at once.

        d_from_x, d_from_h: (T, B, G*H), every step's gradient of its pre-activations' x-part
        and h-part (the same array except in the GRU). Per step, d_t^T x_t is a product over
        only B rows and adding it into dL/dW is a pass over the whole weight; stacked, the
        sum over steps happens inside ONE big matmul (for the LSTM benchmark's weights about
        1.3x faster). bias_grads: 0 (no biases), 1 (b_ih and b_hh are added together, so
        they get the same gradient) or 2 (separate ones, from d_from_x and d_from_h).
        """
        x = self.inputs[0].data
        d_from_x = d_from_x.reshape(-1, d_from_x.shape[-1])  # (T*B, G*H): all steps' rows
        d_from_h = d_from_h.reshape(-1, d_from_h.shape[-1])
        d_x = (d_from_x @ w_ih).reshape(x.shape) if self.needs_input_grad[0] else None
        d_w_ih = d_from_x.T @ x.reshape(-1, x.shape[-1])
        d_w_hh = d_from_h.T @ self.h_prev.reshape(-1, self.h_prev.shape[-1])
        if bias_grads == 0:
            return d_x, [d_w_ih, d_w_hh]
        d_b_ih = d_from_x.sum(axis=0)
        d_b_hh = d_b_ih if bias_grads == 1 else d_from_h.sum(axis=0)
        return d_x, [d_w_ih, d_w_hh, d_b_ih, d_b_hh]

    def _tensors(self, grads):
        device = self.inputs[0].device
        return tuple(None if g is None or not needed else constant(g, device=device)
                     for g, needed in zip(grads, self.needs_input_grad))


class RNNSequence(_Sequence):
    """Elman RNN layer over a sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Inputs: x (T, B, I), h0 (B, H), w_ih (H, I), w_hh (H, H)[, b_ih (H,), b_hh (H,)].
    Params: mask (T, B, 1) bool or None, reverse (bool), nonlinearity "tanh" or "relu".
    Output: packed (T + 1, B, H) = outputs, then h_n.

    Backward through time, with a_t the pre-activation and dh the gradient reaching h_t; in
    the loop, step by step:
        dL/da_t = dh * act'(a_t)      tanh' = 1 - h_t^2,  relu' = [h_t > 0]
        dh_{t-1} = dL/da_t W_hh
    and after it, for all steps at once:
        dL/dW_ih = sum_t dL/da_t^T x_t    dL/dW_hh = sum_t dL/da_t^T h_{t-1}
        dL/db = sum_t sum_batch dL/da_t   dL/dx_t = dL/da_t W_ih
    """

    def forward(self, x, h0, w_ih, w_hh, *biases, mask=None, reverse=False,
                nonlinearity="tanh"):
        xp = self.xp
        self._start(x, h0, mask, reverse)
        self.nonlinearity = nonlinearity
        from_x = self._project_inputs(x, w_ih, biases[0] + biases[1] if biases else None)
        packed = xp.empty((x.shape[0] + 1,) + h0.shape, dtype=x.dtype)
        h = h0
        h_new_at = self._buffer(self.h_prev.shape)  # each step's new state, for the backward
        for t in self.order:
            self.h_prev[t] = h
            a = h @ w_hh.T
            a += from_x[t]
            if nonlinearity == "tanh":
                h_new = xp.tanh(a, out=h_new_at[t])
            else:
                h_new = xp.maximum(a, 0, out=h_new_at[t])
            packed[t] = self._only_real(t, h_new)
            h = self._carry(t, h_new, h)
        packed[-1] = h
        self.saved = h_new_at
        return packed

    def backward(self, grad):
        _no_double_backward("RNNSequence")
        xp, grad = self.xp, grad.data
        w_ih, w_hh = self.inputs[2].data, self.inputs[3].data
        d_a = self._step_gradients(w_hh.shape[0])
        dh = grad[-1]
        for t in reversed(self.order):
            h_new = self.saved[t]  # a slot of the (T, B, H) buffer
            dh_new = self._only_real(t, dh + grad[t])
            if self.nonlinearity == "tanh":
                xp.multiply(dh_new, 1 - h_new * h_new, out=d_a[t])
            else:
                xp.multiply(dh_new, h_new > 0, out=d_a[t])
            dh = self._carry(t, d_a[t] @ w_hh, dh)
        d_x, d_params = self._after_the_loop(d_a, d_a, w_ih,
                                             bias_grads=1 if len(self.inputs) > 4 else 0)
        return self._tensors([d_x, dh] + d_params)


class LSTMSequence(_Sequence):
    """LSTM layer over a sequence (the equations of ``lstm_cell``, gates i, f, g, o).

    Inputs: x (T, B, I), h0 (B, H), c0 (B, H), w_ih (4H, I), w_hh (4H, H)[, b_ih, b_hh (4H,)].
    Params: mask (T, B, 1) bool or None, reverse (bool).
    Output: packed (T + 2, B, H) = outputs, then h_n, then c_n.

    Backward through time. With dh, dc the gradients reaching h_t, c_t (from the output at t
    and from step t + 1), in the loop, step by step:
        dc += dh * o * (1 - tanh(c_t)^2)
        dz = [dc g i(1-i),  dc c_{t-1} f(1-f),  dc i (1-g^2),  dh tanh(c_t) o(1-o)]
             (the gradient of the four pre-activations, in the gate order i, f, g, o)
        dh_{t-1} = dz W_hh          dc_{t-1} = dc f
    and after it, for all steps at once:
        dL/dW_ih = sum_t dz_t^T x_t    dL/dW_hh = sum_t dz_t^T h_{t-1}    dL/db = sum dz
        dL/dx_t = dz_t W_ih
    """

    def forward(self, x, h0, c0, w_ih, w_hh, *biases, mask=None, reverse=False):
        xp = self.xp
        self._start(x, h0, mask, reverse)
        n = h0.shape[1]
        from_x = self._project_inputs(x, w_ih, biases[0] + biases[1] if biases else None)
        packed = xp.empty((x.shape[0] + 2,) + h0.shape, dtype=x.dtype)
        # what the backward needs, one [t] slot per step: c_{t-1}, (i, f), g, o, tanh(c_t)
        c_prev, candidate, output_gate, tanh_c = (self._buffer(self.h_prev.shape)
                                                  for _ in range(4))
        input_and_forget = self._buffer(x.shape[:2] + (2 * n,))
        h, c = h0, c0
        with numpy.errstate(over="ignore"):  # see _sigmoid_into
            for t in self.order:
                self.h_prev[t], c_prev[t] = h, c
                z = h @ w_hh.T  # all four gates of the step from one matmul with h ...
                z += from_x[t]  # ... plus their x-part
                _sigmoid_into(xp, z[:, 0:2 * n], input_and_forget[t])  # i, f adjacent: one call
                input_gate, forget_gate = input_and_forget[t, :, 0:n], input_and_forget[t, :, n:]
                xp.tanh(z[:, 2 * n:3 * n], out=candidate[t])
                _sigmoid_into(xp, z[:, 3 * n:4 * n], output_gate[t])
                c_new = forget_gate * c
                c_new += input_gate * candidate[t]
                h_new = output_gate[t] * xp.tanh(c_new, out=tanh_c[t])
                packed[t] = self._only_real(t, h_new)
                h, c = self._carry(t, h_new, h), self._carry(t, c_new, c)
        packed[-2], packed[-1] = h, c
        self.saved = (c_prev, input_and_forget, candidate, output_gate, tanh_c)
        return packed

    def backward(self, grad):
        _no_double_backward("LSTMSequence")
        xp, grad = self.xp, grad.data
        w_ih, w_hh = self.inputs[3].data, self.inputs[4].data
        dz = self._step_gradients(w_hh.shape[0])
        dh, dc = grad[-2], grad[-1]
        c_prevs, input_and_forget, candidate, output_gate, tanh_cs = self.saved
        n = c_prevs.shape[-1]
        for t in reversed(self.order):
            c_prev, g, o, tanh_c = c_prevs[t], candidate[t], output_gate[t], tanh_cs[t]
            i, f = input_and_forget[t, :, 0:n], input_and_forget[t, :, n:]
            dh_new = self._only_real(t, dh + grad[t])
            dc_new = self._only_real(t, dc) + dh_new * o * (1 - tanh_c * tanh_c)
            xp.concatenate([dc_new * g * i * (1 - i), dc_new * c_prev * f * (1 - f),
                            dc_new * i * (1 - g * g), dh_new * tanh_c * o * (1 - o)],
                           axis=1, out=dz[t])
            dh, dc = self._carry(t, dz[t] @ w_hh, dh), self._carry(t, dc_new * f, dc)
        d_x, d_params = self._after_the_loop(dz, dz, w_ih,
                                             bias_grads=1 if len(self.inputs) > 5 else 0)
        return self._tensors([d_x, dh, dc] + d_params)


class GRUSequence(_Sequence):
    """GRU layer over a sequence (the equations of ``gru_cell``, gates r, z, n).

    Inputs: x (T, B, I), h0 (B, H), w_ih (3H, I), w_hh (3H, H)[, b_ih, b_hh (3H,)].
    Params: mask (T, B, 1) bool or None, reverse (bool).
    Output: packed (T + 1, B, H) = outputs, then h_n.

    Backward through time, with a = x_t W_ih^T + b_ih, u = h_{t-1} W_hh^T + b_hh (so
    n = tanh(a_n + r u_n)) and dh the gradient reaching h_t; in the loop, step by step:
        da_n = dh (1 - z) (1 - n^2)       da_r = da_n u_n r(1-r)
        da_z = dh (h_{t-1} - n) z(1-z)    da = [da_r, da_z, da_n]    du = [da_r, da_z, da_n r]
        dh_{t-1} = dh z + du W_hh
    and after it, for all steps at once:
        dL/dW_ih = sum_t da_t^T x_t     dL/dW_hh = sum_t du_t^T h_{t-1}
        dL/db_ih = sum da    dL/db_hh = sum du    dL/dx_t = da_t W_ih
    """

    def forward(self, x, h0, w_ih, w_hh, *biases, mask=None, reverse=False):
        xp = self.xp
        self._start(x, h0, mask, reverse)
        n = h0.shape[1]
        all_from_x = self._project_inputs(x, w_ih, biases[0] if biases else None)
        packed = xp.empty((x.shape[0] + 1,) + h0.shape, dtype=x.dtype)
        # what the backward needs, one [t] slot per step: u = h W_hh^T + b_hh, (r, z), n
        all_from_h = self._buffer(all_from_x.shape)
        reset_and_update = self._buffer(x.shape[:2] + (2 * n,))
        candidate = self._buffer(self.h_prev.shape)
        h = h0
        with numpy.errstate(over="ignore"):  # see _sigmoid_into
            for t in self.order:
                self.h_prev[t] = h
                from_x = all_from_x[t]
                from_h = xp.matmul(h, w_hh.T, out=all_from_h[t])  # the 3 gates' h-part at once
                if biases:
                    from_h += biases[1]
                _sigmoid_into(xp, from_x[:, 0:2 * n] + from_h[:, 0:2 * n], reset_and_update[t])
                reset_gate, update_gate = reset_and_update[t, :, 0:n], reset_and_update[t, :, n:]
                n_t = xp.tanh(from_x[:, 2 * n:3 * n] + reset_gate * from_h[:, 2 * n:3 * n],
                              out=candidate[t])
                h_new = n_t + update_gate * (h - n_t)  # = z h + (1 - z) n
                packed[t] = self._only_real(t, h_new)
                h = self._carry(t, h_new, h)
        packed[-1] = h
        self.saved = (reset_and_update, candidate, all_from_h)
        return packed

    def backward(self, grad):
        _no_double_backward("GRUSequence")
        xp, grad = self.xp, grad.data
        w_ih, w_hh = self.inputs[2].data, self.inputs[3].data
        d_from_x = self._step_gradients(w_hh.shape[0])
        d_from_h = self._step_gradients(w_hh.shape[0])
        dh = grad[-1]
        reset_and_update, candidates, all_from_h = self.saved
        n = candidates.shape[-1]
        for t in reversed(self.order):
            r, z = reset_and_update[t, :, 0:n], reset_and_update[t, :, n:]
            candidate, hidden_n = candidates[t], all_from_h[t, :, 2 * n:3 * n]
            dh_new = self._only_real(t, dh + grad[t])
            one_minus_z = 1 - z
            da_n = dh_new * one_minus_z * (1 - candidate * candidate)
            da_r = da_n * hidden_n * r * (1 - r)
            da_z = dh_new * (self.h_prev[t] - candidate) * z * one_minus_z
            xp.concatenate([da_r, da_z, da_n], axis=1, out=d_from_x[t])
            xp.concatenate([da_r, da_z, da_n * r], axis=1, out=d_from_h[t])
            dh = self._carry(t, dh_new * z + d_from_h[t] @ w_hh, dh)
        d_x, d_params = self._after_the_loop(d_from_x, d_from_h, w_ih,
                                             bias_grads=2 if len(self.inputs) > 4 else 0)
        return self._tensors([d_x, dh] + d_params)

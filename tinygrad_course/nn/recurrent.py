"""Recurrent layers: RNN, LSTM and GRU, as cells (one time step) and as layers (a sequence).

The equations are in ops/recurrent.py (``rnn_cell``, ``lstm_cell``, ``gru_cell``):

    RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    LSTM  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
          c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)
    GRU   r, z = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr), sigmoid(... z rows ...)
          n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))     h_t = z * h_{t-1} + (1 - z) * n

Names, shapes and init are PyTorch's, so a state_dict means the same thing in both:
weight_ih_l{k}[_reverse] (G*H, I), weight_hh_l{k} (G*H, H), bias_ih_l{k}, bias_hh_l{k} (G*H,),
with the gate blocks stacked in the order LSTM (i, f, g, o), GRU (r, z, n); every weight and
bias ~ U(-1/sqrt(H), 1/sqrt(H)).

The cells are composed of Tensor ops (twice differentiable, good for step-by-step decoders
and for reading). The layers run each layer and direction as one fused sequence op (fast;
see ops/fused/sequence.py; their backward cannot be differentiated again), or, under
``tg.use_fused(False)``, the cell at each step (``run_cells``, the twin).

LSTM(proj_size=P), 0 < P < H, is PyTorch's LSTM with projections: h_t = W_hr (o_t * tanh(c_t))
with weight_hr_l{k}[_reverse] (P, H), so h (and the output) has P features, c keeps H,
weight_hh_l{k} is (4H, P) and layer k > 0 reads P * num_directions features. It runs the
composed cell step by step (slower than the sequence op, and twice differentiable).
"""

import math
import numbers

import numpy

from .. import backend
from ..errors import ArgumentError, ShapeError
from ..ops import recurrent as ops
from ..ops.movement import concatenate, stack
from ..tensor import Tensor, as_tensor, require_floating, zeros
from . import init
from .dropout import Dropout
from .module import Module, Parameter


def _uniform_parameter(shape, bound, rng, dtype, device):
    param = Parameter(zeros(*shape, dtype=dtype, device=device))
    return init.uniform_(param, -bound, bound, generator=rng)


# ----- cells: one time step ----------------------------------------------------------------------
class _CellBase(Module):
    gate_count = 1

    def __init__(self, input_size, hidden_size, bias=True, seed=None, generator=None,
                 dtype=None, device=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rng = init.get_generator(seed, generator)
        bound = 1.0 / math.sqrt(hidden_size)
        rows = self.gate_count * hidden_size
        self.weight_ih = _uniform_parameter((rows, input_size), bound, rng, dtype, device)
        self.weight_hh = _uniform_parameter((rows, hidden_size), bound, rng, dtype, device)
        if bias:
            self.bias_ih = _uniform_parameter((rows,), bound, rng, dtype, device)
            self.bias_hh = _uniform_parameter((rows,), bound, rng, dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def _check(self, x, state, state_name):
        """Batch the input if it is a single example; return (x, state, was_unbatched)."""
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input of shape (B, {self.input_size}) or "
                             f"({self.input_size},), got {x.shape}")
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        if state is None:
            state = zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        elif unbatched:
            state = state.unsqueeze(0)
        if state.shape != (x.shape[0], self.hidden_size):
            raise ShapeError(f"{name}: expected {state_name} of shape "
                             f"({x.shape[0]}, {self.hidden_size}), got {state.shape}")
        return x, state, unbatched

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)  (or relu).  x: (B, I), h: (B, H) -> (B, H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", seed=None,
                 generator=None, dtype=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, seed, generator, dtype, device)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, h, unbatched = self._check(input, hx, "hx")
        h_new = ops.rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                             self.nonlinearity)
        return h_new.squeeze(0) if unbatched else h_new


class LSTMCell(_CellBase):
    """One LSTM step; all four gates (i, f, g, o) from one matmul each of x and h.

    x: (B, I), hx = (h, c) each (B, H) or None (zeros)  ->  (h', c') each (B, H).
    """

    gate_count = 4

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        x, h, unbatched = self._check(input, h, "h")
        _, c, _ = self._check(input, c, "c")
        h_new, c_new = ops.lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih,
                                     self.bias_hh)
        if unbatched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(_CellBase):
    """One GRU step (gates r, z, n).  x: (B, I), h: (B, H) or None (zeros)  ->  h': (B, H)."""

    gate_count = 3

    def forward(self, input, hx=None):
        x, h, unbatched = self._check(input, hx, "hx")
        h_new = ops.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h_new.squeeze(0) if unbatched else h_new


# ----- layers: a whole sequence ------------------------------------------------------------------
def lengths_to_mask(lengths, steps, batch, device):
    """(T, B, 1) bool array on ``device``: True where step t < lengths[b] (a real token)."""
    host = lengths.numpy() if isinstance(lengths, Tensor) else numpy.asarray(lengths)
    if host.shape != (batch,) or host.dtype.kind not in "iu":
        raise ShapeError(f"lengths: expected {batch} integers (one per sequence), got "
                         f"{host.dtype} array of shape {host.shape}")
    if host.size and (host.min() < 0 or host.max() > steps):
        raise ShapeError(f"lengths: every length must be in [0, {steps}] (the padded length), "
                         f"got values from {host.min()} to {host.max()}")
    mask = numpy.arange(steps)[:, None] < host[None, :]
    return backend.from_numpy(mask[:, :, None], device)


class _RNNBase(Module):
    """Stacked, optionally bidirectional recurrent layers (what RNN, LSTM and GRU share).

    input: (T, B, I), or (B, T, I) with batch_first=True, or (T, I) for one sequence.
    hx: (num_layers * num_directions, B, H), zeros when None (LSTM: a pair (h0, c0)).
    lengths: optional, B integers; steps at t >= lengths[b] are padding: they do not change
        the state, and their output is 0 (what PyTorch gives for a packed sequence).
    output: (T, B, num_directions * H), the last layer's h_t, both directions concatenated.
    h_n: (num_layers * num_directions, B, H), the state after each sequence's last real step
        (for the reverse direction: after reading step 0). Index k = layer * num_directions
        + direction, as in PyTorch.
    dropout: applied to the outputs of every layer but the last, in training mode only.
    """

    gate_count = 1
    has_cell_state = False

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, seed=None, generator=None, dtype=None,
                 device=None, proj_size=0):
        super().__init__()
        if num_layers < 1 or hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: num_layers and hidden_size must be >= 1, "
                             f"got {num_layers} and {hidden_size}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.proj_size = proj_size
        self.state_size = proj_size or hidden_size  # the size of h (the memory c keeps H)
        rng = init.get_generator(seed, generator)
        bound = 1.0 / math.sqrt(hidden_size)
        rows = self.gate_count * hidden_size
        for layer in range(num_layers):
            width = input_size if layer == 0 else self.state_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                setattr(self, "weight_ih" + suffix,
                        _uniform_parameter((rows, width), bound, rng, dtype, device))
                setattr(self, "weight_hh" + suffix,
                        _uniform_parameter((rows, self.state_size), bound, rng, dtype, device))
                if bias:
                    setattr(self, "bias_ih" + suffix,
                            _uniform_parameter((rows,), bound, rng, dtype, device))
                    setattr(self, "bias_hh" + suffix,
                            _uniform_parameter((rows,), bound, rng, dtype, device))
                if proj_size:
                    setattr(self, "weight_hr" + suffix,
                            _uniform_parameter((proj_size, hidden_size), bound, rng, dtype,
                                               device))
        self.inter_layer_dropout = Dropout(dropout, generator=rng) if dropout > 0 else None

    @property
    def all_weights(self):
        """[[weight_ih, weight_hh, bias_ih, bias_hh(, weight_hr)] for each layer and direction]."""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        names += ["weight_hr"] if self.proj_size else []
        weights = []
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                weights.append([getattr(self, n + suffix) for n in names])
        return weights

    def _initial_state(self, state, batch, x, unbatched, name, size=None):
        """The initial states as a list, one (B, size) tensor per layer and direction
        (size: hidden_size, or proj_size for the h of a projected LSTM)."""
        size = self.hidden_size if size is None else size
        shape = (self.num_layers * self.num_directions, batch, size)
        if state is None:
            zero = zeros(batch, size, dtype=x.dtype, device=x.device)
            return [zero] * shape[0]
        state = as_tensor(state, type(self).__name__)
        if unbatched:
            state = state.unsqueeze(1)
        if state.shape != shape:
            what = "proj_size" if size != self.hidden_size else "hidden_size"
            raise ShapeError(f"{type(self).__name__}: expected {name} of shape {shape} "
                             f"(num_layers * num_directions, batch, {what}), got "
                             f"{state.shape}")
        return [state[k] for k in range(shape[0])]

    def forward(self, input, hx=None, lengths=None):
        name = type(self).__name__
        input = as_tensor(input, name)
        require_floating(input, name)
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
            raise ShapeError(f"{name}: expected input of shape {layout} with I = "
                             f"{self.input_size}, or (T, I), got {input.shape}")
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (
            input.transpose(1, 0, 2) if self.batch_first else input)
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise ShapeError(f"{name}: got an empty sequence (T = 0)")
        mask = None if lengths is None else lengths_to_mask(lengths, steps, batch, x.device)
        states = self._initial_states(hx, batch, x, unbatched)
        finals, weights = [[] for _ in states], self.all_weights
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                output, last_states = self._run_direction(x, [s[k] for s in states], weights[k],
                                                          mask, reverse=direction == 1)
                outputs.append(output)
                for final, last in zip(finals, last_states):
                    final.append(last)
            x = outputs[0] if len(outputs) == 1 else concatenate(outputs, axis=2)
            if self.inter_layer_dropout is not None and layer < self.num_layers - 1:
                x = self.inter_layer_dropout(x)
        finals = [stack(final, axis=0) if len(final) > 1 else final[0].unsqueeze(0)
                  for final in finals]
        if unbatched:
            x, finals = x.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        return x, (tuple(finals) if self.has_cell_state else finals[0])

    def _initial_states(self, hx, batch, x, unbatched):
        return [self._initial_state(hx, batch, x, unbatched, "hx")]

    def extra_repr(self):
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        if self.proj_size:
            parts.append(f"proj_size={self.proj_size}")
        return ", ".join(parts)


class RNN(_RNNBase):
    """Elman RNN layers: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
        batch_first=False, dropout=0.0, bidirectional=False)
    forward(input, hx=None, lengths=None) -> (output, h_n); shapes as in _RNNBase.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, seed=None, generator=None,
                 dtype=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, seed, generator, dtype, device)
        self.nonlinearity = nonlinearity

    def _run_direction(self, x, state, weights, mask, reverse):
        return ops.rnn_sequence(x, state[0], *weights, mask=mask, reverse=reverse,
                                nonlinearity=self.nonlinearity)


class LSTM(_RNNBase):
    """LSTM layers (gates i, f, g, o; see the module docstring).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
         bidirectional=False, proj_size=0)
    forward(input, hx=None, lengths=None) -> (output, (h_n, c_n)); hx = (h0, c0) or None.

    proj_size = P > 0: h_t = W_hr (o_t * tanh(c_t)), weight_hr_l{k}[_reverse] (P, H). Then
    h0, h_n: (num_layers * num_directions, B, P), c0, c_n: (..., B, H), output: (T, B,
    num_directions * P). This configuration runs ``ops.lstm_cell`` step by step (composed
    Tensor ops: slower than the sequence op, and twice differentiable).
    """

    gate_count = 4
    has_cell_state = True

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, seed=None, generator=None,
                 dtype=None, device=None):
        if (isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral)
                or proj_size < 0):
            raise ArgumentError(f"LSTM: proj_size must be an integer >= 0 (0: no projection), "
                                f"got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ArgumentError(f"LSTM: proj_size ({proj_size}) must be smaller than "
                                f"hidden_size ({hidden_size})")
        proj_size = int(proj_size)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, seed, generator, dtype, device, proj_size=proj_size)

    def _initial_states(self, hx, batch, x, unbatched):
        h0, c0 = (None, None) if hx is None else hx
        return [self._initial_state(h0, batch, x, unbatched, "h0", self.state_size),
                self._initial_state(c0, batch, x, unbatched, "c0")]

    def _run_direction(self, x, state, weights, mask, reverse):
        if self.proj_size:
            return self._run_projected(x, state, weights, mask, reverse)
        return ops.lstm_sequence(x, state[0], state[1], *weights, mask=mask, reverse=reverse)

    def _run_projected(self, x, state, weights, mask, reverse):
        """One direction of a projected LSTM: the composed cell step by step (ops.run_cells;
        padding as in the sequence ops: a padded step keeps the state and outputs 0)."""
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1]
        return ops.run_cells(lambda x_t, h, c: ops.lstm_cell(x_t, h, c, w_ih, w_hh, b_ih, b_hh,
                                                             w_hr), x, state, mask, reverse)


class GRU(_RNNBase):
    """GRU layers (gates r, z, n; see the module docstring).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False)
    forward(input, hx=None, lengths=None) -> (output, h_n).
    """

    gate_count = 3

    def _run_direction(self, x, state, weights, mask, reverse):
        return ops.gru_sequence(x, state[0], *weights, mask=mask, reverse=reverse)

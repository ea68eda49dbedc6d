"""RNN, LSTM and GRU: the lecture's equations, the sequence ops against a loop over cells,
gradients against finite differences, and variable lengths.

Three independent references:
- ``numpy_*_step``: the equations written again in NumPy from PyTorch's documentation (gate
  order i, f, g, o and r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).
- the cells (composed of Tensor ops) run in a plain Python loop, against the fused
  sequence ops inside nn.RNN / nn.LSTM / nn.GRU.
- central finite differences (gradcheck) for every op and layer.
"""

import numpy as np
import pytest
from helpers_nn import check_module_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import BackwardError, ShapeError
from tinygrad_course.ops import recurrent as ops

KINDS = {"rnn": (nn.RNN, nn.RNNCell, 1), "lstm": (nn.LSTM, nn.LSTMCell, 4),
         "gru": (nn.GRU, nn.GRUCell, 3)}


# ----- independent NumPy references of one step -----------------------------------------------
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)


def numpy_lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    w_ii, w_if, w_ig, w_io = np.split(w_ih, 4)
    w_hi, w_hf, w_hg, w_ho = np.split(w_hh, 4)
    b = np.split(b_ih + b_hh, 4)
    i = sigmoid(x @ w_ii.T + h @ w_hi.T + b[0])
    f = sigmoid(x @ w_if.T + h @ w_hf.T + b[1])
    g = np.tanh(x @ w_ig.T + h @ w_hg.T + b[2])
    o = sigmoid(x @ w_io.T + h @ w_ho.T + b[3])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def numpy_gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    w_ir, w_iz, w_in = np.split(w_ih, 3)
    w_hr, w_hz, w_hn = np.split(w_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    z = sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    n = np.tanh(x @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
    return (1 - z) * n + z * h


def weights_of(module, suffix=""):
    return [getattr(module, name + suffix).numpy().astype(np.float64)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


# ----- cells: the equations -------------------------------------------------------------------
def test_cells_match_the_equations(rng):
    x = rng.standard_normal((5, 3))
    h = rng.standard_normal((5, 4))
    c = rng.standard_normal((5, 4))
    for nonlinearity in ("tanh", "relu"):
        cell = nn.RNNCell(3, 4, nonlinearity=nonlinearity, seed=1)
        got = cell(tg.tensor(x), tg.tensor(h)).numpy()
        want = numpy_rnn_step(x, h, *weights_of(cell), nonlinearity)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    cell = nn.LSTMCell(3, 4, seed=2)
    h_new, c_new = cell(tg.tensor(x), (tg.tensor(h), tg.tensor(c)))
    want_h, want_c = numpy_lstm_step(x, h, c, *weights_of(cell))
    np.testing.assert_allclose(h_new.numpy(), want_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_new.numpy(), want_c, rtol=1e-5, atol=1e-6)
    cell = nn.GRUCell(3, 4, seed=3)
    got = cell(tg.tensor(x), tg.tensor(h)).numpy()
    np.testing.assert_allclose(got, numpy_gru_step(x, h, *weights_of(cell)), rtol=1e-5,
                               atol=1e-6)


def test_parameters_have_pytorch_names_shapes_and_init():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, seed=0)
    shapes = {name: p.shape for name, p in lstm.named_parameters()}
    assert shapes["weight_ih_l0"] == (20, 3)
    assert shapes["weight_hh_l0"] == (20, 5)
    assert shapes["bias_ih_l0_reverse"] == (20,)
    assert shapes["weight_ih_l1"] == (20, 10)  # layer 1 reads both directions of layer 0
    assert len(shapes) == 16
    bound = 1 / np.sqrt(5)
    values = np.concatenate([p.numpy().ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert set(nn.GRU(3, 5, bias=False).state_dict()) == {"weight_ih_l0", "weight_hh_l0"}
    assert nn.GRUCell(3, 5).weight_ih.shape == (15, 3)


def test_cells_accept_unbatched_input_and_default_zero_state(rng):
    cell = nn.LSTMCell(3, 4, seed=0)
    x = tg.tensor(rng.standard_normal(3))
    h, c = cell(x)
    h_batched, _ = cell(x.reshape(1, 3))
    assert h.shape == (4,) and c.shape == (4,)
    np.testing.assert_allclose(h.numpy(), h_batched.numpy()[0], rtol=1e-6)


# ----- layers against a loop over cells -------------------------------------------------------
def loop_over_cells(kind, layer, x, state=None, reverse=False, suffix="_l0"):
    """One layer and direction run step by step with the composed cell of the same weights."""
    _, cell_class, _ = KINDS[kind]
    cell = cell_class(layer.input_size if suffix.startswith("_l0") else
                      layer.hidden_size * layer.num_directions, layer.hidden_size)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(cell, name, getattr(layer, name + suffix))
    order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outputs = [None] * x.shape[0]
    for t in order:
        state = cell(x[t], state)
        outputs[t] = state[0] if kind == "lstm" else state
    return tg.stack(outputs), state


@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_equals_a_loop_over_the_cell(kind, rng):
    layer_class = KINDS[kind][0]
    layer = layer_class(3, 4, num_layers=2, bidirectional=True, seed=5)
    x = tg.tensor(rng.standard_normal((6, 2, 3)))
    output, final = layer(x)
    h_n = final[0] if kind == "lstm" else final
    inputs, finals = x, []
    for k in range(2):
        forward_out, forward_state = loop_over_cells(kind, layer, inputs, suffix=f"_l{k}")
        backward_out, backward_state = loop_over_cells(kind, layer, inputs, reverse=True,
                                                       suffix=f"_l{k}_reverse")
        inputs = tg.concatenate([forward_out, backward_out], axis=2)
        finals += [forward_state, backward_state]
    np.testing.assert_allclose(output.numpy(), inputs.numpy(), rtol=1e-5, atol=1e-6)
    want_h = np.stack([(s[0] if kind == "lstm" else s).numpy() for s in finals])
    np.testing.assert_allclose(h_n.numpy(), want_h, rtol=1e-5, atol=1e-6)
    if kind == "lstm":
        want_c = np.stack([s[1].numpy() for s in finals])
        np.testing.assert_allclose(final[1].numpy(), want_c, rtol=1e-5, atol=1e-6)


def test_initial_state_batch_first_and_unbatched(rng):
    lstm = nn.LSTM(3, 4, batch_first=True, seed=1)
    x = rng.standard_normal((2, 5, 3))  # (B, T, I)
    h0, c0 = rng.standard_normal((1, 2, 4)), rng.standard_normal((1, 2, 4))
    output, (h_n, c_n) = lstm(tg.tensor(x), (tg.tensor(h0), tg.tensor(c0)))
    assert output.shape == (2, 5, 4) and h_n.shape == (1, 2, 4)
    h, c = h0[0], c0[0]
    for t in range(5):
        h, c = numpy_lstm_step(x[:, t], h, c, *weights_of(lstm, "_l0"))
        np.testing.assert_allclose(output.numpy()[:, t], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_n.numpy()[0], c, rtol=1e-5, atol=1e-6)
    single, (h_single, _) = lstm(tg.tensor(x[0]), (tg.tensor(h0[:, 0]), tg.tensor(c0[:, 0])))
    assert single.shape == (5, 4) and h_single.shape == (1, 4)
    np.testing.assert_allclose(single.numpy(), output.numpy()[0], rtol=1e-5, atol=1e-6)


# ----- gradients ------------------------------------------------------------------------------
def sequence_inputs(kind, rng, steps=3, batch=2, inputs=2, hidden=2, bias=True):
    rows = KINDS[kind][2] * hidden
    arrays = [rng.standard_normal((steps, batch, inputs)), rng.standard_normal((batch, hidden))]
    if kind == "lstm":
        arrays.append(rng.standard_normal((batch, hidden)))
    arrays += [0.7 * rng.standard_normal((rows, inputs)), 0.7 * rng.standard_normal((rows, hidden))]
    if bias:
        arrays += [0.5 * rng.standard_normal(rows), 0.5 * rng.standard_normal(rows)]
    return arrays


SEQUENCE_OPS = {"rnn": ops.RNNSequence, "lstm": ops.LSTMSequence, "gru": ops.GRUSequence}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_sequence_op_gradcheck(kind, reverse, padded, rng):
    arrays = sequence_inputs(kind, rng, bias=not (padded and reverse))
    mask = None
    if padded:  # lengths 3 and 1: steps 1, 2 of the second sequence are padding
        mask = tg.tensor((np.arange(3)[:, None] < np.array([3, 1]))[:, :, None]).data
    assert tg.gradcheck(lambda *t: SEQUENCE_OPS[kind].apply(*t, mask=mask, reverse=reverse),
                        *arrays)


def test_relu_rnn_gradcheck(rng):
    arrays = sequence_inputs("rnn", rng, steps=4)
    assert tg.gradcheck(lambda *t: ops.RNNSequence.apply(*t, nonlinearity="relu"), *arrays)


class Flatten(nn.Module):
    """A recurrent layer's (output, state) as one flat tensor, for check_module_gradients."""

    def __init__(self, layer, lengths=None):
        super().__init__()
        self.layer, self.lengths = layer, lengths

    def forward(self, x):
        output, state = self.layer(x, lengths=self.lengths)
        parts = [output] + (list(state) if isinstance(state, tuple) else [state])
        return tg.concatenate([p.reshape(-1) for p in parts])


@pytest.mark.parametrize("kind, num_layers, bidirectional",
                         [("lstm", 2, True), ("gru", 1, True), ("rnn", 2, False)])
def test_layer_gradcheck_with_lengths(kind, num_layers, bidirectional, rng):
    layer = KINDS[kind][0](2, 2, num_layers=num_layers, bidirectional=bidirectional,
                           batch_first=True, seed=3)
    x = rng.standard_normal((2, 3, 2))
    assert check_module_gradients(Flatten(layer, lengths=[2, 3]), x)


def test_composed_cells_are_twice_differentiable(rng):
    x, h, c = (rng.standard_normal((2, 2)) for _ in range(3))
    w_ih, w_hh, b = rng.standard_normal((8, 2)), rng.standard_normal((8, 2)), rng.standard_normal(8)
    assert tg.gradgradcheck(lambda *t: ops.lstm_cell(*t, b_hh=t[-1])[1], x, h, c, w_ih, w_hh, b)
    assert tg.gradgradcheck(lambda *t: ops.gru_cell(*t), x, h, w_ih[:6], w_hh[:6], b[:6], b[:6])


def test_sequence_op_refuses_double_backward(rng):
    arrays = [tg.tensor(a, requires_grad=True) for a in sequence_inputs("lstm", rng)]
    y = ops.LSTMSequence.apply(*arrays)
    with pytest.raises(BackwardError, match="LSTMSequence.*create_graph"):
        tg.grad((y * y).sum(), [arrays[3]], create_graph=True)


# ----- variable lengths -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(KINDS))
def test_padding_does_not_change_the_final_state(kind, rng):
    layer = KINDS[kind][0](3, 4, bidirectional=True, seed=2)
    lengths = [5, 2, 4]
    x = rng.standard_normal((5, 3, 3))
    x_padded = x.copy()
    for b, n in enumerate(lengths):
        x_padded[n:, b] = 100.0  # garbage in the padding must not leak in
    x_tensor = tg.tensor(x_padded, requires_grad=True)
    output, final = layer(x_tensor, lengths=lengths)
    h_n = final[0] if kind == "lstm" else final
    for b, n in enumerate(lengths):
        alone_out, alone_final = layer(tg.tensor(x[:n, b:b + 1]))
        alone_h = alone_final[0] if kind == "lstm" else alone_final
        np.testing.assert_allclose(output.numpy()[:n, b], alone_out.numpy()[:, 0], rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(h_n.numpy()[:, b], alone_h.numpy()[:, 0], rtol=1e-5,
                                   atol=1e-6)
        assert np.all(output.numpy()[n:, b] == 0)
    (output.sum() + h_n.sum()).backward()
    grad = x_tensor.grad.numpy()
    for b, n in enumerate(lengths):
        assert np.all(grad[n:, b] == 0) and np.abs(grad[:n, b]).sum() > 0


@settings(max_examples=10)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.booleans())
def test_lengths_equal_running_each_sequence_alone(lengths, reverse):
    """Property: for any lengths, the masked op's state = the op on the unpadded sequence."""
    rng = np.random.default_rng(len(lengths))
    steps = max(lengths)
    x, h0, w_ih, w_hh = (rng.standard_normal(s) for s in
                         [(steps, len(lengths), 2), (len(lengths), 3), (9, 2), (9, 3)])
    mask = tg.tensor((np.arange(steps)[:, None] < np.array(lengths))[:, :, None]).data
    packed = ops.GRUSequence.apply(tg.tensor(x), tg.tensor(h0), tg.tensor(w_ih),
                                   tg.tensor(w_hh), mask=mask, reverse=reverse).numpy()
    for b, n in enumerate(lengths):
        alone = ops.GRUSequence.apply(tg.tensor(x[:n, b:b + 1]), tg.tensor(h0[b:b + 1]),
                                      tg.tensor(w_ih), tg.tensor(w_hh), reverse=reverse).numpy()
        np.testing.assert_allclose(packed[-1, b], alone[-1, 0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(packed[:n, b], alone[:n, 0], rtol=1e-5, atol=1e-6)


# ----- dropout, training, errors --------------------------------------------------------------
def test_dropout_between_layers_only_in_training(rng):
    x = tg.tensor(rng.standard_normal((4, 2, 3)))
    gru = nn.GRU(3, 5, num_layers=2, dropout=0.5, seed=0)
    reference = nn.GRU(3, 5, num_layers=2, seed=0)
    gru.eval()
    np.testing.assert_allclose(gru(x)[0].numpy(), reference(x)[0].numpy(), rtol=1e-6)
    gru.train()
    assert not np.allclose(gru(x)[0].numpy(), reference(x)[0].numpy())
    one_layer = nn.GRU(3, 5, dropout=0.5, seed=0)  # dropout after the last layer: never
    np.testing.assert_allclose(one_layer(x)[0].numpy(), nn.GRU(3, 5, seed=0)(x)[0].numpy())


def test_lstm_learns_to_recall_the_first_input_with_clipping():
    """A few steps of Adam with gradient clipping drive the loss of a tiny recall task down."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 16, 1)).astype(np.float32)
    target = tg.tensor(x[0, :, 0])
    lstm, head = nn.LSTM(1, 8, seed=0), nn.Linear(8, 1, seed=0)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = tg.optim.Adam(params, lr=0.03)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        _, (h_n, _) = lstm(tg.tensor(x))
        loss = ((head(h_n[0])[:, 0] - target) ** 2).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_bad_input_is_named():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ShapeError, match=r"LSTM: expected input .*I = 3.*\(5, 2, 7\)"):
        lstm(tg.zeros(5, 2, 7))
    with pytest.raises(ShapeError, match=r"LSTM: expected h0 of shape \(1, 2, 4\)"):
        lstm(tg.zeros(5, 2, 3), (tg.zeros(2, 2, 4), tg.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match=r"lengths: every length must be in \[0, 5\]"):
        lstm(tg.zeros(5, 2, 3), lengths=[6, 1])
    with pytest.raises(ShapeError, match=r"lengths: expected 2 integers"):
        lstm(tg.zeros(5, 2, 3), lengths=[1.5, 2.0])
    with pytest.raises(ShapeError, match=r"GRUCell: expected hx of shape \(2, 4\)"):
        nn.GRUCell(3, 4)(tg.zeros(2, 3), tg.zeros(3, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_benchmark_step_agrees_with_hand_written_numpy(kind):
    """The hand-written NumPy BPTT of benchmarks/bench_rnn.py is an independent check of the
    sequence op: same loss before and after one SGD step (so same gradients)."""
    from benchmarks import bench_rnn, run

    steps = bench_rnn.setup_for(kind)
    losses = {name: [step(), step()] for name, step in steps.items()}
    run.check_losses(losses, run.DEFAULT_RTOL)
    assert losses["numpy"][1] < losses["numpy"][0]


# ----- the buffers a sequence op saves into, pooled between calls ----------------------------
def _gradients(layer, x, retain=False, times=1):
    for p in layer.parameters():
        p.grad = None
    output, _ = layer(x)
    loss = (output * output).sum()
    for _ in range(times):
        loss.backward(retain_graph=retain or times > 1)
    return [p.grad.numpy().copy() for p in layer.parameters()]


@pytest.mark.parametrize("kind", list(KINDS))
def test_pooled_buffers_never_mix_two_live_graphs(kind, rng):
    """Two forwards before either backward must not share a buffer; a released op's buffers
    are reused by the next call and give the same gradients."""
    layer = KINDS[kind][0](3, 4, seed=2)
    x1, x2 = tg.tensor(rng.standard_normal((6, 2, 3))), tg.tensor(rng.standard_normal((6, 2, 3)))
    alone = [_gradients(layer, x1), _gradients(layer, x2)]
    out1, _ = layer(x1)
    out2, _ = layer(x2)  # both graphs alive: their saved values sit in different buffers
    for out, expected in ((out2, alone[1]), (out1, alone[0])):
        for p in layer.parameters():
            p.grad = None
        (out * out).sum().backward()
        for got, want in zip([p.grad.numpy() for p in layer.parameters()], expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_gradients(layer, x1)[0], alone[0][0], rtol=1e-6, atol=1e-7)
    twice = _gradients(layer, x1, times=2)  # retain_graph: the buffers stay with the graph
    np.testing.assert_allclose(twice[0], 2 * alone[0][0], rtol=1e-6, atol=1e-7)


def test_a_finished_backward_hands_its_buffers_to_the_next_call(rng):
    ops.clear_buffer_pool()
    layer = nn.LSTM(3, 4, seed=0)
    x = tg.tensor(rng.standard_normal((5, 2, 3)))
    output, _ = layer(x)
    fn = output._ctx.inputs[0]._ctx  # the LSTMSequence op under the output slice
    taken = {id(array) for _, array in fn.buffers}
    (output * output).sum().backward()
    assert fn.released
    pooled = {id(array) for array in ops._buffer_pool.arrays()}
    assert taken <= pooled
    output, _ = layer(x)
    again = {id(array) for _, array in output._ctx.inputs[0]._ctx.buffers}
    assert again <= pooled  # nothing newly allocated

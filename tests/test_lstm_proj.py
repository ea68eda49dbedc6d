"""nn.LSTM(proj_size=P): PyTorch's LSTM with projections, h_t = W_hr (o_t * tanh(c_t)).

References, independent of the library:
- ``numpy_projected_lstm``: the equations of PyTorch's documentation in float64 NumPy, every
  layer and direction, with padding (a padded step keeps the state and outputs 0);
- ``numpy_projected_lstm_backward``: backpropagation through time written out by hand for one
  layer and direction, for the gradients;
- central finite differences (gradcheck) of the layer itself.
"""

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import ShapeError


def f64(array, requires_grad=False):
    return tg.tensor(array, dtype=np.float64, requires_grad=requires_grad)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_step(x, h, c, w_ih, w_hh, b, w_hr):
    """One projected LSTM step; returns (h_t, c_t) and what the backward needs."""
    z = x @ w_ih.T + h @ w_hh.T + b
    i, f, g, o = np.split(z, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_new = f * c + i * g
    m = o * np.tanh(c_new)
    return m @ w_hr.T, c_new, (i, f, g, o, m)


def numpy_projected_lstm(lstm, x, h0, c0, lengths=None):
    """(output (T, B, D*P), h_n (L*D, B, P), c_n (L*D, B, H)) from the layer's weights."""
    params = {name: p.numpy().astype(np.float64) for name, p in lstm.named_parameters()}
    steps, batch = x.shape[:2]
    lengths = np.full(batch, steps) if lengths is None else np.asarray(lengths)
    directions = 2 if lstm.bidirectional else 1
    h_n, c_n = [], []
    layer_input = x
    for layer in range(lstm.num_layers):
        outputs = []
        for direction in range(directions):
            k = layer * directions + direction
            sfx = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh, w_hr = (params[n + sfx] for n in ("weight_ih", "weight_hh", "weight_hr"))
            b = params["bias_ih" + sfx] + params["bias_hh" + sfx] if lstm.bias else 0.0
            h, c = h0[k], c0[k]
            out = np.zeros((steps, batch, w_hr.shape[0]))
            for t in (range(steps - 1, -1, -1) if direction else range(steps)):
                h_new, c_new, _ = numpy_step(layer_input[t], h, c, w_ih, w_hh, b, w_hr)
                real = (t < lengths)[:, None]
                out[t] = np.where(real, h_new, 0.0)
                h, c = np.where(real, h_new, h), np.where(real, c_new, c)
            outputs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outputs, axis=2)
    return layer_input, np.stack(h_n), np.stack(c_n)


def numpy_projected_lstm_backward(x, h0, c0, w_ih, w_hh, b, w_hr, g_out, g_h, g_c):
    """Gradients of sum(out * g_out) + sum(h_n * g_h) + sum(c_n * g_c), one forward layer:

        dh_t = dh + g_out[t];  dW_hr += dh_t^T m_t;  dm = dh_t W_hr
        dc += dm o (1 - tanh(c_t)^2);  dz = [dc g i(1-i), dc c_{t-1} f(1-f), dc i (1-g^2),
                                             dm tanh(c_t) o(1-o)]
        dh = dz W_hh;  dc = dc f;  dW_ih += dz^T x_t;  dW_hh += dz^T h_{t-1};  db += sum dz
    """
    steps = x.shape[0]
    hs, cs, saved = [h0], [c0], []
    for t in range(steps):
        h, c, cache = numpy_step(x[t], hs[-1], cs[-1], w_ih, w_hh, b, w_hr)
        hs.append(h)
        cs.append(c)
        saved.append(cache)
    grads = {"x": np.zeros_like(x), "w_ih": np.zeros_like(w_ih), "w_hh": np.zeros_like(w_hh),
             "b": np.zeros(w_ih.shape[0]), "w_hr": np.zeros_like(w_hr)}
    dh, dc = g_h.copy(), g_c.copy()
    for t in reversed(range(steps)):
        i, f, g, o, m = saved[t]
        dh_t = dh + g_out[t]
        grads["w_hr"] += dh_t.T @ m
        dm = dh_t @ w_hr
        tanh_c = np.tanh(cs[t + 1])
        dc = dc + dm * o * (1 - tanh_c ** 2)
        dz = np.concatenate([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f),
                             dc * i * (1 - g ** 2), dm * tanh_c * o * (1 - o)], axis=1)
        grads["w_ih"] += dz.T @ x[t]
        grads["w_hh"] += dz.T @ hs[t]
        grads["b"] += dz.sum(axis=0)
        grads["x"][t] = dz @ w_ih
        dh, dc = dz @ w_hh, dc * f
    grads["h0"], grads["c0"] = dh, dc
    return grads


def test_parameter_names_and_shapes_are_pytorchs():
    lstm = nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2, seed=0)
    shapes = {name: tuple(p.shape) for name, p in lstm.state_dict().items()}
    expected = {}
    for layer, width in ((0, 3), (1, 4)):  # layer 1 reads 2 directions x proj_size 2
        for sfx in (f"_l{layer}", f"_l{layer}_reverse"):
            expected.update({"weight_ih" + sfx: (24, width), "weight_hh" + sfx: (24, 2),
                             "bias_ih" + sfx: (24,), "bias_hh" + sfx: (24,),
                             "weight_hr" + sfx: (2, 6)})
    assert list(shapes) == list(expected)  # PyTorch's order too: w_ih, w_hh, b_ih, b_hh, w_hr
    assert shapes == expected
    assert [len(w) for w in lstm.all_weights] == [5] * 4
    assert "proj_size=2" in repr(lstm)
    bound = 1 / np.sqrt(6)
    assert np.abs(lstm.weight_hr_l0.numpy()).max() <= bound


@pytest.mark.parametrize("bidirectional,num_layers,bias", [(False, 1, True), (True, 2, True),
                                                            (False, 3, False)])
def test_forward_matches_the_numpy_equations(bidirectional, num_layers, bias):
    rng = np.random.default_rng(1)
    lstm = nn.LSTM(4, 5, num_layers=num_layers, bias=bias, bidirectional=bidirectional,
                   proj_size=3, seed=2).double()
    directions = 2 if bidirectional else 1
    x = rng.normal(size=(6, 2, 4))
    h0 = rng.normal(size=(num_layers * directions, 2, 3))
    c0 = rng.normal(size=(num_layers * directions, 2, 5))
    out, (h_n, c_n) = lstm(f64(x), (f64(h0), f64(c0)))
    ref_out, ref_h, ref_c = numpy_projected_lstm(lstm, x, h0, c0)
    assert out.shape == (6, 2, directions * 3)
    assert h_n.shape == (num_layers * directions, 2, 3)
    assert c_n.shape == (num_layers * directions, 2, 5)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), ref_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), ref_c, rtol=1e-12, atol=1e-12)


def test_padding_keeps_the_state_and_outputs_zero():
    rng = np.random.default_rng(3)
    lstm = nn.LSTM(2, 4, bidirectional=True, proj_size=2, batch_first=True, seed=4).double()
    x = rng.normal(size=(3, 5, 2))  # batch_first: (B, T, I)
    lengths = [5, 2, 1]
    out, (h_n, c_n) = lstm(f64(x), lengths=lengths)
    zeros = [np.zeros((2, 3, 2)), np.zeros((2, 3, 4))]
    ref_out, ref_h, ref_c = numpy_projected_lstm(lstm, x.transpose(1, 0, 2), *zeros, lengths)
    np.testing.assert_allclose(out.numpy(), ref_out.transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), ref_h, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), ref_c, atol=1e-12)
    assert np.all(out.numpy()[1, 2:] == 0) and np.all(out.numpy()[2, 1:] == 0)
    # example 1 alone, cut to its real length, ends in the same state
    _, (h_alone, _) = lstm(f64(x[1:2, :2]))
    np.testing.assert_allclose(h_n.numpy()[:, 1], h_alone.numpy()[:, 0], atol=1e-12)


def test_gradients_match_hand_written_backpropagation_through_time():
    rng = np.random.default_rng(5)
    lstm = nn.LSTM(3, 4, proj_size=2, seed=6).double()
    x, h0, c0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(1, 2, 2)), rng.normal(size=(1, 2, 4))
    g_out, g_h, g_c = (rng.normal(size=s) for s in ((5, 2, 2), (2, 2), (2, 4)))
    xt, h0t, c0t = (f64(a, requires_grad=True) for a in (x, h0, c0))
    out, (h_n, c_n) = lstm(xt, (h0t, c0t))
    loss = (out * f64(g_out)).sum() + (h_n[0] * f64(g_h)).sum() + (c_n[0] * f64(g_c)).sum()
    loss.backward()
    w = {n: getattr(lstm, n + "_l0").numpy() for n in ("weight_ih", "weight_hh", "weight_hr",
                                                       "bias_ih", "bias_hh")}
    ref = numpy_projected_lstm_backward(x, h0[0], c0[0], w["weight_ih"], w["weight_hh"],
                                        w["bias_ih"] + w["bias_hh"], w["weight_hr"], g_out,
                                        g_h, g_c)
    close = {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(lstm.weight_hr_l0.grad.numpy(), ref["w_hr"], **close)
    np.testing.assert_allclose(lstm.weight_ih_l0.grad.numpy(), ref["w_ih"], **close)
    np.testing.assert_allclose(lstm.weight_hh_l0.grad.numpy(), ref["w_hh"], **close)
    np.testing.assert_allclose(lstm.bias_ih_l0.grad.numpy(), ref["b"], **close)
    np.testing.assert_allclose(lstm.bias_hh_l0.grad.numpy(), ref["b"], **close)
    np.testing.assert_allclose(xt.grad.numpy(), ref["x"], **close)
    np.testing.assert_allclose(h0t.grad.numpy()[0], ref["h0"], **close)
    np.testing.assert_allclose(c0t.grad.numpy()[0], ref["c0"], **close)


class _EveryOutput(nn.Module):
    """The LSTM's output, h_n and c_n as one flat tensor (gradcheck wants one output)."""

    def __init__(self, lstm, lengths):
        super().__init__()
        self.lstm, self.lengths = lstm, lengths

    def forward(self, x):
        out, (h_n, c_n) = self.lstm(x, lengths=self.lengths)
        return tg.concatenate([out.reshape(-1), h_n.reshape(-1), c_n.reshape(-1)])


def test_gradcheck_of_a_tiny_bidirectional_two_layer_instance():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1, seed=7)
    x = np.random.default_rng(8).normal(size=(3, 2, 2))
    assert check_module_gradients(_EveryOutput(lstm, [3, 2]), x)


def test_second_derivatives_are_right_on_the_composed_path():
    lstm = nn.LSTM(2, 3, proj_size=2, seed=9).double()
    x = np.random.default_rng(10).normal(size=(3, 1, 2))
    assert tg.gradgradcheck(lambda x, w_hr: _with_weight(lstm, "weight_hr_l0", w_hr, x),
                            x, lstm.weight_hr_l0.numpy())


def _with_weight(lstm, name, weight, x):
    original = getattr(lstm, name)
    object.__setattr__(lstm, name, weight)
    try:
        return lstm(x)[0]
    finally:
        object.__setattr__(lstm, name, original)


def test_unbatched_input_and_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, proj_size=2, seed=11)
    out, (h_n, c_n) = lstm(tg.randn(4, 3, seed=12))
    assert out.shape == (4, 2) and h_n.shape == (2, 2) and c_n.shape == (2, 5)
    assert out.dtype == np.float32


def test_bad_settings_and_states_raise_named_errors():
    with pytest.raises(ValueError, match="proj_size .* smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size must be an integer >= 0"):
        nn.LSTM(3, 4, proj_size=-1)
    lstm = nn.LSTM(3, 4, proj_size=2, seed=0)
    x = tg.zeros(5, 2, 3)
    with pytest.raises(ShapeError, match=r"h0 of shape \(1, 2, 2\).*proj_size"):
        lstm(x, (tg.zeros(1, 2, 4), tg.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match=r"c0 of shape \(1, 2, 4\).*hidden_size"):
        lstm(x, (tg.zeros(1, 2, 2), tg.zeros(1, 2, 2)))

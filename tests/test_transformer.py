"""Positional encodings and transformer blocks.

* The sinusoidal table against its formula, and its defining property: PE[p + k] is a fixed
  rotation of PE[p] (one 2x2 rotation per frequency) for every p.
* Encoder and decoder layers, post-LN and pre-LN, against a hand-written NumPy forward built
  on the loop-over-heads attention reference; gradcheck of every weight; causality of the
  decoder's masked self-attention; PyTorch where it is installed.
"""

import math

import numpy as np
import pytest
from test_attention import mha_reference

import tinygrad_course as tg
from tinygrad_course.errors import ShapeError
from tinygrad_course.nn.positional import sinusoidal_table


def _t(array, requires_grad=False):
    return tg.tensor(array, dtype=np.float64, requires_grad=requires_grad)


# ----- positional encodings ----------------------------------------------------------------
def test_sinusoidal_table_matches_the_formula():
    table = sinusoidal_table(7, 6)
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert table[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)
    assert sinusoidal_table(4, 5).shape == (4, 5)  # odd width: the last cosine is dropped


def test_sinusoidal_offset_is_a_rotation_independent_of_position():
    d, k = 8, 3
    table = sinusoidal_table(40, d).astype(np.float64)
    for i in range(d // 2):
        w = 1.0 / 10000 ** (2 * i / d)
        rotation = np.array([[math.cos(k * w), math.sin(k * w)],
                             [-math.sin(k * w), math.cos(k * w)]])
        pairs = table[:, 2 * i:2 * i + 2]  # (sin, cos) at each position
        np.testing.assert_allclose(pairs[:-k] @ rotation.T, pairs[k:], atol=1e-5)


@pytest.mark.parametrize("batch_first", [False, True])
def test_positional_modules_add_the_first_rows(batch_first):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 6)).astype(np.float32)  # (N, L, E) or (L, N, E)
    length = 5 if batch_first else 3
    sinus = tg.nn.SinusoidalPositionalEncoding(6, max_len=10, batch_first=batch_first)
    learned = tg.nn.LearnedPositionalEmbedding(10, 6, batch_first=batch_first, seed=0)
    for module, table in ((sinus, sinusoidal_table(10, 6)), (learned, learned.weight.numpy())):
        rows = table[:length][None] if batch_first else table[:length][:, None]
        np.testing.assert_allclose(module(tg.tensor(x)).numpy(), x + rows, rtol=1e-6)
    assert [n for n, _ in sinus.named_parameters()] == [] and "pe" in sinus.state_dict()
    X = tg.tensor(x)
    learned(X).sum().backward()
    grad = learned.weight.grad.numpy()
    assert np.all(grad[length:] == 0) and np.all(grad[:length] == x.shape[1 - batch_first])
    with pytest.raises(ShapeError, match="max_len"):
        sinus(tg.zeros(11, 11, 6))


# ----- transformer layers against NumPy ------------------------------------------------------
def layer_norm(x, norm, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * norm.weight.numpy() + norm.bias.numpy()


def feed_forward(layer, x):
    h = np.maximum(x @ layer.linear1.weight.numpy().T + layer.linear1.bias.numpy(), 0.0)
    return h @ layer.linear2.weight.numpy().T + layer.linear2.bias.numpy()


def encoder_reference(layer, x, blocked=None):
    def sa(h):
        return mha_reference(layer.self_attn, h, h, h, blocked)[0]

    if layer.norm_first:
        x = x + sa(layer_norm(x, layer.norm1))
        return x + feed_forward(layer, layer_norm(x, layer.norm2))
    x = layer_norm(x + sa(x), layer.norm1)
    return layer_norm(x + feed_forward(layer, x), layer.norm2)


def decoder_reference(layer, x, memory, blocked):
    def sa(h):
        return mha_reference(layer.self_attn, h, h, h, blocked)[0]

    def ca(h):
        return mha_reference(layer.multihead_attn, h, memory, memory)[0]

    if layer.norm_first:
        x = x + sa(layer_norm(x, layer.norm1))
        x = x + ca(layer_norm(x, layer.norm2))
        return x + feed_forward(layer, layer_norm(x, layer.norm3))
    x = layer_norm(x + sa(x), layer.norm1)
    x = layer_norm(x + ca(x), layer.norm2)
    return layer_norm(x + feed_forward(layer, x), layer.norm3)


def _randomise(module, rng):
    """Random values for every parameter (zero biases and unit norms would hide bugs)."""
    for p in module.parameters():
        p.data = p.xp.asarray(rng.standard_normal(p.shape) * 0.5)
    return module


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_numpy(norm_first, batch_first):
    rng = np.random.default_rng(1)
    layer = tg.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, batch_first=batch_first,
                                          norm_first=norm_first, seed=0).double()
    _randomise(layer, rng).eval()
    x = rng.standard_normal((3, 5, 8))  # (N, L, E)
    padding = np.zeros((3, 5), dtype=bool)
    padding[0, 3:] = True
    blocked = np.broadcast_to(padding[:, None, :], (3, 5, 5))
    x_in = x if batch_first else np.swapaxes(x, 0, 1)
    out = layer(_t(x_in), src_key_padding_mask=tg.tensor(padding)).numpy()
    out = out if batch_first else np.swapaxes(out, 0, 1)
    np.testing.assert_allclose(out, encoder_reference(layer, x, blocked), atol=1e-10)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_numpy(norm_first):
    rng = np.random.default_rng(2)
    layer = tg.nn.TransformerDecoderLayer(8, 2, 12, batch_first=True, norm_first=norm_first,
                                          seed=1).double()
    _randomise(layer, rng).eval()
    tgt, memory = rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 6, 8))
    mask = tg.nn.generate_square_subsequent_mask(4, dtype=np.float64)
    out = layer(_t(tgt), _t(memory), tgt_mask=mask).numpy()
    blocked = ~np.tri(4, dtype=bool)[None]
    np.testing.assert_allclose(out, decoder_reference(layer, tgt, memory, blocked), atol=1e-10)
    causal = layer(_t(tgt), _t(memory), tgt_is_causal=True).numpy()
    np.testing.assert_allclose(causal, out, atol=1e-12)


def _gradcheck_layer(layer, fn, *inputs):
    names = [name for name, _ in layer.named_parameters()]
    modules = dict(layer.named_modules())

    def with_params(*args):
        data, params = args[:len(inputs)], args[len(inputs):]
        for name, p in zip(names, params):
            path, _, attr = name.rpartition(".")
            object.__setattr__(modules[path], attr, p)
        return fn(*data)

    params = [tg.nn.Parameter(p.detach()) for p in layer.parameters()]
    return tg.gradcheck(with_params, *inputs, *params)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_gradcheck(norm_first):
    rng = np.random.default_rng(3)
    layer = tg.nn.TransformerEncoderLayer(2, 2, 3, dropout=0.0, activation="gelu",
                                          batch_first=True, norm_first=norm_first,
                                          seed=2).double()
    _randomise(layer, rng)
    x = _t(rng.standard_normal((2, 3, 2)), True)
    assert _gradcheck_layer(layer, lambda x: layer(x, is_causal=True), x)


def test_decoder_layer_gradcheck():
    rng = np.random.default_rng(4)
    layer = tg.nn.TransformerDecoderLayer(2, 2, 3, dropout=0.0, batch_first=True,
                                          norm_first=True, seed=3).double()
    _randomise(layer, rng)
    tgt, memory = _t(rng.standard_normal((2, 3, 2)), True), _t(rng.standard_normal((2, 2, 2)),
                                                               True)
    padding = tg.tensor(np.array([[False, True], [False, False]]))
    assert _gradcheck_layer(
        layer, lambda t, m: layer(t, m, tgt_is_causal=True, memory_key_padding_mask=padding),
        tgt, memory)


def test_decoder_stack_is_causal():
    rng = np.random.default_rng(5)
    decoder = tg.nn.TransformerDecoder(
        tg.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, seed=4), 2)
    tgt = tg.tensor(rng.standard_normal((1, 5, 8)).astype(np.float32), requires_grad=True)
    memory = tg.tensor(rng.standard_normal((1, 3, 8)).astype(np.float32))
    out = decoder(tgt, memory, tgt_is_causal=True)
    out[:, 2].sum().backward()
    grad = np.abs(tgt.grad.numpy()[0]).sum(axis=-1)
    assert np.all(grad[3:] == 0) and np.all(grad[:3] > 0)


def test_encoder_stack_copies_weights_but_not_dropout_streams():
    layer = tg.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True, seed=5)
    stack = tg.nn.TransformerEncoder(layer, 3, norm=tg.nn.LayerNorm(8))
    first, second = stack.layers[0], stack.layers[1]
    np.testing.assert_array_equal(first.linear1.weight.numpy(), second.linear1.weight.numpy())
    assert first.linear1.weight is not second.linear1.weight
    assert len(list(stack.parameters())) == 3 * len(list(layer.parameters())) + 2
    x = tg.ones(1, 4, 8)
    drop_a, drop_b = first.dropout(x).numpy(), second.dropout(x).numpy()
    assert not np.array_equal(drop_a, drop_b)
    assert stack(tg.ones(2, 4, 8)).shape == (2, 4, 8)


def test_transformer_errors():
    with pytest.raises(ValueError, match="activation"):
        tg.nn.TransformerEncoderLayer(8, 2, activation="swish")
    layer = tg.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    with pytest.raises(ShapeError, match="MultiheadAttention"):
        layer(tg.zeros(2, 3, 7))


def test_layers_match_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for norm_first in (False, True):
        ours = tg.nn.TransformerDecoderLayer(8, 2, 16, norm_first=norm_first, seed=6).double()
        ref = torch.nn.TransformerDecoderLayer(8, 2, 16, norm_first=norm_first).double()
        _randomise(ours, rng).eval()
        ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
        ref.eval()
        tgt, memory = rng.standard_normal((4, 2, 8)), rng.standard_normal((3, 2, 8))
        mask = np.triu(np.ones((4, 4), dtype=bool), 1)
        out = ours(_t(tgt), _t(memory), tgt_mask=tg.tensor(mask)).numpy()
        expected = ref(torch.tensor(tgt), torch.tensor(memory), tgt_mask=torch.tensor(mask))
        np.testing.assert_allclose(out, expected.detach().numpy(), atol=1e-10)


# ----- ops.linear: the fused x W^T + b the layers use ------------------------------------------
@pytest.mark.parametrize("with_bias", [True, False])
def test_fused_linear_matches_numpy_and_gradchecks(with_bias):
    from tinygrad_course.ops.linear import linear

    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    args = (_t(x, True), _t(w, True)) + ((_t(b, True),) if with_bias else ())
    out = linear(*args).numpy()
    np.testing.assert_allclose(out, x @ w.T + (b if with_bias else 0.0), atol=1e-12)
    assert tg.gradcheck(linear, *args)
    assert tg.gradgradcheck(linear, *args)
    with pytest.raises(ShapeError, match="linear"):
        linear(_t(x), _t(w.T))


def test_encoder_block_benchmark_agrees_with_its_hand_written_numpy_twin():
    """benchmarks/bench_transformer.py times our pre-LN block against a NumPy forward and
    backward written by hand; the two must be the same computation: equal losses on the first
    call (forward) and the second (after one SGD step, so the backward agrees too)."""
    from benchmarks import bench_transformer as bench

    weights, (x, y) = bench.initial_weights(), bench.batch()
    ours = bench.make_tinygrad(weights, x, y)
    by_hand = bench.make_numpy(weights, x, y)
    first, second = [ours(), ours()], [by_hand(), by_hand()]
    np.testing.assert_allclose(first, second, rtol=1e-5)
    assert second[1] < second[0]

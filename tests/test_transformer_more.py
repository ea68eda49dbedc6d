"""nn.Transformer: the encoder-decoder wrapper with PyTorch's arguments.

* The whole model against a NumPy forward built from the layer references of
  test_transformer.py (encoder stack + norm, decoder stack + norm), post-LN and pre-LN.
* Causal masking: a later target token cannot change earlier outputs (and without the mask
  it does, so the check can fail).
* gradcheck of a tiny float64 instance; a few Adam steps learn a copy task.
* PyTorch's parameter names, Xavier re-initialisation, named errors; PyTorch itself where it
  is installed.
"""

import math

import numpy as np
import pytest
from test_transformer import _randomise, decoder_reference, encoder_reference, layer_norm

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import ShapeError


def _t(array, requires_grad=False):
    return tg.tensor(array, dtype=np.float64, requires_grad=requires_grad)


def transformer_reference(model, src, tgt, tgt_blocked=None):
    """Batch-first NumPy forward of the whole model."""
    memory = src
    for layer in model.encoder.layers:
        memory = encoder_reference(layer, memory)
    memory = layer_norm(memory, model.encoder.norm)
    out = tgt
    for layer in model.decoder.layers:
        out = decoder_reference(layer, out, memory, tgt_blocked)
    return layer_norm(out, model.decoder.norm)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_matches_the_numpy_encoder_decoder(norm_first, batch_first):
    rng = np.random.default_rng(1)
    model = nn.Transformer(8, 2, num_encoder_layers=2, num_decoder_layers=2,
                           dim_feedforward=12, batch_first=batch_first, norm_first=norm_first,
                           seed=0).double()
    _randomise(model, rng).eval()
    src, tgt = rng.standard_normal((3, 5, 8)), rng.standard_normal((3, 4, 8))  # (N, L, E)
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)

    def layout(a):
        return a if batch_first else np.swapaxes(a, 0, 1)

    out = layout(model(_t(layout(src)), _t(layout(tgt)), tgt_mask=mask).numpy())
    expected = transformer_reference(model, src, tgt, ~np.tri(4, dtype=bool)[None])
    np.testing.assert_allclose(out, expected, atol=1e-10)
    causal = layout(model(_t(layout(src)), _t(layout(tgt)), tgt_is_causal=True).numpy())
    np.testing.assert_allclose(causal, out, atol=1e-12)


def test_shapes_and_unbatched_input():
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, seed=1)
    assert model(tg.randn(5, 3, 8, seed=2), tg.randn(4, 3, 8, seed=3)).shape == (4, 3, 8)
    single = model(tg.randn(5, 8, seed=2), tg.randn(4, 8, seed=3))
    assert single.shape == (4, 8) and single.dtype == np.float32
    batched = model(tg.randn(5, 8, seed=2).unsqueeze(1), tg.randn(4, 8, seed=3).unsqueeze(1))
    np.testing.assert_allclose(single.numpy(), batched.numpy()[:, 0], rtol=1e-5, atol=1e-6)
    first = nn.Transformer(8, 2, 1, 1, 16, batch_first=True, seed=1)
    assert first(tg.randn(3, 5, 8, seed=2), tg.randn(3, 4, 8, seed=3)).shape == (3, 4, 8)


def test_a_later_target_token_does_not_change_earlier_outputs():
    rng = np.random.default_rng(4)
    model = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True, seed=5).double()
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 6, 8))
    changed = tgt.copy()
    changed[:, 3:] = rng.standard_normal((2, 3, 8))
    mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=np.float64)
    before = model(_t(src), _t(tgt), tgt_mask=mask).numpy()
    after = model(_t(src), _t(changed), tgt_mask=mask).numpy()
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-12)
    assert not np.allclose(after[:, 3:], before[:, 3:])
    unmasked = model(_t(src), _t(tgt)).numpy()
    unmasked_after = model(_t(src), _t(changed)).numpy()
    assert not np.allclose(unmasked[:, :3], unmasked_after[:, :3])  # the check can fail


def test_memory_padding_hides_padded_source_tokens():
    rng = np.random.default_rng(6)
    model = nn.Transformer(4, 2, 1, 1, 8, dropout=0.0, batch_first=True, seed=7).double()
    src, tgt = rng.standard_normal((1, 4, 4)), rng.standard_normal((1, 3, 4))
    padding = tg.tensor(np.array([[False, False, True, True]]))
    kwargs = {"src_key_padding_mask": padding, "memory_key_padding_mask": padding}
    out = model(_t(src), _t(tgt), **kwargs).numpy()
    src[:, 2:] = rng.standard_normal((1, 2, 4))
    np.testing.assert_allclose(model(_t(src), _t(tgt), **kwargs).numpy(), out, atol=1e-12)


def test_gradcheck_of_a_tiny_instance():
    rng = np.random.default_rng(8)
    model = nn.Transformer(2, 2, 1, 1, 3, dropout=0.0, batch_first=True, norm_first=True,
                           seed=9).double()
    _randomise(model, rng)
    names = [name for name, _ in model.named_parameters()]
    modules = dict(model.named_modules())
    padding = tg.tensor(np.array([[False, True, False], [False, False, False]]))

    def fn(src, tgt, *params):
        for name, p in zip(names, params):
            path, _, attr = name.rpartition(".")
            object.__setattr__(modules[path], attr, p)
        return model(src, tgt, tgt_is_causal=True, memory_key_padding_mask=padding)

    params = [nn.Parameter(p.detach()) for p in model.parameters()]
    src, tgt = _t(rng.standard_normal((2, 3, 2)), True), _t(rng.standard_normal((2, 2, 2)), True)
    assert tg.gradcheck(fn, src, tgt, *params)


def test_a_few_adam_steps_learn_to_copy():
    """Copy task: the decoder, fed <bos> + the source shifted right, predicts the source
    (positions from a sinusoidal encoding; without them the memory is a bag of tokens).
    Chance is log(V) = 1.79 nats a token; a model that copies drives it towards 0. 150
    steps of a tiny model: about 3 s on one CPU core."""
    rng = np.random.default_rng(10)
    V, E, T, N = 6, 16, 5, 32
    embed = nn.Embedding(V + 1, E, seed=11)  # token V is <bos>
    positions = nn.SinusoidalPositionalEncoding(E, max_len=T, batch_first=True)
    model = nn.Transformer(E, 2, 1, 1, 32, dropout=0.0, batch_first=True, seed=12)
    head = nn.Linear(E, V, seed=13)
    params = list(embed.parameters()) + list(model.parameters()) + list(head.parameters())
    optimizer = tg.optim.Adam(params, lr=3e-3)
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    losses = []
    for _ in range(150):
        src = rng.integers(0, V, size=(N, T))
        shifted = np.concatenate([np.full((N, 1), V), src[:, :-1]], axis=1)
        out = model(positions(embed(tg.tensor(src))), positions(embed(tg.tensor(shifted))),
                    tgt_mask=mask)
        loss = tg.functional.cross_entropy(head(out).reshape(N * T, V),
                                           tg.tensor(src.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    assert losses[0] > 0.8 * math.log(V)
    assert np.mean(losses[-5:]) < 0.1  # measured 0.02 after 150 steps; chance is 1.79
    src = rng.integers(0, V, size=(N, T))  # a fresh batch, read greedily with teacher forcing
    shifted = np.concatenate([np.full((N, 1), V), src[:, :-1]], axis=1)
    with tg.no_grad():
        out = model(positions(embed(tg.tensor(src))), positions(embed(tg.tensor(shifted))),
                    tgt_mask=mask)
    assert (head(out).numpy().argmax(axis=-1) == src).mean() > 0.95


def test_parameter_names_are_pytorchs_and_weights_are_redrawn():
    model = nn.Transformer(8, 2, 1, 1, 16, seed=14)
    names = list(model.state_dict())
    for expected in ("encoder.layers.0.self_attn.in_proj_weight",
                     "encoder.layers.0.self_attn.out_proj.weight", "encoder.layers.0.linear1.bias",
                     "encoder.layers.0.norm2.weight", "encoder.norm.weight", "encoder.norm.bias",
                     "decoder.layers.0.multihead_attn.in_proj_bias",
                     "decoder.layers.0.norm3.bias", "decoder.norm.weight"):
        assert expected in names
    assert len(names) == 12 + 2 + 18 + 2  # encoder layer, its norm, decoder layer, its norm
    for name, p in model.named_parameters():
        if p.ndim > 1:  # Xavier-uniform bound sqrt(6 / (fan_in + fan_out))
            bound = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
            assert np.abs(p.numpy()).max() <= bound, name
    no_bias = nn.Transformer(8, 2, 1, 1, 16, bias=False, seed=14)
    assert not any(name.endswith("bias") for name in no_bias.state_dict())


def test_custom_encoder_and_decoder_are_used():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 1, 8, seed=0), 3)
    model = nn.Transformer(4, 1, custom_encoder=encoder, num_decoder_layers=1,
                           dim_feedforward=8, seed=15)
    assert model.encoder is encoder and len(model.encoder.layers) == 3
    assert model(tg.zeros(3, 1, 4), tg.zeros(2, 1, 4)).shape == (2, 1, 4)


def test_bad_input_raises_named_errors():
    model = nn.Transformer(8, 2, 1, 1, 16, seed=16)
    with pytest.raises(ShapeError, match="Transformer: .*same batch size"):
        model(tg.zeros(5, 2, 8), tg.zeros(4, 3, 8))
    with pytest.raises(ShapeError, match="Transformer: .*d_model = 8"):
        model(tg.zeros(5, 2, 8), tg.zeros(4, 2, 6))
    with pytest.raises(ShapeError, match="Transformer: .*both be batched"):
        model(tg.zeros(5, 2, 8), tg.zeros(4, 8))
    with pytest.raises(tg.errors.DTypeError, match="Transformer"):
        model(None, tg.zeros(4, 2, 8))


def test_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(17)
    ours = nn.Transformer(8, 2, 2, 2, 16, norm_first=True, seed=18).double()
    _randomise(ours, rng).eval()
    ref = torch.nn.Transformer(8, 2, 2, 2, 16, norm_first=True).double().eval()
    ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    mask = ref.generate_square_subsequent_mask(4, dtype=torch.float64)
    expected = ref(torch.tensor(src), torch.tensor(tgt), tgt_mask=mask).detach().numpy()
    out = ours(_t(src), _t(tgt), tgt_mask=_t(mask.numpy())).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-10)

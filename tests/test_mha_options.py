"""nn.MultiheadAttention(add_bias_kv=, add_zero_attn=, kdim=, vdim=) with PyTorch's semantics.

* Against a NumPy reference written from PyTorch's description: bias_k, bias_v appended to
  the projected keys and values, then a zero key and value appended to every head, the masks
  padded with "allowed" for the appended keys; per-head and averaged weights.
* A row whose real keys are all masked attends to the appended keys only.
* gradcheck of the layer (every parameter, bias_k and bias_v included, and the inputs).
* state_dict names and order as PyTorch's; PyTorch itself where it is installed.
"""

import math

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course import nn


def _t(array, requires_grad=False):
    return tg.tensor(array, dtype=np.float64, requires_grad=requires_grad)


def softmax_rows(scores):
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def reference(mha, query, key, value, blocked, additive=None):
    """Batch-first NumPy loop over heads. blocked (N, L, S) bool True = not allowed; additive
    (N, H, L, S) float or None. Returns (output (N, L, E), weights (N, H, L, S + extra))."""
    E, H = mha.embed_dim, mha.num_heads
    d = E // H
    if mha.packed:
        w_q, w_k, w_v = np.split(mha.in_proj_weight.numpy(), 3)
    else:
        w_q, w_k, w_v = (p.numpy() for p in (mha.q_proj_weight, mha.k_proj_weight,
                                             mha.v_proj_weight))
    b_q, b_k, b_v = np.split(mha.in_proj_bias.numpy(), 3)
    Q, K, V = query @ w_q.T + b_q, key @ w_k.T + b_k, value @ w_v.T + b_v
    N = query.shape[0]
    if mha.bias_k is not None:  # one more key and value per sequence, never masked
        K = np.concatenate([K, np.broadcast_to(mha.bias_k.numpy(), (N, 1, E))], axis=1)
        V = np.concatenate([V, np.broadcast_to(mha.bias_v.numpy(), (N, 1, E))], axis=1)
    blocked = np.pad(blocked, ((0, 0), (0, 0), (0, K.shape[1] - blocked.shape[2])))
    if additive is not None:
        additive = np.pad(additive, ((0, 0), (0, 0), (0, 0),
                                     (0, K.shape[1] - additive.shape[3])))
    heads, weights = [], []
    for h in range(H):
        part = slice(h * d, (h + 1) * d)
        k_h, v_h, blocked_h, add_h = K[..., part], V[..., part], blocked, None
        if additive is not None:
            add_h = additive[:, h]
        if mha.add_zero_attn:  # after the split into heads: a zero key and value per head
            k_h = np.concatenate([k_h, np.zeros((N, 1, d))], axis=1)
            v_h = np.concatenate([v_h, np.zeros((N, 1, d))], axis=1)
            blocked_h = np.pad(blocked_h, ((0, 0), (0, 0), (0, 1)))
            if add_h is not None:
                add_h = np.pad(add_h, ((0, 0), (0, 0), (0, 1)))
        scores = Q[..., part] @ np.swapaxes(k_h, -1, -2) / math.sqrt(d)
        scores = np.where(blocked_h, -np.inf, scores)
        if add_h is not None:
            scores = scores + add_h
        p = softmax_rows(scores)
        heads.append(p @ v_h)
        weights.append(p)
    out = np.concatenate(heads, axis=-1) @ mha.out_proj.weight.numpy().T
    return out + mha.out_proj.bias.numpy(), np.stack(weights, axis=1)


def _randomise_biases(mha, rng):
    """PyTorch's zero init of the projection biases would hide bugs in their handling."""
    for b in (mha.in_proj_bias, mha.out_proj.bias):
        b.data = b.xp.asarray(rng.standard_normal(b.shape))


@pytest.mark.parametrize("bias_kv,zero_attn", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("kind", ["self", "cross_kdim_vdim"])
@pytest.mark.parametrize("masks", ["none", "key_padding", "attn_bool", "float_3d", "causal"])
def test_matches_the_numpy_reference(bias_kv, zero_attn, kind, masks):
    rng = np.random.default_rng(1)
    E, H, N, L = 8, 2, 3, 4
    S, kdim, vdim = (L, None, None) if kind == "self" else (5, 6, 3)
    mha = nn.MultiheadAttention(E, H, add_bias_kv=bias_kv, add_zero_attn=zero_attn, kdim=kdim,
                                vdim=vdim, seed=0).double()
    _randomise_biases(mha, rng)
    query = rng.standard_normal((N, L, E))
    key = query if kind == "self" else rng.standard_normal((N, S, kdim))
    value = query if kind == "self" else rng.standard_normal((N, S, vdim))
    kwargs, blocked, additive = {}, np.zeros((N, L, S), dtype=bool), None
    if masks == "key_padding":
        padding = rng.random((N, S)) < 0.4
        padding[0] = True  # every real key of sequence 0 masked: only the extra keys remain
        kwargs["key_padding_mask"] = tg.tensor(padding)
        blocked |= padding[:, None, :]
    if masks == "attn_bool":
        attn = rng.random((L, S)) < 0.4
        kwargs["attn_mask"] = tg.tensor(attn)
        blocked |= attn[None]
    if masks == "float_3d":
        additive = rng.standard_normal((N * H, L, S))
        kwargs["attn_mask"] = _t(additive)
        additive = additive.reshape(N, H, L, S)
    if masks == "causal":
        kwargs["is_causal"] = True
        blocked |= ~np.tri(L, S, dtype=bool)[None]
    expected, expected_weights = reference(mha, query, key, value, blocked, additive)
    extra = int(bias_kv) + int(zero_attn)
    assert expected_weights.shape == (N, H, L, S + extra)

    q_in = _t(query.swapaxes(0, 1))  # (L, N, E): batch_first=False, PyTorch's default
    k_in = q_in if kind == "self" else _t(key.swapaxes(0, 1))
    v_in = q_in if kind == "self" else _t(value.swapaxes(0, 1))
    out, weights = mha(q_in, k_in, v_in, average_attn_weights=False, **kwargs)
    np.testing.assert_allclose(out.numpy(), expected.swapaxes(0, 1), atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected_weights, atol=1e-12)
    _, averaged = mha(q_in, k_in, v_in, **kwargs)
    np.testing.assert_allclose(averaged.numpy(), expected_weights.mean(axis=1), atol=1e-12)
    fast, none = mha(q_in, k_in, v_in, need_weights=False, **kwargs)
    assert none is None
    np.testing.assert_allclose(fast.numpy(), out.numpy(), atol=1e-12)


def test_a_row_with_every_real_key_masked_attends_to_the_zero_key():
    """With add_zero_attn only, such a row puts all its weight on the zero key, whose value
    is 0: every head's attention output is 0, and the layer's output is out_proj's bias."""
    rng = np.random.default_rng(2)
    mha = nn.MultiheadAttention(4, 2, add_zero_attn=True, batch_first=True, seed=3).double()
    _randomise_biases(mha, rng)
    x = _t(rng.standard_normal((2, 3, 4)))
    padding = np.array([[True, True, True], [False, True, False]])
    out, weights = mha(x, x, x, key_padding_mask=tg.tensor(padding))
    np.testing.assert_allclose(weights.numpy()[0], np.tile([0, 0, 0, 1.0], (3, 1)), atol=1e-15)
    np.testing.assert_allclose(out.numpy()[0], np.tile(mha.out_proj.bias.numpy(), (3, 1)),
                               atol=1e-12)
    assert np.all(weights.numpy()[1][:, 1] == 0)  # a padded real key still gets nothing


def test_a_zero_bias_key_takes_weight_and_scales_the_output_down():
    """bias_k = bias_v = 0 on the weights of a plain layer: the extra key scores 0, so it
    takes w0 = 1 / (1 + sum_j e^{s_j}) of each row, the real keys keep the plain weights
    times (1 - w0), and (one head) the attention output shrinks by the same factor."""
    rng = np.random.default_rng(4)
    plain = nn.MultiheadAttention(4, 1, batch_first=True, seed=5).double()
    _randomise_biases(plain, rng)
    extended = nn.MultiheadAttention(4, 1, add_bias_kv=True, batch_first=True, seed=6).double()
    extended.load_state_dict({**plain.state_dict(), "bias_k": np.zeros((1, 1, 4)),
                              "bias_v": np.zeros((1, 1, 4))})
    x = _t(rng.standard_normal((2, 3, 4)))
    out_plain, w_plain = plain(x, x, x)
    out_ext, w_ext = extended(x, x, x)
    w0 = w_ext.numpy()[..., 3:]
    assert np.all(w0 > 0)
    np.testing.assert_allclose(w_ext.numpy()[..., :3], w_plain.numpy() * (1 - w0), atol=1e-12)
    b_o = plain.out_proj.bias.numpy()
    np.testing.assert_allclose(out_ext.numpy() - b_o, (out_plain.numpy() - b_o) * (1 - w0),
                               atol=1e-12)


class _Cross(nn.Module):
    """Cross-attention with a padding mask and the weights, as one output for gradcheck."""

    def __init__(self, mha, padding, need_weights):
        super().__init__()
        self.mha, self.padding, self.need_weights = mha, padding, need_weights

    def forward(self, query, key, value):
        out, w = self.mha(query, key, value, key_padding_mask=tg.tensor(self.padding),
                          need_weights=self.need_weights)
        return out if w is None else out.sum() + (w * w).sum()


@pytest.mark.parametrize("need_weights", [False, True])
def test_gradcheck_every_parameter_and_input(need_weights):
    rng = np.random.default_rng(6)
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=2,
                                batch_first=True, seed=7)
    padding = np.array([[False, True, False], [True, True, True]])
    layer = _Cross(mha, padding, need_weights)
    query, key, value = (rng.standard_normal(s) for s in ((2, 2, 4), (2, 3, 3), (2, 3, 2)))
    assert check_module_gradients(layer, query, key, value)


def test_state_dict_names_and_order_are_pytorchs():
    packed = nn.MultiheadAttention(4, 2, add_bias_kv=True, seed=0)
    assert list(packed.state_dict()) == ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                         "out_proj.weight", "out_proj.bias"]
    separate = nn.MultiheadAttention(4, 2, bias=True, add_bias_kv=True, kdim=3, vdim=5, seed=0)
    state = separate.state_dict()
    assert list(state) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias",
                           "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"]
    assert state["k_proj_weight"].shape == (4, 3) and state["v_proj_weight"].shape == (4, 5)
    assert state["bias_k"].shape == (1, 1, 4)
    plain = nn.MultiheadAttention(4, 2, add_zero_attn=True, seed=0)
    assert "bias_k" not in plain.state_dict() and plain.bias_k is None
    assert "add_zero_attn=True" in repr(plain) and "add_bias_kv=True" in repr(separate)


def test_bias_kv_init_is_xavier_normal():
    """PyTorch draws bias_k, bias_v from N(0, 2 / (fan_in + fan_out)) with both fans E."""
    E = 2000
    mha = nn.MultiheadAttention(E, 1, add_bias_kv=True, seed=8)
    for bias in (mha.bias_k, mha.bias_v):
        std = bias.numpy().std()
        assert abs(std - math.sqrt(1.0 / E)) < 0.1 * math.sqrt(1.0 / E)
    assert not np.array_equal(mha.bias_k.numpy(), mha.bias_v.numpy())


def test_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, kdim=6, vdim=5,
                                seed=5).double()
    _randomise_biases(mha, rng)
    ref = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, kdim=6,
                                      vdim=5).double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in mha.state_dict().items()})
    q, k, v = (rng.standard_normal(s) for s in ((4, 3, 8), (5, 3, 6), (5, 3, 5)))
    padding = rng.random((3, 5)) < 0.3
    attn = rng.random((4, 5)) < 0.3
    out, w = mha(_t(q), _t(k), _t(v), key_padding_mask=tg.tensor(padding),
                 attn_mask=tg.tensor(attn))
    ref_out, ref_w = ref(*(torch.tensor(a) for a in (q, k, v)),
                         key_padding_mask=torch.tensor(padding), attn_mask=torch.tensor(attn))
    np.testing.assert_allclose(out.numpy(), ref_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ref_w.detach().numpy(), atol=1e-12)

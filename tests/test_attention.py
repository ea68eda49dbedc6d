"""Scaled dot-product attention (the fused op) and nn.MultiheadAttention.

* The fused op against a plain NumPy softmax(QK^T/sqrt(d) + mask)V and against its own
  composed-op reference, with gradcheck (float64) for q, k, v and a learnable float mask,
  and gradgradcheck through the differentiable backward.
* Mask semantics that can fail: a masked key's value cannot change the output; a causal
  output does not depend on later tokens; a fully masked row gives 0, not NaN.
* MultiheadAttention against a loop-over-heads NumPy reference (self- and cross-attention,
  kdim/vdim, batch_first both ways, every mask kind, averaged and per-head weights) and
  gradcheck of the whole layer; PyTorch itself where it is installed.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course.errors import DTypeError, ShapeError
from tinygrad_course.ops.attention import attention_weights


def _t(array, requires_grad=False, dtype=np.float64):
    return tg.tensor(array, dtype=dtype, requires_grad=requires_grad)


def softmax_rows(scores):
    """Softmax over the last axis; rows with every entry -inf become 0 (the documented rule)."""
    top = scores.max(axis=-1, keepdims=True)
    empty = np.isneginf(top)
    e = np.exp(scores - np.where(empty, 0.0, top))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(empty, 1.0, total)


def sdpa_reference(q, k, v, additive=None, scale=None):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if additive is not None:
        scores = scores + additive
    return softmax_rows(scores) @ v


def bool_to_additive(allowed):
    return np.where(allowed, 0.0, -np.inf)


# ----- scaled_dot_product_attention --------------------------------------------------------
@settings(max_examples=15)
@given(batch=st.sampled_from([(), (2,), (2, 3), (1, 3)]), L=st.integers(1, 4),
       S=st.integers(1, 4), d=st.integers(1, 4), dv=st.integers(1, 3),
       mask_kind=st.sampled_from(["none", "causal", "bool", "float"]), seed=st.integers(0, 99))
def test_sdpa_matches_numpy_softmax_attention(batch, L, S, d, dv, mask_kind, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(batch + (L, d))
    k = rng.standard_normal(batch + (S, d))
    v = rng.standard_normal(batch + (S, dv))
    kwargs, additive = {}, None
    if mask_kind == "causal":
        kwargs["is_causal"] = True
        additive = bool_to_additive(np.tri(L, S, dtype=bool))
    elif mask_kind == "bool":
        allowed = rng.random((L, S)) < 0.6
        kwargs["attn_mask"] = tg.tensor(allowed)
        additive = bool_to_additive(allowed)
    elif mask_kind == "float":
        additive = rng.standard_normal((L, S))
        kwargs["attn_mask"] = _t(additive)
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), **kwargs)
    np.testing.assert_allclose(out.numpy(), sdpa_reference(q, k, v, additive), atol=1e-12)


def test_sdpa_broadcasts_batch_axes_and_custom_scale():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s) for s in [(2, 1, 3, 4), (1, 3, 5, 4), (5, 2)])
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), scale=0.3)
    assert out.shape == (2, 3, 3, 2)
    np.testing.assert_allclose(out.numpy(), sdpa_reference(q, k, v, scale=0.3), atol=1e-12)


@pytest.mark.parametrize("mask_kind", ["none", "causal", "bool", "float", "dropout"])
def test_sdpa_gradcheck(mask_kind):
    rng = np.random.default_rng(2)
    q = rng.standard_normal((2, 3, 4))
    k = rng.standard_normal((2, 5, 4))
    v = rng.standard_normal((2, 5, 3))
    inputs = [_t(q, True), _t(k, True), _t(v, True)]
    allowed = rng.random((3, 5)) < 0.6
    allowed[:, 0] = True

    def fn(q, k, v, *mask):
        if mask_kind == "causal":
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        if mask_kind == "bool":
            return F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(allowed))
        if mask_kind == "float":  # a learnable bias: it gets its gradient too
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask[0])
        if mask_kind == "dropout":  # an int seed: the same mask on every call
            return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, generator=5)
        return F.scaled_dot_product_attention(q, k, v)

    if mask_kind == "float":
        inputs.append(_t(rng.standard_normal((2, 1, 5)), True))
    assert tg.gradcheck(fn, *inputs)


def test_sdpa_gradgradcheck_through_the_differentiable_backward():
    rng = np.random.default_rng(3)
    q, k, v = (_t(rng.standard_normal(s), True) for s in [(2, 3), (3, 3), (3, 2)])
    allowed = np.array([[True, False, True], [True, True, False]])
    assert tg.gradgradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(allowed)),
        q, k, v)


def test_fused_op_equals_composed_ops_forward_and_backward():
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in [(2, 2, 6, 8), (2, 2, 7, 8),
                                                                     (2, 2, 7, 8)])
    g = rng.standard_normal((2, 2, 6, 8)).astype(np.float32)
    results = []
    for fused in (True, False):
        Q, K, V = (_t(a, True, np.float32) for a in (q, k, v))
        if fused:
            out = F.scaled_dot_product_attention(Q, K, V, is_causal=True)
        else:
            allowed = np.tri(6, 7, dtype=bool)
            blocked = tg.tensor(bool_to_additive(allowed).astype(np.float32)).data
            out = attention_weights(Q, K, blocked=blocked) @ V
        out.backward(tg.tensor(g))
        results.append([out.numpy()] + [t.grad.numpy() for t in (Q, K, V)])
    for fused, composed in zip(*results):
        np.testing.assert_allclose(fused, composed, rtol=1e-5, atol=1e-6)


def test_a_masked_key_cannot_change_the_output():
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal(s) for s in [(4, 3), (6, 3), (6, 2)])
    allowed = np.ones((4, 6), dtype=bool)
    allowed[:, 2] = False  # bool mask: True = takes part, so key 2 is shut out
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=tg.tensor(allowed))
    k2, v2 = k.copy(), v.copy()
    k2[2] += 100.0
    v2[2] -= 100.0
    out2 = F.scaled_dot_product_attention(_t(q), _t(k2), _t(v2), attn_mask=tg.tensor(allowed))
    np.testing.assert_allclose(out.numpy(), out2.numpy(), atol=1e-12)
    unmasked = F.scaled_dot_product_attention(_t(q), _t(k2), _t(v2))
    assert np.abs(unmasked.numpy() - out.numpy()).max() > 1.0


def test_causal_output_does_not_depend_on_later_tokens():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 4))
    X = _t(x, True)
    out = F.scaled_dot_product_attention(X, X, X, is_causal=True)
    out[2].sum().backward()  # position 2 may only read positions 0, 1, 2
    grad = X.grad.numpy()
    assert np.all(grad[3:] == 0.0) and np.all(np.abs(grad[:3]).sum(axis=1) > 0)


def test_fully_masked_row_gives_zero_output_and_finite_gradients():
    rng = np.random.default_rng(7)
    q, k, v = (_t(rng.standard_normal(s), True) for s in [(3, 2), (4, 2), (4, 2)])
    allowed = np.ones((3, 4), dtype=bool)
    allowed[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(allowed))
    assert np.all(out.numpy()[1] == 0.0) and np.all(np.isfinite(out.numpy()))
    out.sum().backward()
    for t in (q, k, v):
        assert np.all(np.isfinite(t.grad.numpy()))
    assert np.all(q.grad.numpy()[1] == 0.0)


def test_dropout_is_seeded_and_keeps_the_expected_value():
    rng = np.random.default_rng(8)
    q, k, v = (_t(rng.standard_normal(s)) for s in [(64, 4), (64, 4), (64, 3)])
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=1)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=1)
    c = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), c.numpy())
    plain = F.scaled_dot_product_attention(q, k, v).numpy()
    mean = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=s).numpy()
                    for s in range(200)], axis=0)
    # each output is a sum of 64 weights*values; over 200 masks the mean is within ~5 s.e.
    assert np.abs(mean - plain).mean() < 0.1 * np.abs(plain).mean() + 0.02


def test_sdpa_errors_name_the_op():
    q = _t(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="scaled_dot_product_attention.*d_k"):
        F.scaled_dot_product_attention(q, _t(np.zeros((4, 2))), _t(np.zeros((4, 2))))
    with pytest.raises(ShapeError, match="same length"):
        F.scaled_dot_product_attention(q, _t(np.zeros((4, 3))), _t(np.zeros((5, 2))))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.tensor(np.ones((2, 2), bool)),
                                       is_causal=True)
    with pytest.raises(ValueError, match="generator"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=0.1)
    with pytest.raises(ShapeError, match="attn_mask of shape"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.tensor(np.ones((3, 2), bool)))
    with pytest.raises(DTypeError, match="attn_mask"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.tensor(np.ones((2, 2), int)))
    with pytest.raises(DTypeError, match="floating"):
        F.scaled_dot_product_attention(tg.tensor(np.ones((2, 2), int)), q[:, :2], q[:, :2])


# ----- MultiheadAttention --------------------------------------------------------------------
def mha_reference(mha, query, key, value, blocked=None, additive=None):
    """Loop over heads in NumPy, batch-first (N, L, E) inputs; blocked (N, L, S) bool True =
    not allowed, additive (N, H, L, S) float. Returns the output and per-head weights."""
    E, H = mha.embed_dim, mha.num_heads
    d = E // H
    if mha.packed:
        Wq, Wk, Wv = np.split(mha.in_proj_weight.numpy(), 3)
    else:
        Wq, Wk, Wv = (p.numpy() for p in (mha.q_proj_weight, mha.k_proj_weight,
                                          mha.v_proj_weight))
    bq, bk, bv = np.split(mha.in_proj_bias.numpy(), 3)
    Q, K, V = query @ Wq.T + bq, key @ Wk.T + bk, value @ Wv.T + bv
    heads, weights = [], []
    for h in range(H):
        part = slice(h * d, (h + 1) * d)
        scores = Q[..., part] @ np.swapaxes(K[..., part], -1, -2) / math.sqrt(d)
        if blocked is not None:
            scores = np.where(blocked, -np.inf, scores)
        if additive is not None:
            scores = scores + additive[:, h]
        p = softmax_rows(scores)
        heads.append(p @ V[..., part])
        weights.append(p)
    out = np.concatenate(heads, axis=-1) @ mha.out_proj.weight.numpy().T
    return out + mha.out_proj.bias.numpy(), np.stack(weights, axis=1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["self", "cross_kdim_vdim"])
@pytest.mark.parametrize("masks", ["none", "key_padding", "attn_bool", "both", "float_3d",
                                   "causal"])
def test_mha_matches_loop_over_heads(batch_first, kind, masks):
    rng = np.random.default_rng(9)
    E, H, N, L = 8, 2, 3, 4
    S, kdim, vdim = (L, None, None) if kind == "self" else (5, 6, 3)
    mha = tg.nn.MultiheadAttention(E, H, kdim=kdim, vdim=vdim, batch_first=batch_first,
                                   seed=0).double()
    for b in (mha.in_proj_bias, mha.out_proj.bias):  # PyTorch's zero init hides bias bugs
        b.data = b.xp.asarray(rng.standard_normal(b.shape))
    query = rng.standard_normal((N, L, E))
    key = query if kind == "self" else rng.standard_normal((N, S, kdim))
    value = query if kind == "self" else rng.standard_normal((N, S, vdim))
    kwargs, blocked, additive = {}, np.zeros((N, L, S), dtype=bool), None
    padding = rng.random((N, S)) < 0.3
    attn = rng.random((L, S)) < 0.3
    if masks in ("key_padding", "both"):
        kwargs["key_padding_mask"] = tg.tensor(padding)
        blocked |= padding[:, None, :]
    if masks in ("attn_bool", "both"):
        kwargs["attn_mask"] = tg.tensor(attn)
        blocked |= attn[None]
    if masks == "float_3d":
        additive = rng.standard_normal((N * H, L, S))
        kwargs["attn_mask"] = _t(additive)
        additive = additive.reshape(N, H, L, S)
    if masks == "causal":
        kwargs["is_causal"] = True
        blocked |= ~np.tri(L, S, dtype=bool)[None]
    expected, expected_weights = mha_reference(mha, query, key, value, blocked, additive)

    def layout(a):
        return a if batch_first else np.swapaxes(a, 0, 1)

    q_in = _t(layout(query))
    k_in = q_in if kind == "self" else _t(layout(key))
    v_in = q_in if kind == "self" else _t(layout(value))
    out, weights = mha(q_in, k_in, v_in, average_attn_weights=False, **kwargs)
    np.testing.assert_allclose(out.numpy(), layout(expected), atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected_weights, atol=1e-12)
    out2, averaged = mha(q_in, k_in, v_in, **kwargs)
    np.testing.assert_allclose(averaged.numpy(), expected_weights.mean(axis=1), atol=1e-12)
    fused, none = mha(q_in, k_in, v_in, need_weights=False, **kwargs)
    assert none is None
    np.testing.assert_allclose(fused.numpy(), out.numpy(), atol=1e-12)


def test_mha_unbatched_input_equals_batch_of_one():
    rng = np.random.default_rng(10)
    mha = tg.nn.MultiheadAttention(4, 2, seed=1)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    out, w = mha(_t(x, dtype=np.float32), _t(x, dtype=np.float32), _t(x, dtype=np.float32))
    batched, wb = mha(*(_t(x[:, None], dtype=np.float32),) * 3)
    assert out.shape == (3, 4) and w.shape == (3, 3)
    np.testing.assert_allclose(out.numpy(), batched.numpy()[:, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(w.numpy(), wb.numpy()[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_gradcheck_inputs_and_weights(need_weights):
    rng = np.random.default_rng(11)
    mha = tg.nn.MultiheadAttention(4, 2, batch_first=True, seed=2).double()
    mha.in_proj_bias.data = mha.in_proj_bias.xp.asarray(rng.standard_normal(12))
    names = [name for name, _ in mha.named_parameters()]
    padding = np.array([[False, False, True], [False, False, False]])

    def fn(query, memory, *params):
        for name, p in zip(names, params):
            module, attr = (mha.out_proj, name.split(".")[1]) if "." in name else (mha, name)
            setattr(module, attr, p)
        out, w = mha(query, memory, memory, key_padding_mask=tg.tensor(padding),
                     need_weights=need_weights)
        return out if w is None else out.sum() + (w * w).sum()

    params = [tg.nn.Parameter(p.detach()) for p in mha.parameters()]
    query = _t(rng.standard_normal((2, 2, 4)), True)
    memory = _t(rng.standard_normal((2, 3, 4)), True)
    assert tg.gradcheck(fn, query, memory, *params)


def test_self_attention_is_permutation_equivariant():
    """Without positions, permuting the tokens permutes the outputs the same way."""
    rng = np.random.default_rng(12)
    mha = tg.nn.MultiheadAttention(8, 4, batch_first=True, seed=3).double()
    x = rng.standard_normal((2, 6, 8))
    perm = rng.permutation(6)
    out = mha(_t(x), _t(x), _t(x), need_weights=False)[0].numpy()
    xp = x[:, perm]
    out_p = mha(_t(xp), _t(xp), _t(xp), need_weights=False)[0].numpy()
    np.testing.assert_allclose(out_p, out[:, perm], atol=1e-12)


def test_mha_dropout_only_in_training():
    rng = np.random.default_rng(13)
    mha = tg.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True, seed=4)
    x = _t(rng.standard_normal((2, 5, 8)), dtype=np.float32)
    mha.eval()
    a = mha(x, x, x)[0].numpy()
    b = mha(x, x, x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    mha.train()
    c = mha(x, x, x)[0].numpy()
    assert not np.allclose(a, c)


def test_mha_errors():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        tg.nn.MultiheadAttention(6, 4)
    mha = tg.nn.MultiheadAttention(4, 2, batch_first=True)
    x = tg.zeros(2, 3, 4)
    with pytest.raises(ShapeError, match="query must have shape"):
        mha(tg.zeros(2, 3, 5), x, x)
    with pytest.raises(ShapeError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=tg.tensor(np.zeros((3, 2), bool)))
    with pytest.raises(ShapeError, match="attn_mask"):
        mha(x, x, x, attn_mask=tg.tensor(np.zeros((2, 2), bool)))
    with pytest.raises(ShapeError, match="batch sizes"):
        mha(x, tg.zeros(3, 3, 4), tg.zeros(3, 3, 4))


def test_mha_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    mha = tg.nn.MultiheadAttention(8, 2, kdim=6, vdim=5, seed=5).double()
    ref = torch.nn.MultiheadAttention(8, 2, kdim=6, vdim=5).double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in mha.state_dict().items()})
    q, k, v = rng.standard_normal((4, 3, 8)), rng.standard_normal((5, 3, 6)), \
        rng.standard_normal((5, 3, 5))
    padding = rng.random((3, 5)) < 0.3
    padding[:, 0] = False  # PyTorch gives NaN for a fully masked row; keep one key
    out, w = mha(_t(q), _t(k), _t(v), key_padding_mask=tg.tensor(padding))
    ref_out, ref_w = ref(*(torch.tensor(a) for a in (q, k, v)),
                         key_padding_mask=torch.tensor(padding))
    np.testing.assert_allclose(out.numpy(), ref_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ref_w.detach().numpy(), atol=1e-12)


def test_mha_packed_self_attention_second_derivatives():
    """Self-attention takes q, k, v from one packed projection through the fused op; its
    backward must itself be differentiable (create_graph) like every other op's."""
    rng = np.random.default_rng(15)
    mha = tg.nn.MultiheadAttention(2, 2, batch_first=True, seed=6).double()
    x = _t(rng.standard_normal((1, 3, 2)), True)
    assert tg.gradgradcheck(lambda x: mha(x, x, x, need_weights=False, is_causal=True)[0], x)


# ----- packed self-attention: split heads, attend, merge heads in one op ---------------------
def _split_attend_merge(qkv, heads, attn_mask=None):
    """The reference: the projection split into heads with reshape/transpose, F.sdpa, and
    the heads merged back, all as separate ops."""
    n, length, width = qkv.shape
    d = width // (3 * heads)
    q, k, v = (qkv[:, :, i * heads * d:(i + 1) * heads * d].reshape(n, length, heads, d)
               .transpose(0, 2, 1, 3) for i in range(3))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    return out.transpose(0, 2, 1, 3).reshape(n, length, heads * d)


@pytest.mark.parametrize("mask", ["none", "bool", "float"])
def test_packed_self_attention_matches_split_attend_merge(mask):
    from tinygrad_course.ops.attention import packed_self_attention

    rng = np.random.default_rng(21)
    n, length, heads, d = 2, 5, 3, 4
    qkv = _t(rng.standard_normal((n, length, 3 * heads * d)), True)
    float_mask = allowed = attn_mask = None
    if mask == "bool":
        host = rng.random((n, 1, 1, length)) > 0.3
        host[:, :, :, 0] = True
        attn_mask = tg.tensor(host)
        allowed = attn_mask.data  # a backend array on the default device
    elif mask == "float":
        float_mask = attn_mask = _t(rng.standard_normal((n, heads, length, length)), True)
    got = packed_self_attention(qkv, heads, float_mask=float_mask, allowed=allowed)
    expected = _split_attend_merge(qkv, heads, attn_mask)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    upstream = _t(rng.standard_normal(got.shape))
    inputs = [qkv] + ([float_mask] if float_mask is not None else [])
    for a, b in zip(tg.grad(got, inputs, grad_output=upstream),
                    tg.grad(expected, inputs, grad_output=upstream)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_packed_self_attention_gradcheck_and_gradgradcheck_with_a_learned_bias():
    from tinygrad_course.ops.attention import packed_self_attention

    rng = np.random.default_rng(22)
    qkv = _t(rng.standard_normal((2, 3, 12)), True)
    bias = _t(rng.standard_normal((1, 2, 3, 3)), True)  # broadcast over the batch

    def fn(qkv, bias):
        return packed_self_attention(qkv, 2, float_mask=bias)

    assert tg.gradcheck(fn, qkv, bias)
    assert tg.gradgradcheck(fn, qkv, bias)


def test_packed_self_attention_refuses_a_width_that_does_not_split():
    from tinygrad_course.ops.attention import packed_self_attention

    with pytest.raises(ShapeError, match="width 10 does not split into 3 x 2 heads"):
        packed_self_attention(_t(np.zeros((1, 2, 10))), 2)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 2), length=st.integers(1, 4), heads=st.integers(1, 3),
       d=st.integers(1, 3), causal=st.booleans(), seed=st.integers(0, 10**6))
def test_packed_self_attention_gradcheck_on_random_shapes(n, length, heads, d, causal, seed):
    from tinygrad_course.ops.attention import causal_mask, packed_self_attention

    rng = np.random.default_rng(seed)
    qkv = _t(rng.standard_normal((n, length, 3 * heads * d)), True)
    allowed = causal_mask(length, length, qkv.xp).reshape(1, 1, length, length) if causal \
        else None
    assert tg.gradcheck(lambda qkv: packed_self_attention(qkv, heads, allowed=allowed), qkv)


def test_packed_self_attention_refuses_a_projection_that_is_not_3d():
    from tinygrad_course.ops.attention import packed_self_attention

    with pytest.raises(ShapeError, match=r"must have shape \(N, L, 3E\), got \(2, 6\)"):
        packed_self_attention(_t(np.zeros((2, 6))), 2)
    with pytest.raises(DTypeError, match="must be floating"):
        packed_self_attention(tg.tensor(np.zeros((1, 2, 6), dtype=np.int64)), 2)

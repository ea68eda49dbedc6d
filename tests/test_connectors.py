"""Connectors between a frozen vision encoder and a frozen LM (models/connectors.py)."""

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course import optim
from tinygrad_course.errors import TensorError
from tinygrad_course.models import connectors as C
from tinygrad_course.models.gpt import GPT

VOCAB, D_LM, D_V = 11, 16, 12


def make_lm():
    return GPT(VOCAB, 24, d_model=D_LM, nhead=2, num_layers=2, seed=0)


def inputs(n=3, t=7, s=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, VOCAB, (n, t)),
            tg.tensor(rng.standard_normal((n, s, D_V)).astype(np.float32)))


def test_flamingo_with_closed_gates_is_exactly_the_frozen_lm():
    lm = make_lm()
    ids, features = inputs()
    flamingo = C.FlamingoLM(lm, D_V, nhead=2, seed=1)
    np.testing.assert_array_equal(flamingo(ids, features).numpy(), lm(ids).numpy())
    flamingo.cross_blocks[1].alpha_xattn.data[...] = 0.5  # an open gate lets the image in
    assert not np.allclose(flamingo(ids, features).numpy(), lm(ids).numpy())


def test_the_gate_gets_a_gradient_at_zero_and_the_attention_behind_it_none():
    """d out / d alpha = (1 - tanh^2 alpha) Attn(...) is not 0 at alpha = 0, while the
    attention's weights are multiplied by tanh(0) = 0."""
    block = C.GatedCrossAttentionBlock(D_LM, D_V, nhead=2, seed=0)
    x = tg.tensor(np.random.default_rng(2).standard_normal((2, 4, D_LM)).astype(np.float32))
    _, image = inputs(n=2)
    (block(x, image) ** 2).sum().backward()
    assert abs(block.alpha_xattn.grad.item()) > 1e-4
    assert np.abs(block.xattn.out_proj.weight.grad.numpy()).max() == 0.0


@pytest.mark.parametrize("num_features", [1, 5, 17, 85])
def test_the_resampler_gives_k_tokens_whatever_the_number_of_features(num_features):
    resampler = C.PerceiverResampler(D_V, D_LM, num_queries=6, num_layers=2, nhead=2, seed=0)
    _, features = inputs(n=2, s=num_features)
    assert resampler(features).shape == (2, 6, D_LM)
    assert resampler.image_tokens(num_features) == 6


def test_the_resampler_reads_the_features():
    resampler = C.PerceiverResampler(D_V, D_LM, num_queries=3, nhead=2, seed=0)
    _, a = inputs(n=2, seed=1)
    _, b = inputs(n=2, seed=2)
    assert not np.allclose(resampler(a).numpy(), resampler(b).numpy())


def test_prefix_lm_puts_one_token_per_feature_in_front_of_the_text():
    lm = make_lm()
    ids, features = inputs()
    llava = C.PrefixLM(lm, C.MLPProjector(D_V, D_LM, seed=0))
    logits = llava(ids, features).numpy()
    assert logits.shape == (3, 7, VOCAB) and llava.image_tokens(5) == 5
    # the first text position sees the image: another image changes its prediction
    _, other = inputs(seed=9)
    assert not np.allclose(llava(ids, other).numpy()[:, 0], logits[:, 0])
    # and causality holds for the text: the last token does not change earlier logits
    changed = ids.copy()
    changed[:, -1] = (changed[:, -1] + 1) % VOCAB
    np.testing.assert_allclose(llava(changed, features).numpy()[:, :-1], logits[:, :-1],
                               atol=1e-6)


def test_image_tokens_inserted_after_the_text_leave_the_text_as_the_frozen_lm_reads_it():
    """insert_at = T: the image comes after every character, so causal attention keeps it out
    of logits[:, :T - 1] (the frozen LM's own), and logits[:, T - 1] is read at the last image
    token, having seen everything."""
    lm = make_lm()
    ids, features = inputs()
    llava = C.PrefixLM(lm, C.MLPProjector(D_V, D_LM, seed=0))
    logits = llava(ids, features, insert_at=7).numpy()
    assert logits.shape == (3, 7, VOCAB)
    np.testing.assert_allclose(logits[:, :-1], lm(ids).numpy()[:, :-1], atol=1e-6)
    assert not np.allclose(logits[:, -1], lm(ids).numpy()[:, -1], atol=1e-3)
    middle = llava(ids, features, insert_at=3).numpy()
    np.testing.assert_allclose(middle[:, :2], lm(ids).numpy()[:, :2], atol=1e-6)
    with pytest.raises(TensorError, match="insert_at"):
        llava(ids, features, insert_at=8)


def _train_one_step(model):
    ids, features = inputs()
    optimizer = optim.AdamW(C.trainable_parameters(model), lr=1e-2, weight_decay=0.1)
    frozen = {n: p.numpy().copy() for n, p in model.lm.named_parameters()}
    trainable = {n: p.numpy().copy() for n, p in model.named_parameters() if p.requires_grad}
    logits = model(ids, features)
    tg.functional.cross_entropy(logits.reshape(-1, VOCAB), tg.tensor(ids.reshape(-1))).backward()
    optimizer.step()
    return frozen, trainable


@pytest.mark.parametrize("build", [
    lambda lm: C.FlamingoLM(lm, D_V, nhead=2, seed=0),
    lambda lm: C.PrefixLM(lm, C.MLPProjector(D_V, D_LM, seed=0)),
    lambda lm: C.PrefixLM(lm, C.PerceiverResampler(D_V, D_LM, num_queries=4, nhead=2, seed=0)),
    lambda lm: C.TextOnlyLM(lm, 4, seed=0)], ids=["flamingo", "llava", "resampler", "text"])
def test_frozen_lm_gets_no_gradient_and_the_optimiser_leaves_it_unchanged(build):
    model = build(make_lm())
    frozen, trainable = _train_one_step(model)
    for name, param in model.lm.named_parameters():
        assert param.grad is None, name
        np.testing.assert_array_equal(param.numpy(), frozen[name])
    moved = [n for n, p in model.named_parameters() if p.requires_grad
             and not np.array_equal(p.numpy(), trainable[n])]
    assert trainable and moved  # the connector did learn


def test_gradcheck_gated_cross_attention_block():
    block = C.GatedCrossAttentionBlock(4, 3, nhead=2, seed=0).double()
    block.alpha_xattn.data[...] = 0.3  # open gates: every path carries a gradient
    block.alpha_ff.data[...] = -0.2
    rng = np.random.default_rng(0)
    assert check_module_gradients(block, rng.standard_normal((2, 3, 4)),
                                  rng.standard_normal((2, 5, 3)))


def test_gradcheck_resampler():
    resampler = C.PerceiverResampler(3, 4, num_queries=2, num_layers=2, nhead=2, seed=0)
    features = np.random.default_rng(1).standard_normal((2, 5, 3))
    assert check_module_gradients(resampler, features)


@pytest.mark.parametrize("side, views", [(24, 1), (48, 5), (72, 10), (96, 17)])
def test_any_resolution_token_count_grows_with_the_image_and_the_resampler_keeps_it(side, views):
    images = np.random.default_rng(0).random((2, 3, side, side)).astype(np.float32)
    tiled = C.any_resolution_views(images, 24)
    assert tiled.shape == (2, views, 3, 24, 24) and C.num_views(side, side, 24) == views
    features = np.random.default_rng(1).standard_normal((2, views, 17, D_V)).astype(np.float32)
    tokens = C.ViewEmbedding(20, D_V, seed=0)(features)
    assert tokens.shape == (2, views * 17, D_V)
    assert C.MLPProjector(D_V, D_LM, seed=0)(tokens).shape[1] == views * 17
    assert C.PerceiverResampler(D_V, D_LM, num_queries=8, nhead=2, seed=0)(tokens).shape[1] == 8


def test_tiles_are_the_image_and_the_global_view_is_its_block_average():
    images = np.random.default_rng(0).random((1, 3, 48, 72))
    views = C.any_resolution_views(images, 24)
    np.testing.assert_array_equal(views[0, 4], images[0, :, 24:48, 24:48])  # row 1, col 1
    np.testing.assert_allclose(views[0, -1, :, 0, 0], images[0, :, :2, :3].mean(axis=(1, 2)))


def test_view_embedding_tells_views_apart():
    embed = C.ViewEmbedding(4, D_V, seed=0)
    same = np.ones((1, 2, 3, D_V), dtype=np.float32)  # two views with identical features
    out = embed(same).numpy().reshape(2, 3, D_V)
    assert not np.allclose(out[0], out[1])


@pytest.mark.parametrize("call", [
    lambda: C.any_resolution_views(np.zeros((1, 3, 30, 48)), 24),
    lambda: C.PerceiverResampler(D_V, D_LM, nhead=2)(np.zeros((2, 5, D_V + 1), np.float32)),
    lambda: C.PrefixLM(make_lm(), C.MLPProjector(D_V, D_LM + 1)),
    lambda: C.PrefixLM(make_lm(), C.MLPProjector(D_V, D_LM))(np.zeros((2, 20), np.int64),
                                                            np.zeros((2, 5, D_V), np.float32)),
    lambda: C.FlamingoLM(make_lm(), D_V, nhead=2)(np.zeros((2, 4), np.float32),
                                                  np.zeros((2, 5, D_V), np.float32))])
def test_bad_input_raises_a_named_error(call):
    with pytest.raises(TensorError):
        call()

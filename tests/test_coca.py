"""CoCa (models/coca.py): lambda_cap = 0 is CLIP's loss on the same embeddings, the weighted
sum of the objectives, the attentional pooler (gradcheck, order of the image tokens), and the
one-pass model agrees with its generation path."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.data import scenes
from tinygrad_course.errors import TensorError
from tinygrad_course.models.caption_decoder import CaptionVocabulary
from tinygrad_course.models.clip import clip_loss
from tinygrad_course.models.coca import (
    AttentionalPooler,
    CoCa,
    attentional_pooling,
    captioning_loss,
    coca_loss,
)
from tinygrad_course.ops.similarity import similarity_logits

VOCABULARY = CaptionVocabulary(scenes.scene_vocabulary(), 10)


def tiny_coca(seed=0):
    return CoCa(VOCABULARY, width=16, heads=2, image_layers=1, text_layers=2,
                caption_queries=3, embed_dim=8, seed=seed)


def tiny_batch(n, seed=0):
    data = scenes.make_scenes(n, seed=seed)
    return data["images"], VOCABULARY(data["captions"])


def numpy_clip_loss(e, w, scale):
    s = math.exp(min(scale, math.log(100.0))) * e.astype(np.float64) @ w.astype(np.float64).T

    def cross_entropy(z):
        z = z - z.max(axis=1, keepdims=True)
        return -np.mean(np.diag(z) - np.log(np.exp(z).sum(axis=1)))
    return (cross_entropy(s) + cross_entropy(s.T)) / 2


def test_with_lambda_cap_zero_the_loss_is_the_clip_loss_of_the_same_embeddings():
    model = tiny_coca()
    images, ids = tiny_batch(5, seed=1)
    loss = model.losses(images, ids, lambda_con=1.0, lambda_cap=0.0)
    assert loss["captioning"] is None
    e, w = model.embed(images, ids)
    expected = numpy_clip_loss(e, w, model.logit_scale.item())
    assert loss["loss"].item() == pytest.approx(expected, rel=1e-5)
    # and its gradient is CLIP's: the same for every parameter, none for the captioner's
    loss["loss"].backward()
    coca_grads = {name: None if p.grad is None else p.grad.numpy().copy()
                  for name, p in model.named_parameters()}
    model.zero_grad()
    out = model(images, ids, captioning=False)
    clip_loss(similarity_logits(out["image"], out["text"], model.logit_scale,
                                model.max_logit_scale)).backward()
    for name, p in model.named_parameters():
        if name.startswith(("multimodal", "caption_pooler", "head", "output_norm")):
            assert coca_grads[name] is None and p.grad is None, name
        else:
            np.testing.assert_array_equal(coca_grads[name], p.grad.numpy(), err_msg=name)


def test_the_total_loss_is_the_weighted_sum_of_the_two_objectives():
    model = tiny_coca(seed=1)
    images, ids = tiny_batch(4, seed=2)
    both = model.losses(images, ids, lambda_con=0.5, lambda_cap=2.0)
    contrastive, captioning = both["contrastive"].item(), both["captioning"].item()
    assert both["loss"].item() == pytest.approx(0.5 * contrastive + 2.0 * captioning, rel=1e-6)
    out = model(images, ids)
    assert captioning == pytest.approx(captioning_loss(out["logits"], ids).item(), rel=1e-6)
    caption_only = model.losses(images, ids, lambda_con=0.0, lambda_cap=1.0)
    assert caption_only["contrastive"] is None
    assert caption_only["loss"].item() == pytest.approx(captioning, rel=1e-6)


def test_attentional_pooler_passes_gradcheck_in_float64():
    pooler = AttentionalPooler(8, 2, 3, np.random.default_rng(0), dtype=np.float64)
    tokens = tg.randn(2, 5, 8, seed=1, dtype=np.float64, requires_grad=True)
    queries = tg.tensor(pooler.queries.numpy() + np.random.default_rng(2).normal(0, 0.5, (3, 8)),
                        dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda v, q: attentional_pooling(v, q, pooler.attention, pooler.norm),
                        tokens, queries)


def test_attentional_pooling_ignores_the_order_of_the_image_tokens():
    pooler = AttentionalPooler(8, 2, 4, np.random.default_rng(3))
    tokens = tg.randn(2, 6, 8, seed=4)
    shuffled = tokens[:, np.random.default_rng(5).permutation(6)]
    pooled = pooler(tokens)
    assert pooled.shape == (2, 4, 8)
    np.testing.assert_allclose(pooler(shuffled).numpy(), pooled.numpy(), rtol=1e-5, atol=1e-6)


def test_the_text_embedding_reads_the_whole_caption_and_the_cls_token_changes_no_word():
    model = tiny_coca(seed=2)
    images, ids = tiny_batch(3, seed=3)
    changed = ids.copy()
    changed[:, 1] = VOCABULARY.index["small"]  # the first word, far from [cls]
    (w,) = model.embed(ids=ids)
    (w_changed,) = model.embed(ids=changed)
    assert not np.allclose(w, w_changed)
    # the teacher-forced logits at position t are what generation sees after ids[:, :t + 1]
    logits = model(images, ids)["logits"].numpy()
    pooled = model.caption_pooler(model.image_encoder(images))
    for t in (0, 4, 8):
        step = model.multimodal_logits(model.unimodal_tokens(ids[:, :t + 1]), pooled)
        np.testing.assert_allclose(step.numpy()[:, -1], logits[:, t], rtol=1e-4, atol=1e-5)


def test_generate_returns_vocabulary_ids_without_cls():
    model = tiny_coca(seed=3)
    images, _ = tiny_batch(2, seed=4)
    for beam in (1, 2):
        tokens = model.generate(images, beam_size=beam)
        assert tokens.shape[0] == 2 and tokens.shape[1] <= VOCABULARY.max_tokens - 1
        assert (tokens < len(VOCABULARY)).all()
    assert len(model.caption(images)) == 2


@pytest.mark.parametrize("call, name", [
    (lambda m, x, i: coca_loss(tg.tensor(1.0), tg.tensor(1.0), lambda_cap=-1.0), "coca_loss"),
    (lambda m, x, i: coca_loss(tg.tensor(1.0), None, lambda_cap=1.0), "coca_loss"),
    (lambda m, x, i: coca_loss(None, None, 0.0, 0.0), "coca_loss"),
    (lambda m, x, i: coca_loss(tg.tensor(1.0), None, math.nan, 0.0), "coca_loss"),
    (lambda m, x, i: m.losses(x, i[:, :5]), "CoCa"),
    (lambda m, x, i: attentional_pooling(tg.randn(2, 5, 16, seed=0), tg.randn(3, 8, seed=0),
                                         m.caption_pooler.attention, m.caption_pooler.norm),
     "attentional_pooling"),
    (lambda m, x, i: CoCa(VOCABULARY, text_layers=1), "CoCa"),
])
def test_bad_input_raises_a_named_error(call, name):
    images, ids = tiny_batch(2)
    with pytest.raises(TensorError, match=name):
        call(tiny_coca(), images, ids)

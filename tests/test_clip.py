"""Tiny CLIP: the loss, the normalisation, the temperature clamp, gradients, and the demo."""

import math

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course.data import shapes
from tinygrad_course.errors import ShapeError
from tinygrad_course.models.clip import (
    CLIP,
    CaptionTokenizer,
    MLPImageEncoder,
    TransformerTextEncoder,
    clip_loss,
    l2_normalize,
    recall_at_k,
)


def small_clip(seed=0, words=None, image_side=4, width=8):
    tokenizer = CaptionTokenizer(words or shapes.caption_vocabulary())
    model = CLIP(MLPImageEncoder((3, image_side, image_side), width=6, seed=seed),
                 TransformerTextEncoder(len(tokenizer), 5, width=width, heads=2, layers=1,
                                        seed=seed + 1),
                 embed_dim=4, seed=seed + 2)
    return tokenizer, model


def test_clip_loss_is_the_mean_of_both_cross_entropies_with_the_diagonal_as_target():
    logits = tg.randn(5, 5, seed=0)
    expected = (F.cross_entropy(logits, tg.arange(5)).item()
                + F.cross_entropy(logits.T, tg.arange(5)).item()) / 2
    host = logits.numpy().astype(np.float64)
    by_hand = -(np.diag(host - np.log(np.exp(host).sum(1, keepdims=True))).mean()
                + np.diag(host - np.log(np.exp(host).sum(0, keepdims=True))).mean()) / 2
    assert clip_loss(logits).item() == pytest.approx(expected, rel=1e-6)
    assert clip_loss(logits).item() == pytest.approx(by_hand, rel=1e-5)


def test_clip_loss_is_symmetric_and_small_for_a_confident_diagonal():
    logits = tg.randn(4, 4, seed=1)
    assert clip_loss(logits).item() == pytest.approx(clip_loss(logits.T).item(), rel=1e-6)
    confident = tg.tensor(20 * np.eye(4))
    assert clip_loss(confident).item() < 1e-6
    assert clip_loss(tg.zeros(4, 4)).item() == pytest.approx(math.log(4), rel=1e-6)


def test_clip_loss_refuses_non_square_logits():
    with pytest.raises(ShapeError, match="clip_loss"):
        clip_loss(tg.zeros(3, 4))
    with pytest.raises(ValueError, match="clip_loss got NaN in the logits"):
        clip_loss(tg.tensor(np.full((2, 2), np.nan)))


def test_clip_loss_and_normalisation_pass_gradcheck():
    def fn(u, v):
        return clip_loss(3.0 * (l2_normalize(u) @ l2_normalize(v).T)).reshape(1)

    u = tg.randn(4, 3, seed=2, requires_grad=True)
    v = tg.randn(4, 3, seed=3, requires_grad=True)
    assert tg.gradcheck(fn, u, v)


def test_embeddings_have_unit_length():
    tokenizer, model = small_clip()
    images = tg.rand(3, 3, 4, 4, seed=0)
    ids = tokenizer(["a red circle", "a small blue square at the top left", "a"], 5)
    for embedding in (model.encode_image(images), model.encode_text(ids)):
        np.testing.assert_allclose(np.linalg.norm(embedding.numpy(), axis=1), 1.0, rtol=1e-5)
        assert embedding.shape == (3, 4)


def test_tokenizer_pads_with_zero_and_marks_unknown_words():
    tokenizer = CaptionTokenizer(["a", "red", "circle"])
    ids = tokenizer(["a red circle", "a blue circle"], 4)
    assert ids.dtype == np.int64 and ids.shape == (2, 4)
    assert ids[0, 3] == 0 and ids[1, 1] == 1  # padding, unknown "blue"
    assert ids[0, 1] == tokenizer.index["red"]


def test_padding_does_not_change_the_text_embedding():
    tokenizer, model = small_clip()
    short = model.encode_text(tokenizer(["a red circle"], 3)).numpy()
    padded = model.encode_text(tokenizer(["a red circle"], 5)).numpy()
    np.testing.assert_allclose(short, padded, atol=1e-5)


def test_the_temperature_is_clamped_at_100_and_gets_no_gradient_there():
    tokenizer, model = small_clip()
    model.logit_scale.data = model.logit_scale.data * 0 + 10.0  # exp(10) > 100
    images, ids = tg.rand(2, 3, 4, 4, seed=1), tokenizer(["a red circle", "a blue square"], 5)
    logits = model(images, ids)
    cosine = (model.encode_image(images) @ model.encode_text(ids).T).numpy()
    np.testing.assert_allclose(logits.numpy(), 100 * cosine, rtol=1e-4, atol=1e-5)
    clip_loss(logits).backward()
    assert float(model.logit_scale.grad.numpy()) == 0.0


def test_every_parameter_of_a_small_clip_passes_gradcheck():
    tokenizer, model = small_clip(words=["a", "red", "circle", "blue", "square"], image_side=2,
                                  width=4)
    images = tg.rand(3, 3, 2, 2, seed=4)
    ids = tokenizer(["a red circle", "a blue square", "a blue circle red"], 5)

    class LossOf(tg.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, images):
            return clip_loss(self.clip(images, ids)).reshape(1)

    assert check_module_gradients(LossOf(model), images)


def test_recall_at_k_counts_the_rank_of_the_match():
    similarity = np.array([[0.9, 0.1, 0.0],     # match first
                           [0.8, 0.5, 0.1],     # match second
                           [0.3, 0.9, 0.2]])    # match third (last)
    assert recall_at_k(similarity, ks=(1, 2, 3)) == {1: pytest.approx(1 / 3),
                                                     2: pytest.approx(2 / 3), 3: 1.0}
    assert recall_at_k(similarity, ks=(1,), targets=[0, 0, 1]) == {1: 1.0}


def test_demo_quick_learns_unseen_combinations_and_retrieves_them():
    pytest.importorskip("sklearn")
    from demos import clip_shapes

    results = clip_shapes.main(["--quick"])
    chance = results["chance"]                                     # 1/20
    assert results["zero_shot_unseen"] > 3 * chance                # never-seen colour+shape
    assert results["zero_shot_unseen_ensemble"] > 3 * chance
    assert results["i2t_recall@5"] > 10 * 5 * results["retrieval_chance@1"]
    assert results["t2i_recall@5"] > 10 * 5 * results["retrieval_chance@1"]
    assert results["reload_max_difference"] < 1e-5
    assert results["digits_zero_shot"] > 0.6                       # chance 10%


def test_text_encoder_refuses_ids_longer_than_its_positions():
    encoder = TransformerTextEncoder(10, 4, width=8, heads=2, layers=1, seed=0)
    with pytest.raises(ShapeError, match="token ids of length 5, but it has positions for at "
                                         "most 4"):
        encoder(np.ones((2, 5), dtype=np.int64))
    assert encoder(np.ones((2, 3), dtype=np.int64)).shape == (2, 8)  # shorter is fine

"""SigLIP's pairwise sigmoid loss (models/siglip.py): gradcheck, a NumPy reference, its limit."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.errors import ArgumentError, ShapeError
from tinygrad_course.gradcheck import gradcheck
from tinygrad_course.models.siglip import SigLIP, siglip_loss, train_contrastive


def numpy_siglip_loss(u, v, log_temperature, bias):
    """-(1/N) sum_ij log sigmoid(z_ij logit_ij), term by term in float64."""
    n = len(u)
    total = 0.0
    for i in range(n):
        for j in range(n):
            z = 1.0 if i == j else -1.0
            logit = math.exp(log_temperature) * float(np.dot(u[i], v[j])) + bias
            total += math.log1p(math.exp(-z * logit))  # -log sigmoid(z logit)
    return total / n


def unit_rows(rng, n, d):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_siglip_loss_matches_a_numpy_reference(n):
    rng = np.random.default_rng(n)
    u, v = unit_rows(rng, n, 4), unit_rows(rng, n, 4)
    t, b = 0.7, -1.3
    got = siglip_loss(tg.tensor(u, dtype=np.float64), tg.tensor(v, dtype=np.float64),
                      tg.tensor(t, dtype=np.float64), tg.tensor(b, dtype=np.float64))
    assert got.item() == pytest.approx(numpy_siglip_loss(u, v, t, b), rel=1e-12)


def test_siglip_loss_gradcheck_in_every_input():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    inputs = [tg.tensor(x, dtype=np.float64, requires_grad=True)
              for x in (u, v, np.array(0.4), np.array(-0.8))]
    assert gradcheck(siglip_loss, *inputs)


def test_siglip_loss_gradient_of_the_logits_is_sigmoid_minus_the_identity():
    """d loss / d logit_ij = (sigmoid(logit_ij) - [i == j]) / N: at t' = 0, b = 0 the logits
    are u v^T, so d loss / d u = ((sigmoid(u v^T) - I) / N) v."""
    rng = np.random.default_rng(1)
    u, v = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    ut = tg.tensor(u, dtype=np.float64, requires_grad=True)
    siglip_loss(ut, tg.tensor(v, dtype=np.float64), 0.0, 0.0).backward()
    expected = ((1 / (1 + np.exp(-u @ v.T)) - np.eye(3)) / 3) @ v
    np.testing.assert_allclose(ut.grad.numpy(), expected, rtol=1e-10)


def test_aligned_separated_batch_has_a_loss_near_zero_at_a_large_temperature():
    """u_i = v_i = e_i: matching pairs have cosine 1, the others 0. With b = -t/2 every logit
    is +-t/2 on the right side, so the loss is N log(1 + e^(-t/2)) -> 0 as t grows, and a
    shuffled (misaligned) batch is far worse."""
    n = 6
    u = np.eye(n)
    values = []
    for t in (2.0, 20.0, 200.0):
        loss = siglip_loss(tg.tensor(u), tg.tensor(u), math.log(t), -t / 2).item()
        assert loss == pytest.approx(n * math.log1p(math.exp(-t / 2)), rel=1e-4, abs=1e-30)
        values.append(loss)
    assert values[0] > values[1] > values[2] and values[2] < 1e-30
    shuffled = siglip_loss(tg.tensor(u), tg.tensor(np.roll(u, 1, axis=0)), math.log(20.0), -10.0)
    assert shuffled.item() > 10.0


def test_siglip_loss_rejects_mismatched_or_empty_embeddings():
    with pytest.raises(ShapeError, match="siglip_loss"):
        siglip_loss(tg.zeros(3, 4), tg.zeros(2, 4), 0.0, 0.0)
    with pytest.raises(ShapeError, match="siglip_loss"):
        siglip_loss(tg.zeros(0, 4), tg.zeros(0, 4), 0.0, 0.0)
    with pytest.raises(ShapeError, match="siglip_loss"):
        siglip_loss(np.zeros((2, 4)), tg.zeros(2, 4), 0.0, 0.0)
    with pytest.raises(ArgumentError, match="SigLIP"):
        SigLIP(tg.nn.Linear(2, 2))


def test_siglip_training_lowers_the_loss_and_learns_its_bias():
    """A few steps on the shapes data: the sigmoid loss falls; t' and b get gradients."""
    from demos import clip_shapes
    from tinygrad_course.data import shapes
    from tinygrad_course.models.clip import CaptionTokenizer

    tokenizer = CaptionTokenizer(shapes.caption_vocabulary())
    data = shapes.make_shapes(200, split="train", seed=0)
    ids = tokenizer(data["captions"], clip_shapes.MAX_LENGTH)
    model = SigLIP(clip_shapes.build(tokenizer, data["images"].shape[1:], seed=0))
    losses = train_contrastive(model, data["images"], ids, steps=25, batch_size=16, lr=3e-3)
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    assert model.bias.item() != -10.0 and model.log_temperature.item() != math.log(10.0)

"""GPT (causal LM), BERT (masked LM) and ViT (patch classifier): structure and learning.

Structure: GPT's logits at position t ignore later tokens, BERT's use both sides and ignore
padding, ViT's patches are cut in the documented order. Learning, on tiny data in seconds:
GPT memorises a periodic text and continues it greedily, BERT fills blanks that its
neighbours determine, ViT tells apart images whose patches differ only in position.
"""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.errors import DTypeError, ShapeError
from tinygrad_course.models.bert import BERT, IGNORE, mask_tokens
from tinygrad_course.models.gpt import GPT, CharVocab, sample_windows
from tinygrad_course.models.vit import ViT, patchify


def _train(model, batches, steps, lr=3e-3):
    opt = tg.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = model.loss(*next(batches))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# ----- GPT ---------------------------------------------------------------------------------
def test_char_vocab_round_trip_and_windows():
    vocab = CharVocab("hello world")
    assert vocab.decode(vocab.encode("low world")) == "low world"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("xyz")
    ids = np.arange(50)
    x, y = sample_windows(ids, 8, 4, np.random.default_rng(0))
    assert x.shape == y.shape == (4, 8)
    np.testing.assert_array_equal(y, x + 1)


def test_gpt_logits_ignore_later_tokens():
    model = GPT(11, 8, d_model=16, nhead=2, num_layers=2, seed=0)
    tokens = np.random.default_rng(1).integers(0, 11, size=(2, 8))
    changed = tokens.copy()
    changed[:, 5:] = (changed[:, 5:] + 3) % 11
    a, b = model(tokens).numpy(), model(changed).numpy()
    assert a.shape == (2, 8, 11)
    np.testing.assert_allclose(a[:, :5], b[:, :5], rtol=1e-5, atol=1e-6)
    assert np.abs(a[:, 5:] - b[:, 5:]).max() > 1e-3


def test_gpt_memorises_a_periodic_text_and_continues_it():
    text = "abcdefgh-" * 30
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    model = GPT(len(vocab), 12, d_model=32, nhead=4, num_layers=1, seed=0)
    rng = np.random.default_rng(0)
    batches = iter(lambda: sample_windows(ids, 12, 16, rng), None)
    losses = _train(model, batches, 60, lr=1e-2)
    assert losses[-1] < 0.1 * losses[0]  # from ~log(9) = 2.2 nats to near 0
    continued = vocab.decode(model.generate(vocab.encode("cdef"), 14, temperature=0))
    assert continued == "cdefgh-abcdefgh-ab"
    top1 = model.generate(vocab.encode("cdef"), 14, top_k=1, seed=3)
    assert vocab.decode(top1) == continued


def test_gpt_sampling_is_seeded_and_checks_input():
    model = GPT(5, 4, d_model=8, nhead=2, num_layers=1, seed=1)
    a = model.generate([0, 1], 10, seed=7)
    b = model.generate([0, 1], 10, seed=7)
    np.testing.assert_array_equal(a, b)
    assert len(a) == 12 and a.min() >= 0 and a.max() < 5
    with pytest.raises(ShapeError, match="block_size"):
        model(np.zeros((1, 5), dtype=np.int64))
    with pytest.raises(DTypeError, match="integers"):
        model(tg.zeros(1, 3))


# ----- BERT --------------------------------------------------------------------------------
def test_mask_tokens_follows_the_80_10_10_rule():
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 50, size=(200, 100))
    tokens[:, -10:] = 0  # padding, never picked
    inputs, targets = mask_tokens(tokens, mask_id=50, vocab_size=51, rng=rng, special_ids=[0])
    picked = targets != IGNORE
    assert not picked[:, -10:].any()
    assert abs(picked[:, :-10].mean() - 0.15) < 0.01
    np.testing.assert_array_equal(targets[picked], tokens[picked])
    np.testing.assert_array_equal(inputs[~picked], tokens[~picked])
    masked = (inputs[picked] == 50).mean()
    unchanged = (inputs[picked] == tokens[picked]).mean()
    assert abs(masked - 0.8) < 0.02
    assert abs(unchanged - (0.1 + 0.1 / 51)) < 0.02  # kept, or randomised to itself


def test_bert_sees_both_sides_and_ignores_padding():
    model = BERT(12, 10, d_model=16, nhead=2, num_layers=2, seed=0)
    rng = np.random.default_rng(1)
    tokens = rng.integers(1, 12, size=(2, 10))
    tokens[:, 7:] = 0
    padding = tg.tensor(tokens == 0)
    other = tokens.copy()
    other[:, 7:] = 5  # different pad content: invisible behind the mask
    a = model(tokens, padding).numpy()
    b = model(other, padding).numpy()
    np.testing.assert_allclose(a[:, :7], b[:, :7], rtol=1e-5, atol=1e-6)
    later = tokens.copy()
    later[:, 6] = (later[:, 6] % 11) + 1  # a token AFTER position 2 changes position 2
    c = model(later, padding).numpy()
    assert np.abs(c[:, 2] - a[:, 2]).max() > 1e-4


def test_bert_loss_counts_only_picked_positions():
    model = BERT(7, 6, d_model=8, nhead=2, num_layers=1, seed=2)
    tokens = np.array([[1, 2, 3, 4, 5, 6]])
    targets = np.full_like(tokens, IGNORE)
    targets[0, [1, 4]] = [2, 5]
    logp = model(tokens).log_softmax(axis=-1).numpy()[0]
    expected = -(logp[1, 2] + logp[4, 5]) / 2
    assert model.loss(tokens, targets).item() == pytest.approx(expected, rel=1e-5)


def test_bert_learns_blanks_fixed_by_their_neighbours():
    """Sequences count up by one mod 10 from a random start: a blank is its left neighbour
    plus one and its right neighbour minus one, so context gives it away."""
    rng = np.random.default_rng(0)
    model = BERT(11, 8, d_model=32, nhead=4, num_layers=2, seed=0)

    def batch(n=32):
        starts = rng.integers(0, 10, size=(n, 1))
        tokens = (starts + np.arange(8)) % 10
        return mask_tokens(tokens, mask_id=10, vocab_size=10, rng=rng, mask_prob=0.2)

    batches = iter(batch, None)
    _train(model, batches, 100, lr=3e-3)
    inputs, targets = batch(512)  # ~800 blanks; chance is 1 in 10
    assert model.masked_accuracy(inputs, targets) > 0.8


# ----- ViT ---------------------------------------------------------------------------------
def test_patchify_cuts_patches_row_by_row():
    images = np.arange(2 * 3 * 4 * 6, dtype=np.float32).reshape(2, 3, 4, 6)
    patches = patchify(tg.tensor(images), 2).numpy()
    assert patches.shape == (2, 6, 12)
    for n in range(2):
        for i in range(2):
            for j in range(3):
                expected = images[n, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(-1)
                np.testing.assert_array_equal(patches[n, i * 3 + j], expected)
    with pytest.raises(ShapeError, match="multiple of patch_size"):
        patchify(tg.tensor(images), 4)


def test_vit_uses_position_to_classify():
    """Every image holds one bright 4x4 patch; the class is WHERE it is. The patches' content
    is identical, so only the position embeddings can tell the classes apart."""
    rng = np.random.default_rng(0)
    model = ViT(8, 4, 4, d_model=16, nhead=2, num_layers=1, seed=0)
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)

    def batch(n):
        labels = rng.integers(0, 4, size=n)
        images = rng.normal(0, 0.1, size=(n, 8, 8)).astype(np.float32)
        for k, (r, c) in enumerate([(0, 0), (0, 4), (4, 0), (4, 4)]):
            images[labels == k, r:r + 4, c:c + 4] += 1.0
        return tg.tensor(images), labels

    for _ in range(40):
        images, labels = batch(32)
        loss = tg.functional.cross_entropy(model(images), tg.tensor(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
    images, labels = batch(200)
    with tg.no_grad():
        accuracy = (model(images).numpy().argmax(axis=1) == labels).mean()
    assert accuracy > 0.95
    assert model(images[:3]).shape == (3, 4)
    with pytest.raises(ShapeError, match="ViT"):
        model(tg.zeros(2, 1, 6, 6))

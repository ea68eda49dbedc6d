"""SigLIP's pairwise sigmoid loss (models/siglip.py): gradcheck, a NumPy reference, its limit;
BERT's next-sentence pairs and head (models/bert_nsp.py); word2vec's hierarchical softmax
(models/word2vec_hs.py)."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import backend
from tinygrad_course.errors import ArgumentError, ShapeError
from tinygrad_course.gradcheck import gradcheck
from tinygrad_course.models.bert import BERT
from tinygrad_course.models.bert_nsp import NSPHead, make_nsp_pairs, pretraining_losses
from tinygrad_course.models.siglip import SigLIP, siglip_loss, train_contrastive
from tinygrad_course.models.word2vec_hs import Word2VecHS, huffman_tree


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


# ---------------------------------------------------------------- BERT next-sentence prediction

CLS, SEP, PAD = 100, 101, 102


def nsp_pairs(count=41, max_len=11, seed=0, follows=None):
    """Sentence k is [k, k, ...] (length 2 + k % 5), so each token says which sentence it is."""
    sentences = [[k] * (2 + k % 5) for k in range(count)]
    return sentences, make_nsp_pairs(sentences, np.random.default_rng(seed), CLS, SEP, PAD,
                                     max_len, follows=follows)


@pytest.mark.parametrize("count,seed", [(41, 0), (42, 1), (9, 2)])
def test_nsp_pairs_are_half_next_with_segments_and_separators_in_place(count, seed):
    max_len = 11
    half = (max_len - 3) // 2
    sentences, (tokens, segments, is_next) = nsp_pairs(count, max_len, seed)
    assert tokens.shape == segments.shape == (count - 1, max_len)
    assert is_next.sum() == (count - 1) // 2          # exactly half (rounded down) IsNext
    for i, (row, segment, label) in enumerate(zip(tokens, segments, is_next)):
        real = row[row != PAD]
        seps = np.flatnonzero(real == SEP)
        assert real[0] == CLS and len(seps) == 2 and seps[1] == len(real) - 1
        a, b = real[1:seps[0]], real[seps[0] + 1:seps[1]]
        assert list(a) == sentences[i][-half:]                  # the end of A
        assert np.all(row[len(real):] == PAD)
        assert np.all(segment[:seps[0] + 1] == 0) and np.all(segment[seps[0] + 1:len(real)] == 1)
        assert np.all(segment[len(real):] == 0)
        j = int(b[0])
        assert list(b) == sentences[j][:half]                   # the start of B
        assert (j == i + 1) == bool(label) and j != i


def test_nsp_pairs_only_start_where_a_sentence_follows():
    follows = np.ones(20, dtype=bool)
    follows[[4, 9, 10]] = False  # e.g. the last verse of a chapter
    _, (tokens, _, is_next) = nsp_pairs(21, follows=follows)
    assert len(tokens) == 17 and set(tokens[:, 1]) == set(range(20)) - {4, 9, 10}
    with pytest.raises(ShapeError, match="make_nsp_pairs"):
        make_nsp_pairs([[1], [2], [3]], np.random.default_rng(0), CLS, SEP, PAD, 4)


def test_nsp_head_gradcheck():
    head = NSPHead(3, seed=0)
    hidden = np.random.default_rng(0).normal(size=(2, 4, 3))
    labels = tg.tensor(np.array([0, 1]))
    for p in head.parameters():
        p.data = p.data.astype(np.float64)
    assert gradcheck(lambda h: tg.functional.cross_entropy(head(h), labels),
                     tg.tensor(hidden, dtype=np.float64, requires_grad=True))


def test_nsp_loss_falls_when_segment_b_reveals_the_label():
    """A task the head can learn: B is token 1 (IsNext) or token 2; the NSP loss must fall."""
    rng = np.random.default_rng(0)
    bert = BERT(8, 6, d_model=16, nhead=2, num_layers=1, type_vocab_size=2, seed=0)
    head = NSPHead(16, seed=1)
    opt = tg.optim.Adam(list(bert.parameters()) + list(head.parameters()), lr=1e-2)
    losses = []
    for _ in range(60):
        is_next = rng.integers(0, 2, 32)
        tokens = np.stack([[5, 3, 6, np.where(n, 1, 2), 6, 7] for n in is_next])
        segments = np.array([[0, 0, 0, 1, 1, 0]] * 32)
        targets = np.where(np.arange(6) == 0, 5, -100)[None].repeat(32, axis=0)  # one MLM blank
        _, nsp, _, _ = pretraining_losses(bert, head, tokens, targets, segments,
                                          tg.tensor(tokens == 7), is_next)
        opt.zero_grad()
        nsp.backward()
        opt.step()
        losses.append(nsp.item())
    # measured: 0.69 (log 2) for ~30 steps, then 0.39, 0.07, ... 0.003 at step 60
    assert np.mean(losses[:3]) > 0.6 and np.mean(losses[-5:]) < 0.05


# ---------------------------------------------------------------- word2vec, hierarchical softmax


def set_table(parameter, values):
    """Overwrite a parameter's values in place, on whatever device it lives."""
    values = np.asarray(values, dtype=parameter.dtype)
    parameter.data[...] = backend.from_numpy(values, parameter.device)


def zipf_corpus(words=40, sentences=200, seed=7):
    from tinygrad_course.text import Vocab

    rng = np.random.default_rng(seed)
    names = [f"w{i}" for i in range(words)]
    p = 1.0 / np.arange(1, words + 1)
    tokens = [list(rng.choice(names, 15, p=p / p.sum())) for _ in range(sentences)]
    return Vocab(tokens), tokens


def test_huffman_tree_matches_the_textbook_example_and_is_prefix_free():
    counts = np.array([0, 5, 9, 12, 13, 16, 45])  # word 0: count 0, outside the tree
    points, left, lengths = huffman_tree(counts)
    assert lengths.tolist() == [0, 4, 4, 3, 3, 3, 1]
    codes = {tuple(left[w, :lengths[w]]) for w in range(1, 7)}
    assert len(codes) == 6
    for a in codes:  # no code is a prefix of another: each word is a leaf
        assert not any(b != a and b[:len(a)] == a for b in codes)
    assert np.all(points[1:, 0] == 0) and points.max() == 4  # root 0; 5 internal nodes


@pytest.mark.parametrize("sg", [True, False])
def test_hierarchical_softmax_leaf_probabilities_sum_to_one(sg):
    vocab, _ = zipf_corpus()
    model = Word2VecHS(vocab, 6, sg=sg, seed=0)
    rng = np.random.default_rng(1)
    set_table(model.out_embed.weight, rng.normal(size=model.out_embed.weight.shape))
    probabilities = np.exp(model.log_probabilities(rng.normal(size=(4, 6))))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert probabilities[:, ~model.trained].max() == 0.0


def test_hierarchical_softmax_step_is_minus_lr_times_the_gradient():
    """row_rates=False: both tables move by -lr dL/dtable, L = -sum_b log P(o_b | v_c_b);
    the gradient by central differences of log_probabilities (float64)."""
    vocab, _ = zipf_corpus()
    model = Word2VecHS(vocab, 4, sg=True, seed=0)
    rng = np.random.default_rng(2)
    set_table(model.out_embed.weight, rng.normal(0, 0.5, size=model.out_embed.weight.shape))
    centre, target = np.array([3, 5, 3]), np.array([7, 1, 2])
    w_in = model.in_embed.weight.numpy().astype(np.float64)
    w_out = model.out_embed.weight.numpy().astype(np.float64)

    def loss(w_in, w_out):
        set_table(model.out_embed.weight, w_out)
        return -model.log_probabilities(w_in[centre])[np.arange(3), target].sum()

    numeric = np.zeros_like(w_out)
    for index in np.ndindex(*w_out.shape):
        step = np.zeros_like(w_out)
        step[index] = 1e-5
        numeric[index] = (loss(w_in, w_out + step) - loss(w_in, w_out - step)) / 2e-5
    expected_loss = loss(w_in, w_out)
    lr = 0.1
    reported = model.sgd_step(centre, np.stack([target, target], axis=1), lr,
                              row_rates=False)
    assert reported == pytest.approx(expected_loss, rel=1e-5)
    moved = (model.out_embed.weight.numpy() - w_out.astype(np.float32)) / -lr
    np.testing.assert_allclose(moved, numeric, atol=2e-4)


@pytest.mark.parametrize("sg", [True, False])
def test_hierarchical_softmax_training_learns_the_topic_of_a_sentence(sg):
    """Each sentence draws its 15 words from one of 5 topics of 8 words: the context tells
    the topic, so the best -log P is log 8 = 2.08 nats against log 40 = 3.69 without it
    (measured after 5 epochs: 2.09 for skip-gram and for CBOW, from 3.72)."""
    from tinygrad_course.models.word2vec import corpus_arrays
    from tinygrad_course.text import Vocab

    rng = np.random.default_rng(3)
    tokens = [[f"t{topic}w{w}" for w in rng.integers(0, 8, 15)]
              for topic in rng.integers(0, 5, 400)]
    vocab = Vocab(tokens)
    ids, sentence_ids = corpus_arrays(vocab, tokens)
    model = Word2VecHS(vocab, 10, sg=sg, seed=0, sample=0)
    before = model.evaluate_loss(ids, sentence_ids)
    model.fit(ids, sentence_ids, epochs=5, lr=0.05, batch_size=256)
    after = model.evaluate_loss(ids, sentence_ids)
    assert before > 3.6 and after < np.log(8) + 0.1

"""Seq2seq, text CNN and bag of words, and the seeded sequence tasks behind their demos."""

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.data.sequences import (
    EOS,
    NEGATION_WORDS,
    PAD,
    build_vocabulary,
    encode_sentences,
    make_adding_problem,
    make_negation_task,
    make_seq2seq_task,
)
from tinygrad_course.errors import ShapeError
from tinygrad_course.models.seq2seq import AdditiveAttention, Seq2Seq, exact_match
from tinygrad_course.models.text_cnn import BagOfWords, TextCNN


def small_batch(max_len=4, n=3, seed=0):
    data = make_seq2seq_task(n, 1, max_len, n_symbols=4, seed=seed)
    longest = int(data["src_lengths"].max())
    return (data["src"][:, :longest], data["src_lengths"], data["tgt_in"][:, :longest + 1],
            data["tgt_out"][:, :longest + 1], data["vocab_size"])


# ----- seq2seq ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("attention", [False, True])
def test_teacher_forcing_equals_decoding_one_step_at_a_time(cell, attention):
    src, lengths, tgt_in, _, vocab = small_batch()
    model = Seq2Seq(vocab, vocab, embed_dim=4, hidden_size=5, cell=cell, attention=attention)
    all_at_once = model(src, lengths, tgt_in).numpy()
    annotations, state, real = model.encode(src, lengths)
    for t in range(tgt_in.shape[1]):
        step = tg.tensor(tgt_in[:, t:t + 1])
        logits, state, _ = model.decode(step, state, annotations, real)
        np.testing.assert_allclose(logits.numpy()[:, 0], all_at_once[:, t], rtol=1e-5,
                                   atol=1e-6)


def test_additive_attention_weights_are_a_masked_average(rng):
    attend = AdditiveAttention(3, 4, 5, seed=0)
    queries, keys = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 6, 4))
    real = np.arange(6)[None, :] < np.array([[4], [6]])
    context, weights = attend(tg.tensor(queries), tg.tensor(keys), tg.tensor(real))
    w = weights.numpy()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-6)
    assert np.all(w[0, :, 4:] == 0)
    np.testing.assert_allclose(context.numpy(), w @ keys, rtol=1e-5, atol=1e-6)
    scores = np.tanh((queries @ attend.query_layer.weight.numpy().T)[:, :, None]
                     + (keys @ attend.key_layer.weight.numpy().T)[:, None]) @ \
        attend.score_layer.weight.numpy()[0]
    expected = np.exp(scores[1] - scores[1].max(-1, keepdims=True))
    np.testing.assert_allclose(w[1], expected / expected.sum(-1, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_padding_in_the_batch_changes_nothing(cell):
    src, lengths, tgt_in, _, vocab = small_batch(max_len=5, n=4, seed=3)
    model = Seq2Seq(vocab, vocab, embed_dim=4, hidden_size=5, cell=cell, attention=True)
    batched = model(src, lengths, tgt_in).numpy()
    for b, n in enumerate(lengths):
        alone = model(src[b:b + 1, :n], lengths[b:b + 1], tgt_in[b:b + 1]).numpy()
        np.testing.assert_allclose(batched[b], alone[0], rtol=1e-5, atol=1e-6)


class Loss(nn.Module):
    def __init__(self, model, batch):
        super().__init__()
        self.model, self.batch = model, batch

    def forward(self):
        return self.model.loss(*self.batch)


def test_seq2seq_with_attention_gradcheck():
    src, lengths, tgt_in, tgt_out, vocab = small_batch(max_len=3, n=2)
    model = Seq2Seq(vocab, vocab, embed_dim=2, hidden_size=2, attention=True, attention_size=2)
    assert check_module_gradients(Loss(model, (src, lengths, tgt_in, tgt_out)))


def test_loss_ignores_padding_targets():
    src, lengths, tgt_in, tgt_out, vocab = small_batch(n=3)
    model = Seq2Seq(vocab, vocab, embed_dim=4, hidden_size=5)
    logits = model(src, lengths, tgt_in).numpy()
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    real = tgt_out != PAD
    rows, cols = np.nonzero(real)
    expected = -logp[rows, cols, tgt_out[rows, cols]].mean()
    assert model.loss(src, lengths, tgt_in, tgt_out).item() == pytest.approx(expected, rel=1e-5)


def test_greedy_decoding_stops_at_eos_and_exact_match():
    src, lengths, _, _, vocab = small_batch(n=5)
    model = Seq2Seq(vocab, vocab, embed_dim=4, hidden_size=5, attention=True)
    ids, attention = model.greedy_decode(src, lengths, max_len=7, return_attention=True)
    assert ids.shape[0] == 5 and ids.shape[1] <= 7
    assert attention.shape == (5, ids.shape[1], src.shape[1])
    for row in ids:
        ends = np.nonzero(row == EOS)[0]
        if len(ends):
            assert np.all(row[ends[0] + 1:] == PAD)
    assert exact_match(np.array([[5, 4, EOS, PAD], [5, 4, 3, EOS]]), [[5, 4, EOS], [5, 4, EOS]]
                       ) == 0.5
    assert exact_match(np.array([[5, 4]]), [[5, 4, EOS]]) == 0.0
    with pytest.raises(ShapeError, match="src must be integer token ids"):
        model(np.zeros((2, 3)), [3, 3], np.zeros((2, 3), dtype=np.int64))


# ----- text CNN and bag of words ----------------------------------------------------------------
def test_text_cnn_ignores_padding_and_sees_order():
    model = TextCNN(10, 2, embed_dim=4, num_filters=3, kernel_sizes=(2, 3), seed=0)
    ids = np.array([[3, 4, 5, 6, 0, 0], [6, 5, 4, 3, 7, 8]])
    lengths = np.array([4, 6])
    batched = model(ids, lengths).numpy()
    alone = model(ids[:1, :4]).numpy()
    np.testing.assert_allclose(batched[0], alone[0], rtol=1e-5, atol=1e-6)
    reordered = model(np.array([[6, 5, 4, 3]])).numpy()
    assert not np.allclose(alone, reordered)


def test_text_cnn_gradcheck(rng):
    model = TextCNN(6, 2, embed_dim=2, num_filters=2, kernel_sizes=(2,), seed=0)
    ids = np.array([[1, 2, 3, 0], [4, 5, 1, 2]])

    class Logits(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self):
            return self.model(ids, [3, 4])

    assert check_module_gradients(Logits())


def test_bag_of_words_counts_and_is_blind_to_order():
    model = BagOfWords(6, 2, hidden_size=4, seed=0)
    counts = model.counts(np.array([[1, 2, 2, 0], [5, 5, 5, 5]])).numpy()
    np.testing.assert_array_equal(counts, [[0, 1, 2, 0, 0, 0], [0, 0, 0, 0, 0, 4]])
    a = model(np.array([[1, 2, 3, 4]])).numpy()
    b = model(np.array([[4, 3, 2, 1]])).numpy()
    np.testing.assert_allclose(a, b)


# ----- the seeded tasks --------------------------------------------------------------------------
def test_adding_problem_targets_are_the_marked_sum():
    x, y = make_adding_problem(50, 10, seed=0)
    assert x.shape == (10, 50, 2) and y.shape == (50,)
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:5].sum(axis=0) == 1) and np.all(markers[5:].sum(axis=0) == 1)
    np.testing.assert_allclose((x[:, :, 0] * markers).sum(axis=0), y, rtol=1e-6)
    x2, _ = make_adding_problem(50, 10, seed=0)
    np.testing.assert_array_equal(x, x2)


@pytest.mark.parametrize("task", ["reverse", "copy", "sort"])
def test_seq2seq_task_targets(task):
    data = make_seq2seq_task(20, 2, 6, task=task, seed=1)
    for i, n in enumerate(data["src_lengths"]):
        symbols = list(data["src"][i, :n])
        expected = {"reverse": symbols[::-1], "copy": symbols, "sort": sorted(symbols)}[task]
        assert data["targets"][i] == expected + [EOS]
        assert list(data["tgt_out"][i, :n + 1]) == expected + [EOS]
        assert list(data["tgt_in"][i, 1:n + 1]) == expected
        assert np.all(data["src"][i, n:] == PAD)


def test_negation_task_labels_follow_the_word_in_front_of_the_opinion():
    sentences, labels, ceiling = make_negation_task(300, seed=2)
    assert ceiling == 0.75
    positive = set(NEGATION_WORDS["positive"])
    opinions = positive | set(NEGATION_WORDS["negative"])
    for sentence, label in zip(sentences, labels):
        (where,) = [i for i, w in enumerate(sentence) if w in opinions]
        negated = sentence[where - 1] == "not"
        assert label == int((sentence[where] in positive) != negated)
        assert sentence.count("not") <= 2
    vocab = build_vocabulary(sentences)
    ids, lengths = encode_sentences(sentences[:3], vocab)
    assert vocab["<pad>"] == 0 and ids.shape == (3, lengths.max())
    assert [vocab[w] for w in sentences[0]] == list(ids[0, :lengths[0]])

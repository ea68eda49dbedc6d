"""Language models beyond the basics: the class-factored softmax of the neural n-gram LM,
the sequence tagger, the noisy channel, SigLIP (each against a definition it must match)."""

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course.errors import ArgumentError, ShapeError
from tinygrad_course.models.ngram_lm import ClassFactoredSoftmax, NeuralNGramLM
from tinygrad_course.models.tagger import SequenceTagger, token_f1


# ----- class-factored softmax -----------------------------------------------------------------
@pytest.mark.parametrize("vocab_size,n_classes", [(23, None), (23, 4), (16, 16), (5, 1)])
def test_factored_softmax_is_a_distribution_and_log_prob_reads_it(vocab_size, n_classes):
    rng = np.random.default_rng(vocab_size)
    head = ClassFactoredSoftmax(6, rng.integers(0, 50, vocab_size), n_classes, seed=0)
    h = tg.tensor(rng.normal(size=(4, 6)), dtype=np.float32)
    log_p = head.log_probs(h).numpy()
    assert log_p.shape == (4, vocab_size)
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, rtol=1e-5)
    targets = rng.integers(0, vocab_size, 4)
    np.testing.assert_allclose(head.log_prob(h, targets).numpy(), log_p[np.arange(4), targets],
                               rtol=1e-5, atol=1e-6)


def test_factored_softmax_puts_the_most_frequent_words_in_the_first_class():
    counts = np.array([5, 100, 1, 50, 7, 3])
    head = ClassFactoredSoftmax(4, counts, n_classes=3, seed=0)
    assert head.per_class == 2
    assert head.class_of.tolist() == [1, 0, 2, 0, 1, 2]


def test_neural_lm_with_factored_softmax_has_correct_gradients():
    model = NeuralNGramLM(11, 2, embedding_dim=3, hidden_size=5, seed=0,
                          word_counts=np.arange(11), n_classes=4)

    class Loss(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self):
            return self.model.loss(np.array([[1, 2], [3, 3], [0, 10]]), np.array([4, 0, 10]))

    assert check_module_gradients(Loss())


def test_factored_and_full_loss_agree_with_the_log_probabilities():
    model = NeuralNGramLM(9, 2, embedding_dim=3, hidden_size=4, seed=1,
                          word_counts=np.arange(9)[::-1], n_classes=3)
    contexts, targets = np.array([[1, 2], [0, 8]]), np.array([5, 7])
    log_p = model(tg.tensor(contexts)).log_softmax(axis=-1).numpy()
    assert model.loss(contexts, targets).item() == pytest.approx(
        -log_p[[0, 1], targets].mean(), rel=1e-5)
    np.testing.assert_allclose(model.log_prob(contexts, targets), log_p[[0, 1], targets],
                               rtol=1e-5)


def test_factored_softmax_bad_input():
    with pytest.raises(ArgumentError, match="n_classes"):
        ClassFactoredSoftmax(4, np.ones(5), n_classes=6)
    head = ClassFactoredSoftmax(4, np.ones(5), seed=0)
    with pytest.raises(ShapeError, match="targets must be ids"):
        head.log_prob(tg.zeros(2, 4), np.array([0, 5]))
    with pytest.raises(ShapeError, match="word_counts"):
        NeuralNGramLM(5, 2, word_counts=np.ones(4))


# ----- sequence tagger ------------------------------------------------------------------------
def tiny_tagger(**options):
    return SequenceTagger(3, vocab_size=7, embedding_dim=4, hidden_size=3, seed=0, **options)


def test_only_the_bidirectional_tagger_sees_the_right_context():
    ids = np.array([[1, 2, 3, 4]])
    changed = np.array([[1, 2, 3, 6]])  # the last word differs
    mask = np.ones((1, 4), bool)
    for bidirectional in (False, True):
        model = tiny_tagger(bidirectional=bidirectional)
        first = model.emissions(ids, mask).numpy()[0, :3]
        again = model.emissions(changed, mask).numpy()[0, :3]
        assert np.allclose(first, again) != bidirectional


def test_crf_tagger_loss_marginalises_unscored_tags():
    model = tiny_tagger(crf=True)
    ids, tags = np.array([[1, 2, 3]]), np.array([[2, 0, 1]])
    mask = np.ones((1, 3), bool)
    e = model.emissions(ids, mask)
    nll = model.loss(ids, tags, mask).item()  # every tag known: (log Z - s(y)) / 3 tokens
    assert nll == pytest.approx(model.crf(e, tags, mask).item() / 3, rel=1e-5)
    # the middle tag unknown: -log sum_y2 P(y1, y2, y3), over the 2 labelled tokens
    paths = [np.array([[2, y, 1]]) for y in range(3)]
    probability = sum(np.exp(-model.crf(e, p, mask).item()) for p in paths)
    scored = np.array([[True, False, True]])
    assert model.loss(ids, tags, mask, scored).item() == pytest.approx(
        -np.log(probability) / 2, rel=1e-5)


@pytest.mark.parametrize("crf", [False, True])
def test_tagger_gradients(crf):
    model = tiny_tagger(crf=crf)
    ids, tags = np.array([[1, 2, 3], [4, 5, 0]]), np.array([[2, 0, 1], [1, 1, 0]])
    mask = np.array([[True] * 3, [True, True, False]])
    scored = np.array([[True, False, True], [True, True, False]])

    class Loss(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self):
            return self.model.loss(ids, tags, mask, scored)

    assert check_module_gradients(Loss(), atol=1e-4)


def test_tagger_predictions_and_token_f1():
    model = tiny_tagger(crf=True)
    mask = np.array([[True] * 3, [True, False, False]])
    predicted = model.predict(np.array([[1, 2, 3], [4, 0, 0]]), mask)
    assert predicted.shape == (2, 3) and predicted[1, 1:].tolist() == [0, 0]
    gold, pred = np.array([1, 1, 0, 0, 1]), np.array([1, 0, 1, 0, 1])
    assert token_f1(pred, gold, np.ones(5, bool)) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    with pytest.raises(ShapeError, match="exactly one"):
        SequenceTagger(2)

"""Language models beyond the basics: the class-factored softmax of the neural n-gram LM,
the sequence tagger, the noisy channel, SigLIP (each against a definition it must match)."""

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course.errors import ArgumentError, ShapeError
from tinygrad_course.models.ngram_lm import ClassFactoredSoftmax, NeuralNGramLM


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

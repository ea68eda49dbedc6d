"""n-gram language models: examples, count models (add-k, Kneser-Ney) against reference
implementations written with loops and dicts, normalisation, and the neural model."""

from collections import Counter, defaultdict

import numpy as np
import pytest
from helpers_nn import check_module_gradients
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course.models.ngram_lm import (
    AdditiveLM,
    KneserNeyLM,
    NeuralNGramLM,
    ngram_examples,
    perplexity,
)

BOS, EOS = 1, 2


def test_ngram_examples_pad_each_sentence_and_predict_its_end():
    ids = np.array([5, 6, 7, 8])  # sentences [5, 6, 7] and [8]
    contexts, targets = ngram_examples(ids, [0, 3, 4], context_size=2, bos_id=BOS, eos_id=EOS)
    assert contexts.tolist() == [[1, 1], [1, 5], [5, 6], [6, 7], [1, 1], [1, 8]]
    assert targets.tolist() == [5, 6, 7, 2, 8, 2]
    with pytest.raises(ValueError, match="context_size"):
        ngram_examples(ids, [0, 4], 0, BOS, EOS)


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    assert perplexity(np.full(7, -np.log(50.0))) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="no words"):
        perplexity([])


sentences = st.lists(st.lists(st.integers(3, 7), min_size=1, max_size=8), min_size=1,
                     max_size=6)


def examples_of(sents, context_size):
    ids = np.array([w for s in sents for w in s], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sents])])
    return ngram_examples(ids, offsets, context_size, BOS, EOS)


class ReferenceKneserNey:
    """Interpolated Kneser-Ney with dicts and loops, straight from the equations."""

    def __init__(self, order, vocab_size, contexts, targets):
        self.order, self.vocab_size = order, vocab_size
        grams = [tuple(c[len(c) - (order - 1):]) + (t,) for c, t in
                 zip(contexts.tolist(), targets.tolist())]
        self.counts = {order: Counter(grams)}
        for k in range(order - 1, 0, -1):  # continuation counts from the distinct (k+1)-grams
            self.counts[k] = Counter(g[1:] for g in self.counts[k + 1])
        self.discount = {}
        for k, counts in self.counts.items():
            n1 = sum(1 for c in counts.values() if c == 1)
            n2 = sum(1 for c in counts.values() if c == 2)
            self.discount[k] = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5

    def prob(self, context, word):
        p = 1.0 / self.vocab_size
        for k in range(1, self.order + 1):
            h = tuple(context[len(context) - (k - 1):]) if k > 1 else ()
            following = {g[-1]: c for g, c in self.counts[k].items() if g[:-1] == h}
            total = sum(following.values())
            if total > 0:
                d = self.discount[k]
                p = (max(following.get(word, 0) - d, 0) + d * len(following) * p) / total
        return p


@given(sentences, st.integers(1, 3))
def test_kneser_ney_matches_the_reference_and_sums_to_one(sents, order):
    vocab_size = 8
    contexts, targets = examples_of(sents, max(order - 1, 1))
    model = KneserNeyLM(order, vocab_size).fit(contexts, targets)
    reference = ReferenceKneserNey(order, vocab_size, contexts, targets)
    probe_contexts = np.concatenate([contexts[:3], np.full((1, contexts.shape[1]), 4)])  # seen
    words = np.arange(vocab_size)                                         # and maybe unseen
    for context in probe_contexts:
        grid = np.repeat(context[None, :], vocab_size, axis=0)
        p = np.exp(model.log_prob(grid, words))
        assert p.sum() == pytest.approx(1.0, abs=1e-9)
        expected = [reference.prob(context.tolist(), w) for w in words]
        np.testing.assert_allclose(p, expected, rtol=1e-9)


@given(sentences, st.floats(0.1, 2.0))
def test_additive_smoothing_matches_the_formula_and_sums_to_one(sents, k):
    vocab_size = 8
    contexts, targets = examples_of(sents, 1)
    model = AdditiveLM(2, vocab_size, k=k).fit(contexts, targets)
    pairs = Counter(zip(contexts[:, -1].tolist(), targets.tolist()))
    totals = defaultdict(int)
    for (h, _), c in pairs.items():
        totals[h] += c
    for h in (contexts[0, -1], 4):
        p = np.exp(model.log_prob(np.full((vocab_size, 1), h), np.arange(vocab_size)))
        expected = [(pairs[(h, w)] + k) / (totals[h] + k * vocab_size) for w in range(vocab_size)]
        np.testing.assert_allclose(p, expected, rtol=1e-9)


def test_kneser_ney_backs_off_to_continuation_counts():
    """'francisco' is frequent but follows only 'san': after an unseen context it should get
    less probability than 'glasses', which follows many different words."""
    words = {"<unk>": 0, "<s>": 1, "</s>": 2, "san": 3, "francisco": 4, "glasses": 5, "red": 6,
             "old": 7, "new": 8, "my": 9, "the": 10}
    text = [["san", "francisco"]] * 6 + [[w, "glasses"] for w in ("red", "old", "new", "my")]
    ids = np.array([words[w] for s in text for w in s])
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in text])])
    contexts, targets = ngram_examples(ids, offsets, 1, 1, 2)
    model = KneserNeyLM(2, len(words)).fit(contexts, targets)
    after_the = model.log_prob(np.array([[10], [10]]), np.array([4, 5]))
    assert after_the[1] > after_the[0]  # raw unigram counts would say the opposite


def test_count_models_check_their_input():
    with pytest.raises(ValueError, match="do not fit in int64"):
        KneserNeyLM(5, 10_000)
    with pytest.raises(ValueError, match="order"):
        AdditiveLM(0, 10)
    with pytest.raises(ValueError, match="k must be"):
        AdditiveLM(2, 10, k=0)
    model = KneserNeyLM(3, 10)
    with pytest.raises(RuntimeError, match="fit first"):
        model.log_prob(np.zeros((1, 2), int), np.zeros(1, int))
    with pytest.raises(ValueError, match="contexts must be"):
        model.fit(np.zeros((4, 1), int), np.zeros(4, int))
    with pytest.raises(ValueError, match="ids in"):
        model.fit(np.zeros((4, 2), int), np.full(4, 10))


# ----- neural -----------------------------------------------------------------------------------
def test_neural_lm_shapes_loss_and_normalisation():
    model = NeuralNGramLM(11, 3, embedding_dim=4, hidden_size=5, seed=0)
    contexts = np.random.default_rng(0).integers(0, 11, (6, 3))
    targets = np.arange(6)
    logits = model(tg.tensor(contexts))
    assert logits.shape == (6, 11)
    log_p = logits.numpy() - np.log(np.exp(logits.numpy()).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(6), targets].mean()
    assert model.loss(tg.tensor(contexts), tg.tensor(targets)).item() == pytest.approx(
        expected, rel=1e-5)
    every_word = model.log_prob(np.repeat(contexts[:1], 11, axis=0), np.arange(11))
    assert np.exp(every_word).sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(model.log_prob(contexts, targets, batch_size=4),
                               log_p[np.arange(6), targets], rtol=1e-5, atol=1e-6)


def test_neural_lm_gradients():
    model = NeuralNGramLM(7, 2, embedding_dim=3, hidden_size=4, seed=1)
    model.eval()
    contexts = tg.tensor(np.array([[0, 3], [6, 6], [2, 5]]))
    assert check_module_gradients(model, contexts)


def test_neural_lm_learns_what_counting_cannot_share():
    """Words 3..6 are interchangeable (same contexts). Context (3, x) is never seen followed by
    target 8 for x = 6 in training, but the model generalises across the class."""
    rng = np.random.default_rng(0)
    cls = [3, 4, 5, 6]
    contexts, targets = [], []
    for _ in range(600):
        a, b = rng.choice(cls, 2)
        target = 8 if a in (3, 4) else 9  # the first word's class decides the next word
        if (a, b) == (3, 6):
            continue  # held out
        contexts.append([a, b])
        targets.append(target)
    contexts, targets = np.array(contexts), np.array(targets)
    model = NeuralNGramLM(10, 2, embedding_dim=8, hidden_size=16, seed=0)
    optimizer = tg.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        loss = model.loss(tg.tensor(contexts), tg.tensor(targets))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert np.exp(model.log_prob(np.array([[3, 6]]), np.array([8])))[0] > 0.9
    counts = KneserNeyLM(3, 10).fit(contexts, targets)  # unseen context: backs off to "6 ->"
    assert np.exp(counts.log_prob(np.array([[3, 6]]), np.array([8])))[0] < 0.7

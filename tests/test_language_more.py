"""Language models beyond the basics: the class-factored softmax of the neural n-gram LM,
the sequence tagger, the noisy channel, SigLIP (each against a definition it must match)."""

import itertools

import numpy as np
import pytest
from helpers_nn import check_module_gradients

import tinygrad_course as tg
from tinygrad_course.errors import ArgumentError, ShapeError
from tinygrad_course.models.ngram_lm import ClassFactoredSoftmax, NeuralNGramLM
from tinygrad_course.models.noisy_channel import ALPHABET, CharacterChannel, beam_search
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


# ----- noisy channel --------------------------------------------------------------------------
def small_channel(alphabet="ab", seed=0):
    rng = np.random.default_rng(seed)
    size = len(alphabet)
    rows = rng.dirichlet(np.ones(size + 1), size)  # emit row and delete, summing to 1
    insert = rng.dirichlet(np.ones(size + 1))[:size]
    return CharacterChannel(rows[:, :size], rows[:, size], insert, alphabet)


def test_channel_edits_of_each_letter_sum_to_one():
    channel = CharacterChannel.estimate([("moses", "mose"), ("aaron", "aarron")], iterations=2)
    np.testing.assert_allclose(channel.emit.sum(axis=1) + channel.delete, 1.0)
    assert channel.insert.sum() + channel.no_insert == pytest.approx(1.0)
    with pytest.raises(ArgumentError, match="sum to 1"):
        CharacterChannel(np.eye(28) * 0.5, np.zeros(28), np.zeros(28))


@pytest.mark.parametrize("word", ["", "a", "ab", "bba"])
def test_channel_is_a_distribution_over_all_observed_strings(word):
    channel = small_channel()
    longest = 2 * len(word) + 1  # every letter kept and every slot inserting
    strings = [""] + ["".join(s) for n in range(1, longest + 1)
                      for s in itertools.product("ab", repeat=n)]
    total = sum(np.exp(channel.log_prob(o, [word]))[0] for o in strings)
    assert total == pytest.approx(1.0, rel=1e-10)


def test_channel_log_prob_matches_a_sum_over_alignments_by_hand():
    channel = small_channel()
    e, d, i, n = channel.emit, channel.delete, channel.insert, channel.no_insert
    # "a" -> "b": emit a->b; or delete a and insert b in one of the two slots
    expected = n * e[0, 1] * n + i[1] * d[0] * n + n * d[0] * i[1]
    assert np.exp(channel.log_prob("b", ["a", "a"])) == pytest.approx([expected] * 2)


def test_hard_em_recovers_the_channel_that_made_the_data():
    truth = CharacterChannel.uniform(0.8)
    emit = truth.emit.copy()
    emit[:, :] = 0.0
    np.fill_diagonal(emit, 0.85)
    emit[:, 0] += 0.1  # every letter becomes "a" 10% of the time
    delete = 1 - emit.sum(axis=1)
    truth = CharacterChannel(emit, delete, np.full(28, 0.001))
    rng = np.random.default_rng(0)
    words = ["moses", "pharaoh", "israel", "jerusalem", "wilderness", "covenant"] * 40
    pairs = [(w, truth.sample(w, rng)) for w in words]
    learned = CharacterChannel.estimate(pairs, iterations=3)
    s = ALPHABET.index("s")
    n = sum(w.count("s") for w in words)  # 240 letters "s", plus 29 smoothing counts
    assert learned.emit[s, 0] == pytest.approx((0.1 * n + 1) / (n + 29), abs=0.03)
    assert learned.emit[s, s] == pytest.approx((0.85 * n + 1) / (n + 29), abs=0.03)
    assert learned.emit[s, 1] == pytest.approx(1 / (n + 29), abs=0.005)


def test_beam_search_with_a_full_beam_finds_the_exhaustive_best():
    rng = np.random.default_rng(3)
    table = rng.normal(size=(6, 6))  # a bigram "LM": log P(b | a) = table[a, b]

    def lm(contexts, targets):
        return table[contexts[:, -1], targets]

    candidates = [(np.array([2, 3, 4]), rng.normal(size=3)) for _ in range(3)]
    best, best_score = None, -np.inf
    for path in itertools.product(range(3), repeat=3):
        ids = [candidates[t][0][c] for t, c in enumerate(path)]
        score = sum(candidates[t][1][c] for t, c in enumerate(path))
        score += 0.7 * (lm(np.array([[0]]), np.array([ids[0]]))[0] + table[ids[0], ids[1]]
                        + table[ids[1], ids[2]] + table[ids[2], 1])
        if score > best_score:
            best, best_score = ids, score
    found = beam_search(candidates, lm, 0.7, beam_width=9, bos_id=0, eos_id=1, context_size=1)
    assert found.tolist() == best
    alone = beam_search(candidates, lm, 0.0, beam_width=1, bos_id=0, eos_id=1, context_size=1)
    assert alone.tolist() == [c[0][np.argmax(c[1])] for c in candidates]

"""Greedy decoding and beam search (models/decoding.py) on hand-made next-token models whose
best sequence is known by enumerating every sequence."""

import itertools

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.errors import TensorError
from tinygrad_course.models.decoding import beam_search, generate, greedy_decode, nucleus_sample

PAD, EOS = 0, 1


class TreeModel:
    """A next-token model with an arbitrary distribution for every prefix: the log-softmax of
    random logits drawn once per prefix (seeded by the prefix itself), padding impossible.
    ``calls`` counts the calls."""

    def __init__(self, vocab=4, seed=0, eos_boost=0.0):
        self.vocab, self.seed, self.eos_boost, self.calls = vocab, seed, eos_boost, 0

    def log_probs_of(self, prefix):
        rng = np.random.default_rng([self.seed, *[int(i) for i in prefix]])
        logits = 2.0 * rng.standard_normal(self.vocab)
        logits[EOS] += self.eos_boost
        logits[PAD] = -np.inf
        return logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()

    def __call__(self, ids):
        self.calls += 1
        return np.stack([self.log_probs_of(row) for row in ids])


class TableModel:
    """A next-token model given by a table {generated tokens so far: {token: probability}};
    tokens not listed have probability 0."""

    def __init__(self, table, vocab=5, prefix_length=1):
        self.table, self.vocab, self.prefix_length = table, vocab, prefix_length

    def __call__(self, ids):
        rows = []
        for row in ids:
            out = np.full(self.vocab, -np.inf)
            for token, p in self.table.get(tuple(int(i) for i in row[self.prefix_length:]),
                                           {EOS: 1.0}).items():
                out[token] = np.log(p)
            rows.append(out)
        return np.stack(rows)


def all_sequences(vocab, max_length):
    """Every sequence a decoder can return: ended by EOS at some length <= max_length, or
    max_length tokens without EOS (padding never generated)."""
    words = range(2, vocab)
    for length in range(1, max_length + 1):
        for body in itertools.product(words, repeat=length - 1):
            yield body + (EOS,)
    yield from itertools.product(words, repeat=max_length)


def log_prob(model, prefix, sequence):
    return sum(model(np.array([list(prefix) + list(sequence[:t])]))[0, sequence[t]]
               for t in range(len(sequence)))


def brute_force_best(model, prefix, max_length, length_penalty=0.0):
    def rank(seq):
        return log_prob(model, prefix, seq) / len(seq) ** length_penalty
    return max(all_sequences(model.vocab, max_length), key=rank)


def unpadded(row):
    return tuple(int(t) for t in row if t != PAD)


@pytest.mark.parametrize("seed", range(6))
def test_beam_of_one_equals_greedy(seed):
    model = TreeModel(vocab=5, seed=seed, eos_boost=-1.0)
    prefix = np.array([[2], [3], [4]])
    greedy_tokens, greedy_scores = greedy_decode(model, prefix, 6, EOS)
    beam_tokens, beam_scores = beam_search(model, prefix, 6, EOS, beam_size=1)
    np.testing.assert_array_equal(beam_tokens, greedy_tokens)
    np.testing.assert_allclose(beam_scores, greedy_scores)
    np.testing.assert_array_equal(generate(model, prefix, 6, EOS), greedy_tokens)


def test_greedy_is_the_argmax_at_every_step_and_its_score_is_the_sequence_log_prob():
    model = TreeModel(vocab=5, seed=3)
    tokens, scores = greedy_decode(model, np.array([[2]]), 5, EOS)
    sequence = unpadded(tokens[0])
    for t, token in enumerate(sequence):
        assert token == model.log_probs_of([2, *sequence[:t]]).argmax()
    assert scores[0] == pytest.approx(log_prob(model, [2], sequence))


def test_decoding_stops_at_eos_and_pads_after_it():
    # input 2 says "5 EOS", input 3 says "5 5 5 EOS"; after EOS the model would go on with 4
    def model(ids):
        out = np.full((len(ids), 6), -5.0)
        for r, row in enumerate(ids):
            generated = list(row[1:])
            stop = 1 if row[0] == 2 else 3
            ended = EOS in generated
            out[r, 4 if ended else (EOS if len(generated) == stop else 5)] = -0.1
        return out
    calls = []

    def counting(ids):
        calls.append(ids.shape)
        return model(ids)
    for decode in (lambda f: greedy_decode(f, [[2], [3]], 10, EOS)[0],
                   lambda f: beam_search(f, [[2], [3]], 10, EOS, beam_size=3)[0]):
        calls.clear()
        tokens = decode(counting)
        np.testing.assert_array_equal(tokens, [[5, EOS, PAD, PAD], [5, 5, 5, EOS]])
        assert len(calls) == 4  # stopped once both had ended, not after 10 steps


def test_max_length_truncates_a_sequence_that_never_ends():
    def model(ids):
        out = np.full((len(ids), 4), -np.inf)
        out[:, 3] = 0.0
        return out
    for beam in (1, 2):
        tokens = generate(model, [[2]], 4, EOS, beam_size=beam)
        np.testing.assert_array_equal(tokens, [[3, 3, 3, 3]])


def test_beam_search_beats_greedy_on_a_trap_and_finds_the_best_sequence():
    # greedy takes 2 (0.6) and then has only 0.5 continuations: 0.6 * 0.5 = 0.3;
    # 3 (0.4) is followed by EOS for sure: 0.4 is the best sequence
    model = TableModel({(): {2: 0.6, 3: 0.4}, (2,): {2: 0.5, 4: 0.5}, (3,): {EOS: 1.0},
                        (2, 2): {EOS: 1.0}, (2, 4): {EOS: 1.0}})
    prefix = np.array([[4]])
    best = brute_force_best(model, [4], 3)
    assert best == (3, EOS)
    greedy_tokens, _ = greedy_decode(model, prefix, 3, EOS)
    assert unpadded(greedy_tokens[0]) != best
    tokens, scores = beam_search(model, prefix, 3, EOS, beam_size=2)
    assert unpadded(tokens[0]) == best
    assert scores[0] == pytest.approx(np.log(0.4))


@pytest.mark.parametrize("seed", range(4))
def test_a_beam_wider_than_every_prefix_set_is_exact_search(seed):
    # vocab 5: 3 words + EOS; with max_length 3 there are at most 3^2 = 9 live prefixes, so a
    # beam of 16 never prunes and must return the brute-force optimum for each input
    model = TreeModel(vocab=5, seed=seed, eos_boost=-0.5)
    prefix = np.array([[2], [3], [4]])
    tokens, scores = beam_search(model, prefix, 3, EOS, beam_size=16)
    for b in range(3):
        best = brute_force_best(model, [prefix[b, 0]], 3)
        assert unpadded(tokens[b]) == best
        assert scores[b] == pytest.approx(log_prob(model, [prefix[b, 0]], best))


@pytest.mark.parametrize("seed", range(4))
def test_beam_search_never_scores_below_greedy_and_rows_are_independent(seed):
    model = TreeModel(vocab=6, seed=seed)
    prefix = np.array([[2], [3], [5]])
    _, greedy_scores = greedy_decode(model, prefix, 5, EOS)
    tokens, scores = beam_search(model, prefix, 5, EOS, beam_size=4)
    assert (scores >= greedy_scores - 1e-12).all()
    for b in range(3):  # the same search on one input alone
        alone, alone_score = beam_search(model, prefix[b:b + 1], 5, EOS, beam_size=4)
        assert unpadded(alone[0]) == unpadded(tokens[b])
        assert alone_score[0] == pytest.approx(scores[b])


def test_length_penalty_prefers_the_better_mean_log_probability():
    # "EOS": p = 0.5, log p = -0.69; "2 2 EOS": p = 0.5 * 0.8 * 0.8 = 0.32, a lower sum
    # (-1.14) but a higher mean per token (-0.38)
    model = TableModel({(): {EOS: 0.5, 2: 0.5}, (2,): {2: 0.8, 3: 0.2},
                        (2, 2): {EOS: 0.8, 3: 0.2}})
    plain, _ = beam_search(model, [[4]], 4, EOS, beam_size=8)
    mean, score = beam_search(model, [[4]], 4, EOS, beam_size=8, length_penalty=1.0)
    assert unpadded(plain[0]) == brute_force_best(model, [4], 4) == (EOS,)
    assert unpadded(mean[0]) == brute_force_best(model, [4], 4, length_penalty=1.0) == \
        (2, 2, EOS)
    assert score[0] == pytest.approx(np.log(0.32))  # the sum, not the mean


def test_a_tensor_result_and_a_tensor_prefix_are_accepted():
    model = TreeModel(vocab=5, seed=1)
    expected, _ = greedy_decode(model, np.array([[2]]), 4, EOS)
    tokens, _ = greedy_decode(lambda ids: tg.tensor(model(ids).astype(np.float32)),
                              tg.tensor(np.array([[2]])), 4, EOS)
    np.testing.assert_array_equal(tokens, expected)


@pytest.mark.parametrize("call, name", [
    (lambda m: greedy_decode(m, [2, 3], 4, EOS), "greedy_decode"),           # 1-D prefix
    (lambda m: greedy_decode(m, [[2.5]], 4, EOS), "greedy_decode"),          # float ids
    (lambda m: greedy_decode(m, [[2], [3, 4]], 4, EOS), "greedy_decode"),    # ragged
    (lambda m: greedy_decode(m, [[2]], 0, EOS), "greedy_decode"),            # max_length 0
    (lambda m: greedy_decode(m, [[2]], 4, PAD), "greedy_decode"),            # eos == pad
    (lambda m: greedy_decode(m, [[2]], 4, 9), "greedy_decode"),              # eos >= vocab
    (lambda m: beam_search(m, [[2]], 4, EOS, beam_size=0), "beam_search"),
    (lambda m: beam_search(m, [[2]], 4, EOS, length_penalty=np.nan), "beam_search"),
    (lambda m: beam_search(lambda ids: m(ids)[:1], [[2]], 4, EOS, 3), "beam_search"),
    (lambda m: greedy_decode(lambda ids: m(ids) * np.nan, [[2]], 4, EOS), "greedy_decode"),
    (lambda m: nucleus_sample(m, [[2]], 4, EOS, top_p=0.0), "nucleus_sample"),
    (lambda m: nucleus_sample(m, [[2]], 4, EOS, top_p=1.5), "nucleus_sample"),
    (lambda m: nucleus_sample(m, [[2]], 4, EOS, top_p=np.nan), "nucleus_sample"),
    (lambda m: nucleus_sample(m, [[2]], 4, PAD), "nucleus_sample"),
])
def test_bad_input_raises_a_named_error(call, name):
    with pytest.raises(TensorError, match=name):
        call(TreeModel(vocab=5))


# ----- nucleus (top-p) sampling ------------------------------------------------------------------
FIRST_STEP = {(): {2: 0.5, 3: 0.3, 4: 0.15, EOS: 0.05}}  # then EOS for sure


@pytest.mark.parametrize("top_p, drawn", [
    (0.5, {2: 1.0}),                          # the mass before 3 is 0.5: not < 0.5
    (0.7, {2: 0.5 / 0.8, 3: 0.3 / 0.8}),
    (0.95, {2: 0.5 / 0.95, 3: 0.3 / 0.95, 4: 0.15 / 0.95}),
    (1.0, {2: 0.5, 3: 0.3, 4: 0.15, EOS: 0.05}),
])
def test_nucleus_sampling_draws_the_renormalised_nucleus_and_nothing_outside_it(top_p, drawn):
    n = 20000
    tokens, scores = nucleus_sample(TableModel(FIRST_STEP), np.full((n, 1), 4), 3, EOS,
                                    top_p=top_p, rng=0)
    first = tokens[:, 0]
    assert set(np.unique(first)) == set(drawn)
    for token, p in drawn.items():  # binomial standard error <= 0.0036 at n = 20000
        assert abs((first == token).mean() - p) < 0.015
    # each sequence is its first token then EOS (or EOS alone), scored under the model
    ends = np.where(first == EOS, tokens[:, 0], tokens[:, 1])
    assert (ends == EOS).all()
    expected = np.log([FIRST_STEP[()][t] for t in first])
    np.testing.assert_allclose(scores, expected)


@pytest.mark.parametrize("seed", range(4))
def test_a_tiny_nucleus_is_greedy_decoding(seed):
    model = TreeModel(vocab=6, seed=seed, eos_boost=0.5)
    prefix = np.array([[2], [3], [4]])
    expected, expected_scores = greedy_decode(model, prefix, 5, EOS)
    tokens, scores = nucleus_sample(model, prefix, 5, EOS, top_p=1e-9, rng=seed)
    np.testing.assert_array_equal(tokens, expected)
    np.testing.assert_allclose(scores, expected_scores)


def test_nucleus_sampling_repeats_with_its_seed_varies_without_and_pads_after_eos():
    model = TreeModel(vocab=6, seed=3, eos_boost=0.5)
    prefix = np.full((200, 1), 2)
    a, _ = nucleus_sample(model, prefix, 6, EOS, top_p=0.9, rng=7)
    b, _ = nucleus_sample(model, prefix, 6, EOS, top_p=0.9, rng=7)
    c, _ = nucleus_sample(model, prefix, 6, EOS, top_p=0.9, rng=8)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    assert len({unpadded(row) for row in a}) > 5  # the same prefix, many captions
    for row in a:
        ended = np.cumsum(row == EOS) > 0
        after = np.concatenate([[False], ended[:-1]])
        assert (row[after] == PAD).all() and (row[~after] != PAD).all()

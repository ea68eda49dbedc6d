"""Linear-chain CRF: the forward algorithm and Viterbi against brute-force enumeration of all
K^T tag sequences, padding, and gradcheck of the negative log-likelihood."""

import itertools

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.errors import ShapeError
from tinygrad_course.models import crf
from tinygrad_course.models.crf import LinearChainCRF


def random_crf(num_tags, seed):
    model = LinearChainCRF(num_tags, seed=seed)
    rng = np.random.default_rng(seed)
    for name in ("transitions", "start", "end"):  # larger than the init: a real test
        shape = getattr(model, name).shape
        setattr(model, name, tg.nn.Parameter(tg.tensor(rng.normal(0, 1.5, shape),
                                                       dtype=np.float32)))
    return model


def brute_force_scores(model, emissions, length):
    """{tag sequence: s(y)} over all K^length sequences, from the definition."""
    a, start, end = model.transitions.numpy(), model.start.numpy(), model.end.numpy()
    scores = {}
    for path in itertools.product(range(model.num_tags), repeat=length):
        s = start[path[0]] + end[path[-1]] + sum(emissions[t, y] for t, y in enumerate(path))
        s += sum(a[path[t - 1], path[t]] for t in range(1, length))
        scores[path] = float(s)
    return scores


@pytest.mark.parametrize("num_tags,steps", [(1, 3), (2, 1), (3, 4), (4, 3)])
def test_forward_algorithm_and_viterbi_match_enumeration(num_tags, steps):
    model = random_crf(num_tags, seed=num_tags * 10 + steps)
    rng = np.random.default_rng(steps)
    emissions = rng.normal(0, 2, (3, steps, num_tags)).astype(np.float32)
    lengths = [steps, max(1, steps - 1), 1]
    mask = np.arange(steps)[None, :] < np.array(lengths)[:, None]
    e = tg.tensor(emissions)
    log_z = model.log_partition(e, mask).numpy()
    decoded = model.decode(e, mask)
    tags = rng.integers(0, num_tags, (3, steps))
    path_scores = model.score(e, tags, mask).numpy()
    for b, length in enumerate(lengths):
        scores = brute_force_scores(model, emissions[b], length)
        values = np.array(list(scores.values()))
        expected_log_z = values.max() + np.log(np.exp(values - values.max()).sum())
        assert log_z[b] == pytest.approx(expected_log_z, rel=1e-5, abs=1e-4)
        assert tuple(decoded[b]) == max(scores, key=scores.get)
        assert path_scores[b] == pytest.approx(scores[tuple(tags[b, :length])], abs=1e-4)


def test_probabilities_of_all_sequences_sum_to_one_and_the_nll_is_positive():
    model = random_crf(3, seed=1)
    emissions = tg.tensor(np.random.default_rng(0).normal(size=(1, 3, 3)).astype(np.float32))
    total = sum(np.exp(-model(emissions, np.array([path])).item())
                for path in itertools.product(range(3), repeat=3))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_padding_changes_nothing():
    model = random_crf(3, seed=2)
    rng = np.random.default_rng(1)
    short = rng.normal(size=(1, 2, 3)).astype(np.float32)
    padded = np.concatenate([short, rng.normal(size=(1, 3, 3)).astype(np.float32)], axis=1)
    mask = np.array([[True, True, False, False, False]])
    tags = np.array([[2, 0, 1, 1, 1]])
    assert model(tg.tensor(padded), tags, mask).item() == pytest.approx(
        model(tg.tensor(short), tags[:, :2]).item(), rel=1e-6)
    assert model.decode(tg.tensor(padded), mask) == model.decode(tg.tensor(short))


def test_gradcheck_of_the_negative_log_likelihood():
    rng = np.random.default_rng(2)
    tags = rng.integers(0, 3, (2, 4))
    mask = np.array([[True] * 4, [True, True, False, False]])

    def nll(emissions, transitions, start, end):
        return (crf.log_partition(emissions, transitions, start, end, mask)
                - crf.path_score(emissions, tags, transitions, start, end, mask)).mean()

    inputs = [rng.normal(size=shape) for shape in ((2, 4, 3), (3, 3), (3,), (3,))]
    assert tg.gradcheck(nll, *[tg.tensor(x, requires_grad=True) for x in inputs])


def test_bad_input_raises_named_errors():
    model = LinearChainCRF(3, seed=0)
    e = tg.tensor(np.zeros((2, 3, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="emissions"):
        model.log_partition(tg.tensor(np.zeros((2, 3, 4), dtype=np.float32)))
    with pytest.raises(ShapeError, match="right padding"):
        model.decode(e, np.array([[True, False, True], [True, True, True]]))
    with pytest.raises(ShapeError, match="at least one step"):
        model.log_partition(e, np.array([[False] * 3, [True] * 3]))
    with pytest.raises(ShapeError, match="tags must be in"):
        model(e, np.full((2, 3), 3))

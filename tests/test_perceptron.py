"""Perceptron and MLP: the step rule by hand, Novikoff's bound, XOR, and the MLP that fits it."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course.errors import ShapeError
from tinygrad_course.models.perceptron import MLP, Perceptron

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_T = np.array([0, 1, 1, 0])


def _set(perceptron, weight, bias):
    perceptron.weight.data = tg.tensor(weight, device=perceptron.weight.device).data
    perceptron.bias.data = tg.tensor(bias, device=perceptron.bias.device).data


def test_forward_is_step_of_weighted_sum(rng):
    p = Perceptron(3, 2)
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    _set(p, w, b)
    x = rng.standard_normal((7, 3)).astype(np.float32)
    a = x @ w.T.astype(np.float32) + b.astype(np.float32)
    np.testing.assert_allclose(p.weighted_sum(tg.tensor(x)).numpy(), a, rtol=1e-5, atol=1e-6)
    y = p(tg.tensor(x)).numpy()
    assert y.shape == (7, 2) and y.dtype == np.float32
    np.testing.assert_array_equal(y, (a > 0).astype(np.float32))


def test_rosenblatt_update_matches_the_rule_by_hand(rng):
    p = Perceptron(3, 2)
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    _set(p, w, b)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    t = rng.integers(0, 2, size=(5, 2))
    y = (x @ w.T + b > 0).astype(np.float64)
    error = t - y
    mistakes = p.rosenblatt_update(tg.tensor(x), tg.tensor(t), lr=0.5)
    assert mistakes == int(np.abs(error).sum())
    np.testing.assert_allclose(p.weight.numpy(), w + 0.5 * error.T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.bias.numpy(), b + 0.5 * error.sum(0), rtol=1e-5, atol=1e-6)


def test_correct_answers_leave_the_weights_alone():
    p = Perceptron(2)
    _set(p, [[1.0, 1.0]], [-1.5])  # AND
    before = p.weight.numpy().copy()
    assert p.rosenblatt_update(tg.tensor(XOR_X), tg.tensor([0, 0, 0, 1])) == 0
    np.testing.assert_array_equal(p.weight.numpy(), before)


def _separable(seed, dim, n, margin):
    """Points in [-1, 1]^dim labelled by a random hyperplane, at least ``margin`` away from it."""
    rng = np.random.default_rng(seed)
    w_star = rng.standard_normal(dim + 1)
    w_star /= np.linalg.norm(w_star)                      # unit separator of [x, 1]
    x = rng.uniform(-1, 1, size=(20 * n, dim))
    score = np.concatenate([x, np.ones((len(x), 1))], 1) @ w_star
    keep = np.abs(score) >= margin
    return x[keep][:n].astype(np.float32), (score[keep][:n] > 0).astype(np.int64), w_star


@settings(max_examples=12)
@given(seed=st.integers(0, 10_000), dim=st.integers(1, 4), n=st.integers(4, 40),
       lr=st.sampled_from([0.1, 1.0, 3.0]), batch_size=st.sampled_from([1, 1, 4]))
def test_converges_on_separable_data_within_novikoffs_bound(seed, dim, n, lr, batch_size):
    x, t, w_star = _separable(seed, dim, n, margin=0.15)
    augmented = np.concatenate([x, np.ones((len(x), 1), np.float32)], 1)
    radius = np.linalg.norm(augmented, axis=1).max()
    gamma = np.abs(augmented @ w_star).min()
    p = Perceptron(dim)
    result = p.fit(tg.tensor(x), tg.tensor(t), epochs=10_000, lr=lr, batch_size=batch_size,
                   seed=seed)
    assert result["converged"]
    np.testing.assert_array_equal(p(tg.tensor(x)).numpy()[:, 0], t)
    if batch_size == 1:  # the theorem is about the online rule
        assert result["updates"] <= (radius / gamma) ** 2


@settings(max_examples=30)
@given(w=st.lists(st.floats(-10, 10), min_size=2, max_size=2), b=st.floats(-10, 10))
def test_no_weights_get_more_than_three_of_xor_right(w, b):
    p = Perceptron(2)
    _set(p, [w], [b])
    correct = (p(tg.tensor(XOR_X)).numpy()[:, 0] == XOR_T).sum()
    assert correct <= 3


def test_the_rule_never_settles_on_xor():
    result = Perceptron(2).fit(tg.tensor(XOR_X), tg.tensor(XOR_T), epochs=200)
    assert not result["converged"] and result["epochs"] == 200
    assert min(result["mistakes_per_epoch"]) >= 1


def test_multi_output_learns_and_or_nand_at_once():
    targets = np.stack([[0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0]], axis=1)  # AND, OR, NAND
    p = Perceptron(2, 3)
    result = p.fit(tg.tensor(XOR_X), tg.tensor(targets), epochs=100)
    assert result["converged"]
    np.testing.assert_array_equal(p(tg.tensor(XOR_X)).numpy(), targets)


def test_bad_input_names_the_perceptron():
    p = Perceptron(3, 2)
    with pytest.raises(ShapeError, match=r"Perceptron: expected input of shape \(N, 3\)"):
        p(tg.zeros(4, 2))
    with pytest.raises(ShapeError, match=r"Perceptron: expected targets of shape \(4, 2\)"):
        p.rosenblatt_update(tg.zeros(4, 3), tg.zeros(4, 3))
    with pytest.raises(ValueError, match="Perceptron: targets must be 0 or 1"):
        p.rosenblatt_update(tg.zeros(1, 3), tg.tensor([[0.0, 2.0]]))


def test_weights_are_parameters_the_rule_owns():
    p = Perceptron(4, 2)
    assert [name for name, _ in p.named_parameters()] == ["weight", "bias"]
    assert not any(param.requires_grad for param in p.parameters())
    assert set(p.state_dict()) == {"weight", "bias"}


def test_mlp_structure_and_gradient():
    m = MLP(3, [5, 4], 2, activation="tanh", seed=0)
    assert [layer.out_features for layer in m.layers if hasattr(layer, "out_features")] == [5, 4, 2]
    assert m.num_parameters() == (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2)
    assert m(tg.randn(6, 3, seed=1)).shape == (6, 2)
    m.double()
    x = tg.randn(6, 3, seed=1, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda inputs: m(inputs), x)
    np.testing.assert_array_equal(MLP(3, 5, 2, seed=7)(tg.ones(1, 3)).numpy(),
                                  MLP(3, [5], 2, seed=7)(tg.ones(1, 3)).numpy())
    with pytest.raises(ValueError, match="MLP: unknown activation"):
        MLP(3, 4, 2, activation="swish")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_fits_xor(seed):
    m = MLP(2, 8, 2, activation="tanh", seed=seed)
    optimizer = tg.optim.Adam(m.parameters(), lr=0.05)
    x, labels = tg.tensor(XOR_X), tg.tensor(XOR_T)
    for _ in range(300):
        loss = -m(x).log_softmax(axis=1)[np.arange(4), labels].mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    np.testing.assert_array_equal(m(x).argmax(axis=1).numpy(), XOR_T)

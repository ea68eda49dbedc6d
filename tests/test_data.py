"""Data: minibatches (seeded shuffle, drop_last), the train/test split, the seeded 2-D toy
sets (checked against their generating geometry) and the packaged 8x8 digits."""

import sys

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import data
from tinygrad_course.errors import ShapeError


def toy_arrays(n=10):
    X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    return X, np.arange(n) % 3


# ----- DataLoader -------------------------------------------------------------------------------
def test_loader_in_order_yields_tensors_and_a_smaller_last_batch():
    X, y = toy_arrays(10)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    xb, yb = batches[1]
    assert isinstance(xb, tg.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
    assert xb.device == tg.backend.normalize_device(None)
    np.testing.assert_array_equal(xb.numpy(), X[4:8])
    np.testing.assert_array_equal(yb.numpy(), y[4:8])


def test_drop_last_drops_the_incomplete_batch():
    loader = data.DataLoader(data.TensorDataset(*toy_arrays(10)), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(xb) for xb, _ in loader] == [4, 4]
    exact = data.DataLoader(data.TensorDataset(*toy_arrays(8)), batch_size=4, drop_last=True)
    assert len(exact) == 2


def test_shuffle_visits_every_example_once_per_epoch_and_keeps_pairs():
    X, y = toy_arrays(23)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=5, shuffle=True, seed=0)
    epochs = []
    for _ in range(2):
        rows = [xb.numpy() for xb, _ in loader]
        labels = np.concatenate([yb.numpy() for _, yb in loader])
        order = (np.concatenate(rows)[:, 0] // 2).astype(int)  # row i of X starts with 2i
        assert sorted(order) == list(range(23))
        epochs.append(order)
        assert len(labels) == 23
    assert not np.array_equal(epochs[0], epochs[1])  # a new order every epoch
    for xb, yb in loader:  # each x stays with its own label
        np.testing.assert_array_equal(yb.numpy(), (xb.numpy()[:, 0] // 2).astype(int) % 3)


def test_shuffle_is_reproducible_from_the_seed():
    def orders(seed):
        loader = data.DataLoader(data.TensorDataset(*toy_arrays(12)), batch_size=12,
                                 shuffle=True, seed=seed)
        return [next(iter(loader))[1].numpy().tolist() for _ in range(3)]

    assert orders(1) == orders(1)
    assert orders(1) != orders(2)
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    a = data.DataLoader(np.arange(6.0), batch_size=6, shuffle=True, generator=rng_a)
    b = data.DataLoader(np.arange(6.0), batch_size=6, shuffle=True, generator=rng_b)
    np.testing.assert_array_equal(next(iter(a)).numpy(), next(iter(b)).numpy())


def test_a_plain_array_or_tensor_is_a_dataset():
    batches = list(data.DataLoader(np.arange(5.0), batch_size=2))
    assert [b.numpy().tolist() for b in batches] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    batches = list(data.DataLoader(tg.arange(5), batch_size=3))
    assert [b.numpy().tolist() for b in batches] == [[0, 1, 2], [3, 4]]


def test_bad_loader_arguments_raise():
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive integer"):
        data.DataLoader(np.arange(3), batch_size=0)
    with pytest.raises(ShapeError, match="TensorDataset: every array needs the same first axis"):
        data.TensorDataset(np.zeros((3, 2)), np.zeros(4))


# ----- train_test_split -------------------------------------------------------------------------
def test_train_test_split_is_a_seeded_partition_that_keeps_pairs():
    X, y = toy_arrays(20)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_fraction=0.25, seed=3)
    assert len(X_test) == len(y_test) == 5 and len(X_train) == 15
    ids = np.concatenate([X_train[:, 0], X_test[:, 0]]) // 2
    assert sorted(ids.astype(int)) == list(range(20))
    np.testing.assert_array_equal(y_test, (X_test[:, 0] // 2).astype(int) % 3)
    again = data.train_test_split(X, y, test_fraction=0.25, seed=3)
    np.testing.assert_array_equal(again[1], X_test)
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        data.train_test_split(X, test_fraction=1.0)
    with pytest.raises(ShapeError, match="arrays of different lengths"):
        data.train_test_split(X, y[:5])


# ----- toy sets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make, classes", [(data.make_xor, 2), (data.make_moons, 2),
                                           (data.make_spirals, 3), (data.make_blobs, 3)])
def test_toy_sets_are_seeded_balanced_float32_and_int64(make, classes):
    X, y = make(n_samples=301, seed=0)
    assert X.shape == (301, 2) and X.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == classes and counts.max() - counts.min() <= 301 % classes + 1
    X2, y2 = make(n_samples=301, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(n_samples=301, seed=1)[0], X)
    assert len(np.unique(y[:20])) > 1  # shuffled, not sorted by class


def test_xor_labels_are_where_the_corner_signs_differ():
    X, y = data.make_xor(n_samples=100, noise=0.0, seed=0)
    assert set(map(tuple, np.abs(X))) == {(1.0, 1.0)}
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_moons_lie_on_two_half_circles():
    X, y = data.make_moons(n_samples=100, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6


def test_spiral_arms_turn_with_the_radius():
    X, y = data.make_spirals(n_samples=90, n_classes=3, turns=0.5, noise=0.0, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    angle = 2 * np.pi * (y / 3 + 0.5 * r)
    inside = r > 1e-6  # the angle of the centre point is undefined
    np.testing.assert_allclose(X[inside], r[inside, None] * np.stack(
        [np.cos(angle), np.sin(angle)], axis=1)[inside], atol=1e-6)


def test_blobs_gather_around_their_centres():
    centers = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    X, y = data.make_blobs(n_samples=3000, centers=centers, cluster_std=0.5, seed=0)
    for k, c in enumerate(centers):
        # the mean of 1,000 N(c, 0.25) points is within 4 standard errors (0.016 * 4) of c
        np.testing.assert_allclose(X[y == k].mean(axis=0), c, atol=0.07)
        np.testing.assert_allclose(X[y == k].std(axis=0), 0.5, atol=0.05)
    with pytest.raises(ValueError, match=r"make_blobs: centers must be a count or a \(k, 2\)"):
        data.make_blobs(centers=np.zeros((3, 3)))


# ----- digits -----------------------------------------------------------------------------------
def test_digits_ship_with_scikit_learn():
    pytest.importorskip("sklearn")
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).min() >= 170 and len(np.bincount(y)) == 10
    images, _ = data.load_digits(flatten=False, scale=False)
    assert images.shape == (1797, 8, 8) and images.max() == 16.0
    np.testing.assert_array_equal(images.reshape(1797, 64) / 16.0, X)


def test_digits_without_scikit_learn_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install -e '\.\[demos\]'"):
        data.load_digits()

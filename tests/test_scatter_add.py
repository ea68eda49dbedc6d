"""backend.scatter_add: target[index] += values with repeated indices adding up.

On NumPy, large row scatters take a sparse-matrix-product path instead of numpy.add.at;
both paths must give numpy.add.at's result (up to float32 summation order)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import backend


def _reference(target, index, values):
    expected = target.copy()
    np.add.at(expected, index, values)
    return expected


@given(rows=st.integers(1, 40), width=st.sampled_from([(), (3,), (2, 5), (300,)]),
       picks=st.sampled_from([(7,), (60,), (4, 30), (200,)]), negative=st.booleans(),
       seed=st.integers(0, 2**16))
def test_row_scatter_matches_numpy_add_at(rows, width, picks, negative, seed):
    rng = np.random.default_rng(seed)
    target = rng.standard_normal((rows,) + width).astype(np.float32)
    index = rng.integers(-rows if negative else 0, rows, size=picks)
    values = rng.standard_normal(picks + width).astype(np.float32)
    expected = _reference(target, (index,), values)
    backend.scatter_add(np, target, (index,), values)
    np.testing.assert_allclose(target, expected, rtol=1e-5, atol=1e-4)


def test_the_sparse_path_is_taken_for_many_rows_and_adds_repeats():
    target = np.zeros((50, 400), np.float32)
    index = np.repeat(np.arange(50), 3)  # every row three times
    values = np.ones((150, 400), np.float32)
    assert values.size >= backend._SPARSE_MIN_VALUES
    assert backend._add_rows_by_sparse_product(target, (index,), values)
    np.testing.assert_array_equal(target, np.full((50, 400), 3.0, np.float32))


def test_out_of_range_and_other_indices_fall_back_to_add_at():
    target = np.zeros((10, 2000), np.float32)
    values = np.ones((20, 2000), np.float32)
    with pytest.raises(IndexError):
        backend.scatter_add(np, target, (np.full(20, 10),), values)
    assert not backend._add_rows_by_sparse_product(target, (np.arange(10), 0), values[:10, 0])
    assert not backend._add_rows_by_sparse_product(target, (np.ones(10, bool),), values[:10])
    integers = np.zeros((10, 2000), np.int64)
    assert not backend._add_rows_by_sparse_product(integers, (np.arange(20) % 10,),
                                                   np.ones((20, 2000), np.int64))


def test_embedding_style_gather_gradient_through_the_engine():
    rng = np.random.default_rng(0)
    table = tg.tensor(rng.standard_normal((300, 64)), requires_grad=True)
    ids = rng.integers(0, 300, size=(32, 20))
    upstream = rng.standard_normal((32, 20, 64)).astype(np.float32)
    table[ids].backward(tg.tensor(upstream))
    expected = np.zeros((300, 64), np.float32)
    np.add.at(expected, ids, upstream)
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=1e-5, atol=1e-4)

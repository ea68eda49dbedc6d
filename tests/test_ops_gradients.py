"""Every op's backward against central finite differences (gradcheck, float64).

One property test runs every row of op_table.OPS: hypothesis draws shapes (0-d, broadcast
pairs), axes and values kept off kinks and ties, and gradcheck compares the analytic
gradient of sum(v * op(x)) for a random upstream v with the numeric one. The tests after it
pin down the behaviour at the points the property test avoids on purpose: ties in max/min
and maximum/minimum, and the kinks of relu, abs and clip. (test_op_table_guard.py checks that
every Function subclass in tinygrad_course.ops has a row.)
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import OPS, call, tensors_of

import tinygrad_course as tg


@pytest.mark.parametrize("spec", OPS, ids=[spec.name for spec in OPS])
@settings(max_examples=30)
@given(data=st.data())
def test_gradient_matches_finite_differences(spec, data):
    case = data.draw(spec.cases, label="case")
    inputs = tensors_of(case, dtype=np.float64)
    assert tg.gradcheck(lambda *xs: call(spec, case, xs), *inputs, eps=spec.eps)


# ----- the tie rule of max and min: the gradient is split evenly among tied elements --------
def test_max_splits_the_gradient_evenly_among_ties():
    x = tg.tensor([1.0, 3.0, 3.0, 2.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 0, 1 / 3])


def test_min_splits_ties_per_reduced_row_and_scales_by_the_upstream_gradient():
    x = tg.tensor([[0.5, 0.5, 2.0],
                   [4.0, 1.0, 3.0]], requires_grad=True)
    y = x.min(axis=1)
    y.backward(tg.tensor([2.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 1.0, 0.0],
                                                [0.0, 10.0, 0.0]])


def test_max_over_tuple_axes_with_ties_keeps_the_total_gradient():
    x = tg.tensor(np.ones((2, 3, 2)), requires_grad=True)
    x.max(axis=(0, 2), keepdims=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3, 2), 0.25))


def test_maximum_and_minimum_split_ties_in_half():
    a = tg.tensor([1.0, 2.0, 5.0], requires_grad=True)
    b = tg.tensor([1.0, 3.0, 4.0], requires_grad=True)
    (tg.maximum(a, b) + 10 * tg.minimum(a, b)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [5.5, 10.0, 1.0])
    np.testing.assert_allclose(b.grad.numpy(), [5.5, 1.0, 10.0])


# ----- at the kinks: the subgradients PyTorch uses -----------------------------------------
def test_relu_abs_and_clip_at_their_kinks():
    x = tg.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    (tg.relu(x) + 10 * tg.abs(x) + 100 * x.clip(0.0, 1.0)).sum().backward()
    # relu'(0) = 0, abs'(0) = 0, clip passes the gradient at both bounds (lo <= x <= hi)
    np.testing.assert_allclose(x.grad.numpy(), [-10.0, 100.0, 111.0])


def test_zeroth_power_has_zero_gradient_even_at_zero():
    x = tg.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_index_with_repeated_integers_adds_the_gradients():
    x = tg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 2, 0, 0]].backward(tg.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 0.0, 2.0])


def test_broadcast_gradient_is_summed_back_to_each_input_shape():
    a = tg.tensor(np.ones((2, 1, 3)), requires_grad=True)
    b = tg.tensor(np.ones((4, 3)), requires_grad=True)
    (a * b).backward(tg.ones(2, 4, 3))
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 3)
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 1, 3), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full((4, 3), 2.0))

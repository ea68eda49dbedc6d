"""Every op's forward against NumPy, in the default float32, and the ops that give no gradient.

The property test runs every row of op_table.OPS on float32 tensors and compares with the
NumPy reference computed in float64 on the same (float32-rounded) inputs. It also checks
what a float32 user relies on: the output and every gradient are float32 (no silent float64),
the output is part of the graph, and the inputs are left unchanged.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import OPS, call, expected, tensors_of
from strategies import arrays, reduction_axes, shapes

import tinygrad_course as tg


@pytest.mark.parametrize("spec", OPS, ids=[spec.name for spec in OPS])
@settings(max_examples=20)
@given(data=st.data())
def test_forward_matches_numpy_in_float32(spec, data):
    case = data.draw(spec.cases, label="case")
    inputs = tensors_of(case)
    before = [x.numpy().copy() for x in inputs]
    out = call(spec, case, inputs)

    rounded = [a.astype(np.float32).astype(np.float64) for a in case.arrays]
    reference = expected(spec, case, rounded)
    assert out.dtype == np.float32
    assert out.shape == reference.shape
    np.testing.assert_allclose(out.numpy(), reference, rtol=spec.rtol, atol=spec.atol)

    assert out.requires_grad  # (a no-op such as reshape to the same shape returns x itself)
    upstream = tg.tensor(np.random.default_rng(0).standard_normal(out.shape))
    out.backward(upstream)
    for x, original in zip(inputs, before):
        np.testing.assert_array_equal(x.numpy(), original)  # no op writes into its inputs
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_forward_without_requires_grad_records_no_graph():
    x = tg.tensor([1.0, 2.0])
    y = (x * 2).exp().sum()
    assert not y.requires_grad and y._ctx is None


# ----- ops with no gradient: comparisons, argmax, argmin ------------------------------------
COMPARISONS = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
               ">": np.greater, ">=": np.greater_equal}


def _compare(a, b, symbol):
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[symbol]


@settings(max_examples=30)
@given(data=st.data(), symbol=st.sampled_from(sorted(COMPARISONS)))
def test_comparisons_return_bool_tensors_outside_the_graph(data, symbol):
    shape = data.draw(shapes(), label="shape")
    # integers / 2 give exact ties, so == and <= see equal elements too
    a = data.draw(arrays(shape, -2, 2), label="a").round() / 2
    b = data.draw(st.one_of(st.sampled_from([0.0, 0.5]), arrays(shape, -2, 2).map(
        lambda v: v.round() / 2)), label="b")
    x = tg.tensor(a, requires_grad=True)
    other = b if isinstance(b, float) else tg.tensor(b)
    result = _compare(x, other, symbol)
    assert result.dtype == np.bool_
    assert not result.requires_grad and result._ctx is None
    np.testing.assert_array_equal(result.numpy(), COMPARISONS[symbol](a.astype(np.float32), b))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@settings(max_examples=30)
@given(data=st.data())
def test_argmax_argmin_match_numpy_and_give_no_gradient(name, data):
    shape = data.draw(shapes(), label="shape")
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))
                     if shape else st.none(), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    values = data.draw(arrays(shape, -2, 2), label="values").round()  # ties: the first wins
    x = tg.tensor(values, requires_grad=True)
    result = getattr(x, name)(axis=axis, keepdims=keepdims)
    assert result.dtype == np.int64
    assert not result.requires_grad and result._ctx is None
    reference = getattr(np, name)(values, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(result.numpy(), reference)
    np.testing.assert_array_equal(getattr(tg, name)(x, axis, keepdims).numpy(), reference)


def test_argmax_of_a_graph_output_stops_the_gradient():
    x = tg.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    picked = (x * 2).argmax(axis=1)
    assert picked.tolist() == [1, 0] and not picked.requires_grad
    x[tg.arange(2), picked].sum().backward()  # gather by the indices: only that is differentiable
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [1, 0]])


@settings(max_examples=20)
@given(data=st.data())
def test_reductions_of_integer_tensors_keep_numpy_semantics(data):
    """sum/max of int64 stay int64 and match NumPy exactly (no gradient to check)."""
    shape = data.draw(shapes(), label="shape")
    values = data.draw(arrays(shape, -50, 50), label="values").round().astype(np.int64)
    axis = data.draw(reduction_axes(len(shape)), label="axis")
    x = tg.tensor(values)
    for name in ("sum", "max", "min"):
        result = getattr(x, name)(axis=axis)
        assert result.dtype == np.int64
        np.testing.assert_array_equal(result.numpy(), getattr(np, name)(values, axis=axis))


def test_relu_of_infinities_and_nan_matches_pytorch():
    x = tg.tensor([-np.inf, -1.0, 0.0, 2.0, np.inf, np.nan], requires_grad=True)
    y = x.relu()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 0.0, 2.0, np.inf, np.nan])
    y.backward(tg.ones(6))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 1.0, 1.0, 0.0])


def test_leaky_relu_refuses_integer_tensors():
    from tinygrad_course.errors import DTypeError

    with pytest.raises(DTypeError, match="leaky_relu: needs a floating tensor, got dtype int64"):
        tg.nn.LeakyReLU(0.1)(tg.tensor([-3, 2]))
    np.testing.assert_allclose(tg.nn.LeakyReLU(0.1)(tg.tensor([-3.0, 2.0])).numpy(), [-0.3, 2.0],
                               rtol=1e-6)

"""Second derivatives: gradgradcheck for every row of the op table marked second_order.

Under create_graph=True each backward in ops/ runs Tensor operations, so it builds a graph
of its own (the fused ops run the same formulas on arrays otherwise; gradcheck and
gradgradcheck require the two paths to give the same gradients). gradgradcheck
differentiates the map x -> d sum(v * op(x)) / dx once more and compares with finite
differences of it; passing means Hessian-vector products through these ops (and optimisers
or losses that use them) are right. Only the sequence ops are first-order (op_table's
FIRST_ORDER_ONLY; test_op_table_guard.py checks the rest all have a second-order row).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import SECOND_ORDER_OPS, call, tensors_of

import tinygrad_course as tg


@pytest.mark.parametrize("spec", SECOND_ORDER_OPS, ids=[spec.name for spec in SECOND_ORDER_OPS])
@settings(max_examples=10)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(spec, data):
    case = data.draw(spec.cases, label="case")
    inputs = tensors_of(case, dtype=np.float64)
    assert tg.gradgradcheck(lambda *xs: call(spec, case, xs), *inputs, eps=spec.eps)


def test_second_order_rows_cover_elementwise_matmul_and_reductions():
    names = {spec.name for spec in SECOND_ORDER_OPS}
    assert {"add", "mul", "div", "exp", "log", "tanh", "sigmoid", "gelu", "erf", "maximum",
            "where", "matmul", "sum", "mean", "max", "var", "logsumexp", "softmax",
            "log_softmax", "linear", "layer_norm", "softmax_cross_entropy",
            "scaled_dot_product_attention", "conv1d"} <= names

"""Every differentiable primitive is a row of the op table, so none goes untested.

The guard enumerates the ``Function`` subclasses defined in the modules of
tinygrad_course.ops (not the public names of the package: a fused op such as Linear or
ScaledDotProductAttention is reached only through layers and functional.py) and asks, for
each, which rows of op_table apply it (recorded by wrapping ``Function.apply`` while a row's
op runs on a few deterministic cases). Every op must be applied by a row of OPS (gradcheck
and the float32 forward test) and by a row of SECOND_ORDER_OPS (gradgradcheck), except the
ops listed in FIRST_ORDER_ONLY, whose backward is deliberately first-order; for those the
double backward must raise DoubleBackwardError, and that is tested here too.
"""

import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import FIRST_ORDER_ONLY, OPS, SECOND_ORDER_OPS, SEQUENCES, row_functions, tensors_of

import tinygrad_course as tg
from tinygrad_course import ops
from tinygrad_course.autograd import Function
from tinygrad_course.errors import DoubleBackwardError


def function_classes(package=ops):
    """The Function subclasses defined in the package's modules that are ops: they define
    or inherit a forward of their own (a shared base such as recurrent._Sequence does not)."""
    found = set()  # subpackages too (ops/fused/)
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Function)
                    and value.__module__ == module.__name__
                    and value.forward is not Function.forward):
                found.add(value)
    return found


def coverage_gaps(classes, rows, second_order_rows, first_order_only):
    """Lines naming each op that no row applies, or no second-order row (unless it is listed
    as first-order only); empty when the table covers them all."""
    applied = set().union(*(row_functions(spec) for spec in rows))
    applied_twice = set().union(*(row_functions(spec) for spec in second_order_rows))
    gaps = []
    for cls in sorted(classes, key=lambda c: (c.__module__, c.__name__)):
        name = f"{cls.__module__}.{cls.__name__}"
        if cls not in applied:
            gaps.append(f"{name}: no row of op_table.OPS applies it (add a row: gradcheck "
                        "and forward)")
        elif cls not in applied_twice and cls not in first_order_only:
            gaps.append(f"{name}: no second_order row applies it (mark its row "
                        "second_order=True, or list it in FIRST_ORDER_ONLY with the reason)")
    return gaps


def test_every_function_subclass_in_ops_is_a_row_of_the_op_table():
    classes = function_classes()
    assert len(classes) >= 50  # the enumeration finds the ops (not an empty set)
    assert not coverage_gaps(classes, OPS, SECOND_ORDER_OPS, FIRST_ORDER_ONLY)


class Untested(Function):
    """A new op nobody wrote a row for."""

    def forward(self, x):
        return x * 2

    def backward(self, grad):
        return grad * 2.0


def test_the_guard_reports_an_op_without_a_row_and_one_without_second_derivatives():
    classes = function_classes() | {Untested}
    gaps = coverage_gaps(classes, OPS, SECOND_ORDER_OPS, FIRST_ORDER_ONLY)
    assert gaps == [f"{__name__}.Untested: no row of op_table.OPS applies it (add a row: "
                    "gradcheck and forward)"]
    without_linear_twice = [spec for spec in SECOND_ORDER_OPS if spec.name != "linear"]
    gaps = coverage_gaps(function_classes(), OPS, without_linear_twice, FIRST_ORDER_ONLY)
    assert gaps == ["tinygrad_course.ops.fused.linear.Linear: no second_order row applies it (mark "
                    "its row second_order=True, or list it in FIRST_ORDER_ONLY with the reason)"]


def test_first_order_only_ops_are_ops_with_a_reason_and_no_second_order_row():
    classes = function_classes()
    for cls, reason in FIRST_ORDER_ONLY.items():
        assert cls in classes and len(reason) > 40
        assert not any(cls in row_functions(spec) for spec in SECOND_ORDER_OPS)


@pytest.mark.parametrize("spec", SEQUENCES, ids=[spec.name for spec in SEQUENCES])
@settings(max_examples=3)
@given(data=st.data())
def test_the_double_backward_of_a_first_order_only_op_raises_double_backward_error(spec, data):
    case = data.draw(spec.cases, label="case")
    (op,) = row_functions(spec)
    name = op.__name__
    with pytest.raises(DoubleBackwardError, match=f"{name}: .*cannot be differentiated again"):
        tg.gradgradcheck(lambda *xs: spec.op(*xs, **case.params), *tensors_of(case, np.float64))
    inputs = tensors_of(case)
    out = spec.op(*inputs, **case.params)
    with pytest.raises(DoubleBackwardError, match=name):
        out.backward(tg.ones(*out.shape), create_graph=True)
    assert tg.gradcheck(lambda *xs: spec.op(*xs, **case.params),  # first order: one path
                        *tensors_of(case, np.float64))

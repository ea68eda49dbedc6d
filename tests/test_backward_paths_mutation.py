"""Mutation test: a wrong formula in either backward path of any dual-path op fails the suite.

The fused ops (every Function whose backward asks ``is_grad_enabled()``) compute their
backward as Tensor ops under create_graph=True and straight on the arrays otherwise. For
each of them, and for each path separately, this plants an error (every gradient the
backward returns is doubled, on that path only) and runs the checks of the op's own rows
of the op table on cases where the planted error changes the gradient:

- array path wrong: gradcheck must raise (the finite differences see this path too);
- Tensor path wrong: gradcheck and gradgradcheck must both raise, through the comparison of
  the two paths (finite differences never run this path; gradgradcheck alone differentiates
  it, and before the comparison existed it checked that path only against itself).
"""

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from op_table import SECOND_ORDER_OPS, applied_functions, call, row_functions, tensors_of
from test_op_table_guard import function_classes

import tinygrad_course as tg
from tinygrad_course.errors import GradcheckError


def dual_path_ops():
    return sorted((cls for cls in function_classes()
                   if "is_grad_enabled()" in inspect.getsource(cls.backward)),
                  key=lambda cls: cls.__name__)


def rows_of(cls):
    """The second-order rows that apply ``cls`` and as few other ops as any such row (none:
    test_op_table_guard.py fails, asking for one)."""
    rows = [spec for spec in SECOND_ORDER_OPS if cls in row_functions(spec)]
    fewest = min((len(row_functions(spec)) for spec in rows), default=0)
    return [spec for spec in rows if len(row_functions(spec)) == fewest]


CASES = [(cls, spec) for cls in dual_path_ops() for spec in rows_of(cls)]
IDS = [f"{cls.__name__}-{spec.name}" for cls, spec in CASES]


def plant_doubled_gradients(monkeypatch, cls, under_create_graph):
    """Double every gradient cls.backward returns, only on the path chosen."""
    correct = cls.backward

    def doubled(self, grad):
        grads = correct(self, grad)
        if tg.is_grad_enabled() != under_create_graph:
            return grads
        if not isinstance(grads, (tuple, list)):
            return grads * 2.0
        return tuple(None if g is None else g * 2.0 for g in grads)

    monkeypatch.setattr(cls, "backward", doubled)


def gradients(spec, case, create_graph):
    """Each input's gradient of sum(v * op) by one path, as host arrays (0 for None)."""
    inputs = tensors_of(case, dtype=np.float64)
    out = call(spec, case, inputs)
    upstream = tg.tensor(np.random.default_rng(0).standard_normal(out.shape), np.float64)
    found = tg.grad(out, inputs, grad_output=upstream, create_graph=create_graph)
    return [np.zeros(x.shape) if g is None else g.numpy() for g, x in zip(found, inputs)]


def changes_the_gradient(monkeypatch, cls, spec, case, under_create_graph):
    """Whether the planted error changes some input's gradient on this case (a case whose
    gradients through the op are all 0, e.g. a softmax over one class, hides any factor)."""
    right = gradients(spec, case, under_create_graph)
    plant_doubled_gradients(monkeypatch, cls, under_create_graph)
    wrong = gradients(spec, case, under_create_graph)
    return any(not np.allclose(a, b, rtol=1e-5, atol=1e-4) for a, b in zip(right, wrong))


def test_the_dual_path_ops_are_found():
    names = {cls.__name__ for cls in dual_path_ops()}
    assert {"Linear", "LayerNorm", "L2Normalize", "SoftmaxCrossEntropy", "SquaredError",
            "SymmetricCrossEntropy", "Sum", "MaskedMean", "Relu", "Gelu", "EmbeddingLookup",
            "SimilarityLogits", "ScaledDotProductAttention"} <= names


MUTATION_SETTINGS = settings(max_examples=4, deadline=None,
                             suppress_health_check=[HealthCheck.filter_too_much,
                                                    HealthCheck.too_slow])


@pytest.mark.parametrize(("cls", "spec"), CASES, ids=IDS)
@MUTATION_SETTINGS
@given(data=st.data())
def test_a_wrong_array_path_fails_gradcheck(cls, spec, data):
    case = data.draw(spec.cases, label="case")
    assume(cls in applied_functions(spec, case))
    with pytest.MonkeyPatch.context() as planted:  # undone after each example
        assume(changes_the_gradient(planted, cls, spec, case, under_create_graph=False))
        with pytest.raises(GradcheckError):
            tg.gradcheck(lambda *xs: call(spec, case, xs), *tensors_of(case, np.float64),
                         eps=spec.eps)


@pytest.mark.parametrize(("cls", "spec"), CASES, ids=IDS)
@MUTATION_SETTINGS
@given(data=st.data())
def test_a_wrong_create_graph_path_fails_gradcheck_and_gradgradcheck(cls, spec, data):
    case = data.draw(spec.cases, label="case")
    assume(cls in applied_functions(spec, case))
    inputs = tensors_of(case, np.float64)
    with pytest.MonkeyPatch.context() as planted:  # undone after each example
        assume(changes_the_gradient(planted, cls, spec, case, under_create_graph=True))
        for check in (tg.gradcheck, tg.gradgradcheck):
            with pytest.raises(GradcheckError, match="create_graph backward gives a different"):
                check(lambda *xs: call(spec, case, xs), *inputs, eps=spec.eps)

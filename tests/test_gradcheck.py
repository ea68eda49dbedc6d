"""gradcheck must catch real mistakes: each test plants one in a Function and expects a report.

The three classic backward bugs:
  - forgetting to sum the gradient over broadcast axes (caught structurally: wrong shape),
  - a wrong local derivative (caught numerically: a table of the elements that differ),
  - forgetting to multiply by the upstream gradient (caught only because the upstream
    gradient gradcheck uses is random; with an upstream of ones the bug would hide).
And the rest of what gradcheck promises: naming the input that fails, hinting at a missing
constant factor, or at a kink when the input sits where the function is not differentiable,
refusing float32 and non-Tensor results, spotting inputs mutated in place and backwards that
are not repeatable, the two backward paths of a fused op (create_graph or not) disagreeing,
and gradgradcheck catching a backward that cannot be differentiated again.
"""

import math

import numpy as np
import pytest
import test_ops_gradgrad as gradgrad_tests
import test_ops_gradients as gradient_tests
from op_table import OpSpec, binary, unary

import tinygrad_course as tg
from tinygrad_course.errors import DoubleBackwardError, GradcheckError


def leaf(*shape, seed=0):
    return tg.randn(*shape, seed=seed, dtype=np.float64, requires_grad=True)


# ----- correct Functions pass ---------------------------------------------------------------
class Cube(tg.Function):
    """y = x^3;   dL/dx = dL/dy * 3 x^2."""

    def forward(self, x):
        return x * x * x

    def backward(self, grad):
        x = self.inputs[0]
        return grad * x * x * 3.0


def test_a_correct_function_passes_gradcheck_and_gradgradcheck():
    assert tg.gradcheck(Cube.apply, leaf(2, 3)) is True
    assert tg.gradgradcheck(Cube.apply, leaf(2, 3)) is True


# ----- bug 1: the gradient of a broadcast input is not summed back to its shape -------------
class AddForgetsBroadcastSum(tg.Function):
    """Planted bug: y = a + b, but backward hands dL/dy to b without summing over the axes
    that broadcasting added or stretched."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


def test_forgotten_broadcast_sum_is_reported_as_such():
    with pytest.raises(GradcheckError, match="broadcast") as caught:
        tg.gradcheck(AddForgetsBroadcastSum.apply, leaf(4, 3), leaf(3, seed=1))
    assert "(4, 3)" in str(caught.value) and "(3,)" in str(caught.value)


def test_forgotten_broadcast_sum_passes_when_nothing_is_broadcast():
    """Why the op table draws broadcastable pairs: with equal shapes this bug is invisible."""
    assert tg.gradcheck(AddForgetsBroadcastSum.apply, leaf(4, 3), leaf(4, 3, seed=1))


def test_the_op_table_property_test_catches_the_broadcast_bug():
    planted = OpSpec("add, broadcast sum forgotten", binary(), AddForgetsBroadcastSum.apply,
                     np.add)
    with pytest.raises(GradcheckError, match="broadcast"):
        gradient_tests.test_gradient_matches_finite_differences(spec=planted)


# ----- bug 2: a wrong local derivative ------------------------------------------------------
class TanhWrongDerivative(tg.Function):
    """Planted bug: y = tanh x with dy/dx written as 1 - y instead of 1 - y^2."""

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, grad):
        return grad * (1.0 - self.output)


def test_wrong_derivative_shows_a_table_of_the_elements_that_differ():
    x = leaf(2, 3)
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(TanhWrongDerivative.apply, x)
    report = str(caught.value)
    assert "input 0 (shape (2, 3))" in report and "6 of 6 gradient elements differ" in report
    assert all(word in report for word in ("index", "analytic", "numeric", "difference"))
    # the row of element (1, 2) carries the analytic and the true value of that element
    upstream = np.random.default_rng(0).standard_normal((2, 3))  # gradcheck's seed=0 upstream
    y = np.tanh(x.numpy()[1, 2])
    row = next(line for line in report.splitlines() if line.strip().startswith("(1, 2)"))
    analytic, numeric = (float(v) for v in row.split(")")[1].split()[:2])
    assert math.isclose(analytic, upstream[1, 2] * (1 - y), rel_tol=1e-5)
    assert math.isclose(numeric, upstream[1, 2] * (1 - y * y), rel_tol=1e-5)


class SquareMissingFactor(tg.Function):
    """Planted bug: y = x^2 with dy/dx = x (the 2 forgotten)."""

    def forward(self, x):
        return x * x

    def backward(self, grad):
        return grad * self.inputs[0]


def test_a_missing_constant_factor_gets_a_hint():
    with pytest.raises(GradcheckError, match=r"numeric = 2 x analytic everywhere") as caught:
        tg.gradcheck(SquareMissingFactor.apply, leaf(5))
    assert "kink" not in str(caught.value)  # smooth: the one-sided slopes agree


# ----- at a kink the function has no derivative: the report says so, not "a factor" ----------
def test_relu_at_zero_is_reported_as_a_kink():
    x = np.array([0.0, 1.5, -2.0, 0.0])
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(tg.relu, x)
    report = str(caught.value)
    assert "2 of 4 gradient elements differ" in report
    assert "not differentiable at this input (2 element(s); a kink: at index (0,)" in report
    upstream = np.random.default_rng(0).standard_normal(4)  # slopes of sum(v * relu(x))
    assert f"the left slope is {0.0:.4g}, the right slope {upstream[0]:.4g}" in report
    assert "constant factor" not in report  # numeric = analytic / 2 would have suggested one


def test_clip_at_its_bounds_is_reported_as_a_kink_not_a_missing_factor():
    """clip passes the gradient at lo and hi (PyTorch's choice), so the numeric value, the
    mean of the slopes 0 and 1, is half the analytic one at every bound: before the kink
    rule this read 'numeric = 0.5 x analytic everywhere: a constant factor is missing'."""
    x = np.array([-1.0, 2.0, 0.3, -1.0])
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(lambda t: t.clip(-1.0, 2.0), x)
    report = str(caught.value)
    assert "not differentiable at this input (3 element(s)" in report
    assert report.count("kink: slopes") == 3 and "constant factor" not in report


def test_an_input_within_eps_of_a_kink_is_reported_too():
    with pytest.raises(GradcheckError, match="not differentiable at this input"):
        tg.gradcheck(tg.abs, np.array([4e-7, 1.0]))


def test_a_three_way_tie_of_max_is_a_kink():
    """max splits dL/dy evenly among ties: 1/3 each here, while the numeric value is the mean
    of the slopes 1 (this element raised wins alone) and 0 (lowered, it loses). (A two-way
    tie of maximum gives 1/2, which that mean matches, so gradcheck passes there.)"""
    with pytest.raises(GradcheckError, match="tie in max/min/maximum/minimum") as caught:
        tg.gradcheck(lambda t: t.max(), np.array([3.0, 1.0, 3.0, 3.0]))
    assert "3 of 4 gradient elements differ" in str(caught.value)
    assert "constant factor" not in str(caught.value)


def test_a_kink_and_a_wrong_factor_elsewhere_get_both_hints():
    """Only the smooth elements count for the factor hint."""
    def relu_plus_wrong_square(x):
        return tg.relu(x[:1]).sum() + SquareMissingFactor.apply(x[1:]).sum()

    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(relu_plus_wrong_square, np.array([0.0, 1.0, -2.0, 0.5]))
    report = str(caught.value)
    assert "not differentiable at this input (1 element(s)" in report
    assert "numeric = 2 x analytic everywhere" in report


def test_a_0d_input_gets_a_report_too():
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(\)\): 1 of 1 .*\n.*\n  \(\) "):
        tg.gradcheck(SquareMissingFactor.apply, leaf())


class MulWrongSecondGradient(tg.Function):
    """Planted bug: y = a * b with dL/db = dL/dy * b (should be * a)."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * b, grad * b


def test_the_report_names_the_input_that_is_wrong():
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(MulWrongSecondGradient.apply, leaf(3), leaf(3, seed=1))
    assert "input 1" in str(caught.value) and "input 0" not in str(caught.value)


# ----- bug 3: the upstream gradient is not multiplied in ------------------------------------
class ExpForgetsUpstream(tg.Function):
    """Planted bug: y = e^x, but backward returns dy/dx = y instead of dL/dy * y."""

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, grad):
        return self.output


def test_forgotten_upstream_multiply_is_caught_by_the_random_upstream():
    with pytest.raises(GradcheckError, match="differ"):
        tg.gradcheck(ExpForgetsUpstream.apply, leaf(2, 2))


def test_forgotten_upstream_multiply_hides_behind_an_upstream_of_ones():
    """Why gradcheck's upstream gradient is random: with ones the same bug passes."""
    assert tg.gradcheck(ExpForgetsUpstream.apply, leaf(2, 2), upstream=np.ones((2, 2)))


# ----- structural problems ------------------------------------------------------------------
class ForgetsAnInput(tg.Function):
    """Planted bug: y = a * b, but backward returns no gradient for b."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        return grad * self.inputs[1], None


def test_a_missing_gradient_is_reported():
    with pytest.raises(GradcheckError, match="input 1 got no gradient"):
        tg.gradcheck(ForgetsAnInput.apply, leaf(3), leaf(3, seed=1))


class ReturnsOneGradientForTwoInputs(tg.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        return grad * self.inputs[1]


def test_a_wrong_number_of_gradients_is_reported():
    with pytest.raises(GradcheckError, match="returned 1 gradients for 2 inputs"):
        tg.gradcheck(ReturnsOneGradientForTwoInputs.apply, leaf(3), leaf(3, seed=1))


class DoublesInPlace(tg.Function):
    """Planted bug: forward writes into its input array."""

    def forward(self, x):
        x *= 2
        return x

    def backward(self, grad):
        return grad * 2.0


def test_an_input_changed_in_place_is_reported():
    with pytest.raises(GradcheckError, match="changed input 0 in place"):
        tg.gradcheck(DoublesInPlace.apply, leaf(3))


class NoisyBackward(tg.Function):
    """Planted bug: backward adds noise, so two identical runs disagree."""

    calls = 0

    def forward(self, x):
        return x * 1.0

    def backward(self, grad):
        NoisyBackward.calls += 1
        return grad * (1.0 + 1e-3 * NoisyBackward.calls)


def test_a_backward_that_is_not_repeatable_is_reported():
    with pytest.raises(GradcheckError, match="not repeatable"):
        tg.gradcheck(NoisyBackward.apply, leaf(3))


def test_float32_inside_fn_is_refused():
    with pytest.raises(GradcheckError, match="float64 all the way"):
        tg.gradcheck(lambda x: x.float() * 2.0, leaf(3))


def test_fn_must_return_a_tensor():
    with pytest.raises(GradcheckError, match="must return a Tensor"):
        tg.gradcheck(lambda x: x.numpy(), leaf(3))


def test_there_must_be_something_to_check():
    with pytest.raises(GradcheckError, match="no input to check"):
        tg.gradcheck(lambda x: x * 2.0, tg.tensor([1, 2, 3]))


def test_constant_inputs_pass_through_unchecked():
    weights = tg.tensor([1.0, 2.0, 3.0], dtype=np.float64)  # requires_grad=False: a constant
    index = tg.tensor([2, 0])  # integers: a constant
    assert tg.gradcheck(lambda x, w, i: (x * w)[i], leaf(3), weights, index)


def test_host_arrays_are_checked_on_the_default_device():
    constant = tg.tensor(np.ones((3, 2)), dtype=np.float64)  # on the default device
    host = np.random.default_rng(0).standard_normal((2, 3))
    assert tg.gradcheck(lambda x: x @ constant, host)


# ----- gradgradcheck: a backward written on raw arrays cannot be differentiated again --------
class CubeRawBackward(tg.Function):
    """Planted bug: y = x^3 with a backward whose 3 x^2 is computed on raw arrays, so it is a
    constant to autograd: first derivatives right, second derivatives silently zero."""

    def forward(self, x):
        return x * x * x

    def backward(self, grad):
        x = self.inputs[0]
        return grad * tg.tensor(3.0 * x.data * x.data, dtype=x.dtype, device=x.device)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = leaf(4)
    assert tg.gradcheck(CubeRawBackward.apply, x)
    with pytest.raises(GradcheckError, match="got no gradient"):
        tg.gradgradcheck(CubeRawBackward.apply, x)


def test_the_gradgrad_property_test_catches_the_raw_backward_bug():
    planted = OpSpec("cube, raw-array backward", unary(), CubeRawBackward.apply,
                     lambda x: x ** 3, second_order=True)
    with pytest.raises(GradcheckError):
        gradgrad_tests.test_second_derivative_matches_finite_differences(spec=planted)


# ----- two backward paths: create_graph=True (Tensor ops) and plain (arrays) must agree -------
class CubeTwoPaths(tg.Function):
    """y = x^3 with a dual-path backward like the fused ops': Tensor ops under create_graph,
    arrays otherwise. ``tensor_factor`` / ``array_factor`` plant a wrong factor in one path."""

    tensor_factor = array_factor = 1.0

    def forward(self, x):
        return x * x * x

    def backward(self, grad):
        x = self.inputs[0]
        if tg.is_grad_enabled():
            return grad * x * x * (3.0 * self.tensor_factor)
        return tg.constant(grad.data * x.data * x.data * (3.0 * self.array_factor), like=grad)


def test_a_correct_dual_path_function_passes_both_checks():
    assert tg.gradcheck(CubeTwoPaths.apply, leaf(2, 3))
    assert tg.gradgradcheck(CubeTwoPaths.apply, leaf(2, 3))


def test_a_wrong_create_graph_path_fails_gradcheck_although_finite_differences_agree(
        monkeypatch):
    """Finite differences see only the plain path; the comparison of the paths catches this."""
    monkeypatch.setattr(CubeTwoPaths, "tensor_factor", 2.0)
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(CubeTwoPaths.apply, leaf(2, 3))
    report = str(caught.value)
    assert ("the create_graph backward gives a different gradient than the plain backward "
            "for input 0 (shape (2, 3))") in report
    assert "create_graph = 2 x plain everywhere" in report and "CubeTwoPaths" in report
    with pytest.raises(GradcheckError, match="create_graph backward gives a different"):
        tg.gradgradcheck(CubeTwoPaths.apply, leaf(2, 3))


def test_a_wrong_plain_path_fails_gradcheck(monkeypatch):
    monkeypatch.setattr(CubeTwoPaths, "array_factor", 1.5)
    with pytest.raises(GradcheckError, match=r"create_graph = 0.6667 x plain everywhere"):
        tg.gradcheck(CubeTwoPaths.apply, leaf(4))
    with pytest.raises(GradcheckError, match="create_graph backward gives a different"):
        tg.gradgradcheck(CubeTwoPaths.apply, leaf(4))


class SquareThroughTwoPaths(tg.Function):
    """y = x^2 whose backward, dL/dx = dL/dy * 2x, multiplies by CubeTwoPaths(x) / x^2 = x
    rather than by x: the dual-path op is met only inside the first derivative, so only
    gradgradcheck's gradcheck of the first derivatives runs both of its paths."""

    def forward(self, x):
        return x * x

    def backward(self, grad):
        x = self.inputs[0]
        return grad * CubeTwoPaths.apply(x) / (x * x) * 2.0


def test_paths_are_compared_for_the_second_derivatives_too(monkeypatch):
    x = tg.tensor([0.7, -1.2, 1.9], dtype=np.float64, requires_grad=True)
    assert tg.gradgradcheck(SquareThroughTwoPaths.apply, x)
    monkeypatch.setattr(CubeTwoPaths, "tensor_factor", 2.0)  # the plain path stays right, so
    assert tg.gradcheck(SquareThroughTwoPaths.apply, x)  # the first derivatives are fine
    with pytest.raises(GradcheckError, match="create_graph backward gives a different"):
        tg.gradgradcheck(SquareThroughTwoPaths.apply, x)


class CubeFirstOrderOnly(tg.Function):
    """y = x^3 with a backward on arrays that refuses create_graph, as the sequence ops do."""

    def forward(self, x):
        return x * x * x

    def backward(self, grad):
        if tg.is_grad_enabled():
            raise DoubleBackwardError("CubeFirstOrderOnly: first-order only")
        x = self.inputs[0].data
        return tg.constant(grad.data * 3.0 * x * x, like=grad)


def test_a_first_order_only_op_passes_gradcheck_and_gradgradcheck_raises_its_error():
    assert tg.gradcheck(CubeFirstOrderOnly.apply, leaf(3))  # one path: nothing to compare
    with pytest.raises(DoubleBackwardError, match="CubeFirstOrderOnly"):
        tg.gradgradcheck(CubeFirstOrderOnly.apply, leaf(3))

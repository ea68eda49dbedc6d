"""gradcheck must catch real mistakes: each test plants one in a Function and expects a report.

The three classic backward bugs:
  - forgetting to sum the gradient over broadcast axes (caught structurally: wrong shape),
  - a wrong local derivative (caught numerically: a table of the elements that differ),
  - forgetting to multiply by the upstream gradient (caught only because the upstream
    gradient gradcheck uses is random; with an upstream of ones the bug would hide).
And the rest of what gradcheck promises: naming the input that fails, hinting at a missing
constant factor, refusing float32 and non-Tensor results, spotting inputs mutated in place
and backwards that are not repeatable, and gradgradcheck catching a backward that cannot be
differentiated again.
"""

import math

import numpy as np
import pytest
import test_ops_gradgrad as gradgrad_tests
import test_ops_gradients as gradient_tests
from op_table import OpSpec, binary, unary

import tinygrad_course as tg
from tinygrad_course.errors import GradcheckError


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
    with pytest.raises(GradcheckError, match=r"numeric = 2 x analytic everywhere"):
        tg.gradcheck(SquareMissingFactor.apply, leaf(5))


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

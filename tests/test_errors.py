"""Bad input raises an error that names the op, what it got and what it expected, never a bare
NumPy traceback from deep inside the engine. Each case checks the error class and the words
of its message."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import errors
from tinygrad_course.errors import (
    BackwardError,
    DeviceError,
    DTypeError,
    GradcheckError,
    ShapeError,
    TensorError,
)


def test_matmul_names_both_shapes_and_the_mismatch():
    a, b = tg.zeros(32, 10), tg.zeros(20, 5)
    with pytest.raises(ShapeError) as caught:
        a @ b
    assert str(caught.value) == "matmul: shapes (32, 10) and (20, 5) do not align: 10 != 20"
    with pytest.raises(ShapeError, match=r"matmul: shapes \(3,\) and \(2, 4, 5\) do not align: "
                                         r"3 != 4"):
        tg.matmul(tg.zeros(3), tg.zeros(2, 4, 5))
    with pytest.raises(ShapeError, match=r"matmul: needs tensors of at least 1 dim, got shapes "
                                         r"\(\) and \(2, 3\)"):
        tg.tensor(2.0) @ tg.zeros(2, 3)


def _x():
    return tg.zeros(2, 3)


# (what to call, the error class, a regular expression its message must match)
CASES = [
    (lambda: _x() + tg.zeros(4), ShapeError,
     r"add: cannot apply to inputs of shape/dtype \(2, 3\) float32, \(4,\) float32"),
    (lambda: tg.maximum(_x(), tg.zeros(4)), ShapeError, r"maximum: .*\(2, 3\).*\(4,\)"),
    (lambda: tg.where(_x() > 0, tg.zeros(4), _x()), ShapeError, r"where: .*\(4,\).*\(2, 3\)"),
    (lambda: _x().reshape(4, 2), ShapeError,
     r"reshape: cannot view a tensor of shape \(2, 3\) \(6 elements\) as shape \(4, 2\)"),
    (lambda: _x().reshape(-1, -1), ShapeError, r"reshape: .* as shape \(-1, -1\)"),
    (lambda: _x().transpose((0, 0)), ShapeError,
     r"transpose: axes \(0, 0\) are not a permutation of the 2 axes .* \(2, 3\)"),
    (lambda: _x().swapaxes(0, 5), ShapeError,
     r"swapaxes: axis 5 is out of range for a tensor of 2 dims"),
    (lambda: _x().broadcast_to(3, 3), ShapeError,
     r"broadcast_to: cannot broadcast shape \(2, 3\) to \(3, 3\)"),
    (lambda: _x().squeeze(0), ShapeError, r"squeeze: axis 0 of shape \(2, 3\) has size 2"),
    (lambda: _x().unsqueeze(4), ShapeError, r"unsqueeze: axis 4 out of range .* 3 dims"),
    (lambda: _x().flatten(1, 0), ShapeError, r"flatten: start_axis 1 comes after end_axis 0"),
    (lambda: _x().sum(axis=3), ShapeError, r"sum: axis 3 is out of range for a tensor of 2"),
    (lambda: _x().mean(axis=(0, -2)), ShapeError, r"mean: repeated axis in \(0, -2\)"),
    (lambda: _x().softmax(axis=2), ShapeError, r"softmax: axis 2 is out of range"),
    (lambda: _x().argmax(axis=-3), ShapeError, r"argmax: axis -3 is out of range"),
    (lambda: _x().argmin(axis=(0, 1)), ShapeError, r"argmin: axis must be one int or None"),
    (lambda: tg.zeros(0).max(), ShapeError, r"max: cannot reduce an empty tensor of shape"),
    (lambda: tg.zeros(3).var(axis=(), ddof=1), ShapeError,
     r"var: 1 elements with ddof=1 leave no degrees of freedom"),
    (lambda: tg.concatenate([_x(), tg.zeros(3, 3)], axis=1), ShapeError,
     r"concatenate: shapes \[\(2, 3\), \(3, 3\)\] differ outside axis 1"),
    (lambda: tg.concatenate([]), ShapeError, r"concatenate: needs at least one tensor"),
    (lambda: tg.concatenate([tg.tensor(1.0)]), ShapeError, r"concatenate: cannot join 0-d"),
    (lambda: tg.stack([_x(), tg.zeros(3, 2)]), ShapeError,
     r"stack: all tensors need the same shape, got \[\(2, 3\), \(3, 2\)\]"),
    (lambda: tg.split(_x(), 2, axis=1), ShapeError,
     r"split: axis 1 of length 3 cannot be split into 2 equal sections"),
    (lambda: tg.pad(_x(), -1), ShapeError, r"pad: negative pad width -1"),
    (lambda: _x()[5], ShapeError,
     r"getitem: index 5 does not fit a tensor of shape \(2, 3\) .*out of bounds"),
    (lambda: _x()[[True, False, True]], ShapeError,
     r"getitem: index \[True, False, True\] does not fit a tensor of shape \(2, 3\)"),
    (lambda: _x()[tg.tensor([0.5])], ShapeError,
     r"getitem: index arrays must be integer or bool, got float32"),
    (lambda: _x().clip(), ValueError, r"clip: give at least one of min and max"),
    (lambda: tg.gelu(_x(), approximate="fast"), ValueError,
     r"gelu: approximate must be 'none' or 'tanh', got 'fast'"),
    (lambda: tg.tensor([1, 2], requires_grad=True), DTypeError,
     r"requires_grad=True needs a floating dtype, got int64"),
    (lambda: tg.tensor([1]).requires_grad_(), DTypeError,
     r"requires_grad_: needs a floating dtype, got int64"),
    (lambda: tg.tensor([1.0], device="tpu"), DeviceError,
     r"device: got 'tpu', expected one of \('cpu', 'cuda', 'strict'\)"),
    (lambda: tg.tensor([1.0], device="cpu") * tg.tensor([1.0], device="strict"), DeviceError,
     r"mul: tensors on different devices \['cpu', 'strict'\]"),
    (lambda: tg.tensor([1.0], device="strict") + np.ones(1), DeviceError,
     r"got a cpu array to combine with a tensor on 'strict'"),
    (lambda: tg.tensor([1.0], device="strict")[tg.tensor([0], device="cpu")], DeviceError,
     r"getitem: index tensor on 'cpu' for a tensor on 'strict'"),
]


@pytest.mark.parametrize("call, error, message", CASES,
                         ids=[message.split(":")[0].split(" ")[0] + f"-{i}"
                              for i, (_, _, message) in enumerate(CASES)])
def test_bad_input_raises_a_named_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_user_function_that_fails_in_forward_names_itself_and_its_inputs():
    class Outer(tg.Function):
        def forward(self, a, b):
            return self.xp.outer(a, b).reshape(7)

        def backward(self, grad):
            return None, None

    with pytest.raises(ShapeError, match=r"outer: cannot apply to inputs of shape/dtype "
                                         r"\(2,\) float32, \(3,\) float32"):
        Outer.apply(tg.zeros(2), tg.zeros(3))


def test_cuda_is_refused_clearly_when_it_is_not_there():
    if tg.backend.cuda_available():
        pytest.skip("this machine has a working GPU")
    with pytest.raises(DeviceError, match="device 'cuda' was asked for but is not available"):
        tg.tensor([1.0], device="cuda")


def test_error_classes_are_also_the_python_errors_people_catch():
    assert issubclass(ShapeError, ValueError) and issubclass(DTypeError, TypeError)
    assert issubclass(DeviceError, RuntimeError) and issubclass(BackwardError, RuntimeError)
    assert issubclass(GradcheckError, AssertionError)
    for error in (ShapeError, DTypeError, DeviceError, BackwardError, GradcheckError):
        assert issubclass(error, TensorError)
    assert errors.TensorError is tg.TensorError

"""The errors the engine raises; each message names the op, what it got and what it expected."""


class TensorError(Exception):
    """Base class of every error raised by tinygrad_course."""


class ShapeError(TensorError, ValueError):
    """Shapes that do not fit the operation (e.g. matmul with 10 != 20)."""


class DTypeError(TensorError, TypeError):
    """A dtype the operation cannot take (e.g. requires_grad on an integer tensor)."""


class DeviceError(TensorError, RuntimeError):
    """Tensors on different devices, or a device that is not available."""


class BackwardError(TensorError, RuntimeError):
    """backward() called where no gradient can flow, or a Function returned a bad gradient."""


class GradcheckError(TensorError, AssertionError):
    """Analytic and numeric gradients disagree; the message is a readable report."""


class DoubleBackwardError(BackwardError):
    """backward(create_graph=True) through an op whose backward is first-order only (it runs
    on raw arrays and cannot be differentiated again, e.g. the fused sequence ops)."""

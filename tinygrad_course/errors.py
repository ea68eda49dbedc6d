"""The errors the engine raises; each message names the op, what it got and what it expected."""


class TensorError(Exception):
    """Base class of every error raised by tinygrad_course."""


class ShapeError(TensorError, ValueError):
    """Shapes that do not fit the operation (e.g. matmul with 10 != 20)."""


class DTypeError(TensorError, TypeError):
    """A dtype or a Python type the operation cannot take (requires_grad on an integer tensor,
    None or a string as an operand, complex data, a str where a list of tokens is expected)."""


class ArgumentError(TensorError, ValueError):
    """An argument the operation cannot take that is not a shape or a dtype: a learning rate
    of NaN, a negative size, max_size=-1, a step of 0."""


class DeviceError(TensorError, RuntimeError):
    """Tensors on different devices, or a device that is not available."""


class BackwardError(TensorError, RuntimeError):
    """backward() called where no gradient can flow, or a Function returned a bad gradient."""


class GradcheckError(TensorError, AssertionError):
    """Analytic and numeric gradients disagree; the message is a readable report."""


class CheckpointError(TensorError, ValueError):
    """A checkpoint or state_dict that cannot be loaded: a damaged file, or names, shapes,
    dtypes or values that do not fit the model or optimiser (which are left unchanged)."""


class DoubleBackwardError(BackwardError):
    """backward(create_graph=True) through an op whose backward is first-order only (it runs
    on raw arrays and cannot be differentiated again, e.g. the fused sequence ops)."""


class TrainingDivergedError(TensorError, FloatingPointError):
    """Training blew up (loss far above its start, or exploding parameters); the message says
    what to lower (learning rate, batch size)."""

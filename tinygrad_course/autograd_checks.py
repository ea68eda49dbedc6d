"""Named errors for the mistakes a hand-written ``Function`` can make, and for a bad root.

The core (autograd.py) calls these by name, only where something is already wrong or on
the once-per-backward root check, so the checks cost the common case nothing:

- ``forward_failed``: forward raised on its arrays (wrong shapes, or a Tensor handed to NumPy);
- ``check_forward_result``: forward returned something other than one backend array;
- ``gradient_list``: backward returned the wrong number of gradients;
- ``refuse_gradient``: one gradient is not a Tensor, or has the wrong shape;
- ``checked_root_gradient``: backward() called on something that has no gradient to give.
"""


from . import backend
from .errors import BackwardError, DTypeError, ShapeError, TensorError
from .tensor import Tensor, TensorAsArrayError, check_same_device, constant


def forward_failed(cls, inputs, err):
    """Re-raise an error from ``cls.forward`` under the op's name: a TensorError as it is
    (a Tensor met NumPy inside forward gets its own explanation), a NumPy ValueError,
    TypeError or IndexError as a ShapeError listing the inputs' shapes and dtypes."""
    if isinstance(err, TensorAsArrayError):
        raise DTypeError(
            f"{cls.__name__}.forward: a Tensor was handed to a NumPy/array function; forward "
            "works on the raw arrays it receives (and self.xp functions of them), never on "
            "Tensors: pass tensors to apply() positionally, and use t.data for a tensor kept "
            "on self") from None
    if isinstance(err, TensorError):
        raise err
    got = ", ".join(f"{t.shape} {t.dtype}" for t in inputs)
    raise ShapeError(f"{cls.__name__.lower()}: cannot apply to inputs of shape/dtype "
                     f"{got}: {err}") from err


def check_forward_result(cls, data):
    """forward must return one backend array: a NumPy/CuPy/strict array or a NumPy scalar
    (what a full reduction such as x.sum() gives)."""
    if isinstance(data, backend.numpy.generic) or backend.is_device_array(data):
        return
    what = type(data).__name__
    hint = ("return its .data (better: compute on the arrays forward receives)"
            if isinstance(data, Tensor) else "return an array, e.g. self.xp.asarray(...)")
    raise DTypeError(f"{cls.__name__}.forward returned a {what} object; forward must return one "
                     f"array of the backend (self.xp): {hint}")


def gradient_list(fn, input_grads):
    """``fn.backward``'s result as a sequence with one gradient (or None) per input."""
    if not isinstance(input_grads, (tuple, list)):
        input_grads = (input_grads,)
    if len(input_grads) != len(fn.inputs):
        raise BackwardError(f"{type(fn).__name__}.backward returned {len(input_grads)} "
                            f"gradients for {len(fn.inputs)} inputs; it must return one Tensor "
                            "(or None) per input, in the order apply() got them")
    return input_grads


def refuse_gradient(fn, input_grads):
    """Called when a gradient that ``fn.backward`` returned is not a Tensor of its input's
    shape: raises a BackwardError naming the first such input."""
    for i, (parent, grad, needed) in enumerate(zip(fn.inputs, input_grads,
                                                   fn.needs_input_grad)):
        if not needed or grad is None:
            continue
        if not isinstance(grad, Tensor):
            what = type(grad).__name__
            hint = (" (wrap an array as Tensor(array), or better write the backward with "
                    "Tensor ops)" if backend.is_device_array(grad) else "")
            raise BackwardError(f"{type(fn).__name__}.backward returned a {what} object as the "
                                f"gradient of input {i}; it must return one Tensor (or None) "
                                f"per input{hint}")
        if grad.data.shape != parent.data.shape:
            raise BackwardError(
                f"{type(fn).__name__}.backward: gradient of shape {grad.shape} for an input "
                f"of shape {parent.shape}; did you forget to sum over broadcast axes?")


def checked_root_gradient(root, grad):
    """The gradient backward() starts from: ``grad`` checked against ``root``, or 1 for a
    scalar root (d root / d root)."""
    if not root.requires_grad:
        raise BackwardError(
            f"backward: the tensor of shape {root.shape} does not require grad; no input it "
            "depends on has requires_grad=True (or it was computed under no_grad())"
        )
    if grad is None:
        if root.size != 1:
            raise BackwardError(
                f"backward: called on a tensor of shape {root.shape} without a gradient; "
                "reduce it to a scalar first (e.g. .sum() or .mean()) or pass grad= of "
                f"shape {root.shape}"
            )
        # an array-level test (not float()), so tg.compile can record it as a check
        if not bool(root.xp.isfinite(root.data).all()):
            value = float(backend.to_numpy(root.data).reshape(()))
            raise BackwardError(f"backward: the loss is {value}; check the inputs, the learning "
                                "rate and log/div of zero")
        return constant(root.xp.ones(root.shape, dtype=root.dtype), like=root)
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=root.dtype,
                                                         device=root.device)
    if grad.shape != root.shape:
        raise ShapeError(f"backward: grad has shape {grad.shape}, expected the tensor's shape "
                         f"{root.shape}")
    check_same_device("backward", root, grad)
    return grad

"""torch.autograd: Variable (an old name for Tensor), grad and backward on views."""

from .. import autograd as core_autograd
from ..tensor import Tensor as CoreTensor
from ._tensor import Tensor, core_of, unwrap, wrap


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 (PyTorch's name)
    """What PyTorch 0.4+ makes of Variable(t): t itself, with requires_grad set if asked
    (a leaf sharing t's array when t is not already one)."""
    t = core_of(data, "Variable")
    if requires_grad and not t.requires_grad:
        if t._ctx is not None:
            t = CoreTensor._from_op(t.data, t.device, False)
        t.requires_grad_(True)
    return wrap(t)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=True):
    """d outputs / d inputs as a tuple (None for an input the outputs do not use)."""
    single = isinstance(inputs, Tensor)
    results = core_autograd.grad(unwrap(outputs), unwrap([inputs] if single else list(inputs)),
                                 grad_outputs=unwrap(grad_outputs), create_graph=create_graph,
                                 retain_graph=retain_graph)
    return tuple(wrap(results))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    core_of(tensors, "backward").backward(unwrap(grad_tensors), create_graph=create_graph,
                                          retain_graph=retain_graph)


no_grad = core_autograd.no_grad
set_grad_enabled = core_autograd.set_grad_enabled

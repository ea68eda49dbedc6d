"""Reverse-mode automatic differentiation: the chain rule, run backwards over a recorded graph.

Forward, every op records itself: its output tensor remembers the op (a ``Function``) and
the op remembers its inputs. A loss L is thus the last node of a graph that leads back to
the leaves (the inputs and parameters).

Backward, the chain rule. If a tensor x is used by the ops whose outputs are y_1 ... y_k,

    dL/dx = sum over i of  (dy_i/dx)^T dL/dy_i

Each op knows only its own local derivative: its ``backward`` takes dL/dy and returns dL/dx
for each input (a vector-Jacobian product; the Jacobian itself is never built). So walk the
graph once, from L back to the leaves, in an order where every tensor comes after all the
ops that use it. When a tensor's turn comes its dL/dx is complete (every use has added its
part), and the op that made it passes it on to that op's inputs. One walk gives dL/dw for
every parameter w at the cost of about one more forward pass: this is what makes training a
network with millions of parameters possible.

Three pieces, each small enough to read in one sitting:

1. ``Function``: one differentiable primitive, forward and backward side by side.
2. ``topological_order``: every tensor the loss depends on, each after its inputs.
3. ``chain_rule``: the walk, called by ``backward`` (fills ``.grad``) and ``grad`` (returns
   the gradients).

Backward methods are written with Tensor operations, so with ``create_graph=True`` the walk
records a graph of its own that can be differentiated again (second derivatives,
Hessian-vector products).

The core calls a few helpers by name, each in a module of its own with its docstring: the
in-place clock (inplace.py), freeing what ops saved once backward is done (graph_memory.py),
Tensor.register_hook (hooks.py), and the named errors for a Function that returns the wrong
thing (autograd_checks.py). How the fast ops save time is told beside them (ops/fused/).
"""

import contextlib
import itertools
import operator
import weakref

from . import autograd_checks, backend, graph_memory, hooks, inplace
from .errors import TensorError
from .tensor import Tensor, as_tensor, check_same_device

_grad_enabled = True
_ARRAY_MODULES = {"cpu": backend.numpy}  # device -> array module, for the common devices
_op_numbers = itertools.count()  # numbers the recorded ops in creation order
_ndarray = backend.numpy.ndarray


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(enabled):
    """Turn graph building on or off inside a ``with`` block."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(enabled)
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """``with no_grad():`` computes without recording a graph (inference, optimiser steps)."""
    return set_grad_enabled(False)


class Function:
    """A differentiable primitive. Subclass it and write two methods side by side:

    forward(self, *arrays, **params) -> array
        The math on raw backend arrays (``self.xp`` is numpy or cupy). Store anything
        backward needs on ``self``.
    backward(self, grad) -> one gradient per input (Tensor, or None where not needed)
        ``grad`` is dL/d(output) as a Tensor; use Tensor operations so the backward can be
        differentiated again. ``self.inputs`` are the input tensors, ``self.output`` the
        output tensor, ``self.needs_input_grad[i]`` says whether input i wants a gradient.

    Call it with ``MyFunction.apply(*tensors, **params)``: tensors positional, everything
    else (axes, shapes, constants) by keyword.
    """

    inputs = ()
    needs_input_grad = ()
    sequence_number = 0  # its place in creation order (see topological_order)
    created_at = 0  # the in-place clock when it was applied (see inplace.py)
    released = False  # True once a backward freed what it saved (see graph_memory.py)

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; when a gradient will be wanted, record the op."""
        # On every op of every step, so: one pass over the inputs, and nothing the common
        # case (all Tensors on one device) does not need. benchmarks/scaling.py measures it.
        fn = cls()
        device = inputs[0].device if inputs and isinstance(inputs[0], Tensor) else None
        arrays, needs_input_grad = [], []
        for t in inputs:
            if not isinstance(t, Tensor) or t.device != device:  # rare: a number or an
                return cls._apply_mixed(inputs, params)  # array among them, or two devices
            arrays.append(t.data)
            needs_input_grad.append(t.requires_grad)
        fn.output_device = device  # forward may change it (only .to(device) does)
        fn.xp = _ARRAY_MODULES.get(device) or backend.get_array_module(device)
        try:
            data = fn.forward(*arrays, **params)
        except (TensorError, ValueError, TypeError, IndexError) as err:
            autograd_checks.forward_failed(cls, inputs, err)
        if type(data) is not _ndarray:  # one comparison in the common case
            autograd_checks.check_forward_result(cls, data)
        if not (_grad_enabled and True in needs_input_grad):
            return Tensor._from_op(data, fn.output_device, False)  # nothing to record
        out = Tensor._from_op(data, fn.output_device, True)
        fn.inputs = inputs
        fn.needs_input_grad = tuple(needs_input_grad)
        fn.sequence_number = next(_op_numbers)
        fn.created_at = inplace.clock
        fn._output_ref = weakref.ref(out)  # weak: output -> fn -> output would be a cycle
        out._ctx = fn
        return out

    @classmethod
    def _apply_mixed(cls, inputs, params):
        """apply() when some inputs are not Tensors (wrapped as constants here) or the
        Tensors are on different devices (check_same_device raises, naming them)."""
        tensors = tuple(as_tensor(t, cls.__name__.lower()) for t in inputs)
        check_same_device(cls.__name__.lower(), *tensors)
        return cls.apply(*tensors, **params)

    @property
    def output(self):
        """The tensor this call produced (alive while backward runs through it)."""
        out = self._output_ref()
        if out._modified_at > self.created_at:
            inplace.refuse_overwritten(self, "its output", out)
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    def release(self):
        """Drop the inputs and everything forward saved (see graph_memory.py)."""
        self.__dict__.clear()
        self.released = True


def topological_order(root):
    """Tensors made by ops that ``root`` depends on (``root`` included), each after all of
    its inputs.

    A search from ``root`` finds them (with an explicit stack, so a 2,000-step chain needs
    no recursion); then they are sorted by the number ``apply`` gave their op. An op's
    inputs existed before the op was applied, so they always carry smaller numbers:
    creation order puts every tensor after its inputs (PyTorch's engine orders its work by
    such sequence numbers too).
    """
    if root._ctx is None:
        return []  # a leaf: no op made it
    found, stack = {root}, [root]  # tensors hash by identity (Tensor.__hash__)
    while stack:
        for parent in stack.pop()._ctx.inputs:
            if parent._ctx is not None and parent not in found:
                found.add(parent)
                stack.append(parent)
    return sorted(found, key=_sequence_number)


_sequence_number = operator.attrgetter("_ctx.sequence_number")


def chain_rule(root, grad, keep=()):
    """dL/dt for every tensor t that L = ``root`` depends on, given ``grad`` = dL/droot.

    Returns ``(leaf_grads, kept, ran)``: {leaf: dL/dleaf}, {t: dL/dt} for each op output t
    in ``keep`` or marked ``retain_grad()``, and the ops whose backward ran.
    """
    grads = {root: grad}  # tensor -> dL/dtensor, summed over the uses met so far
    kept, ran = {}, []
    for tensor in reversed(topological_order(root)):  # each tensor after all its uses
        grad = grads.pop(tensor, None)
        if grad is None:
            continue  # no use of it needed a gradient
        if tensor._backward_hooks is not None:
            grad = hooks.run_hooks(tensor, grad)
        if tensor._retains_grad or tensor in keep:
            kept[tensor] = grad
        fn = tensor._ctx
        if fn.released:  # a second backward through a freed graph
            graph_memory.refuse_released(fn, tensor)
        if fn.created_at < inplace.clock:  # an in-place op ran since: were inputs hit?
            inplace.check_inputs(fn)
        input_grads = autograd_checks.gradient_list(fn, fn.backward(grad))
        ran.append(fn)
        for x, x_grad, needed in zip(fn.inputs, input_grads, fn.needs_input_grad):
            if needed and x_grad is not None:
                if not isinstance(x_grad, Tensor) or x_grad.data.shape != x.data.shape:
                    autograd_checks.refuse_gradient(fn, input_grads)
                earlier = grads.get(x)  # x used more than once: the uses add up
                grads[x] = x_grad if earlier is None else add_gradients(earlier, x_grad)
    for leaf, leaf_grad in grads.items():  # every op output was popped: these are leaves
        if leaf._backward_hooks is not None:  # a leaf's hooks see the sum over its uses
            grads[leaf] = hooks.run_hooks(leaf, leaf_grad)
    return grads, kept, ran


def add_gradients(earlier, grad):
    """earlier + grad, two gradients of one tensor: an op while backward builds a graph
    (create_graph=True), so the sum can be differentiated again; else a plain array sum."""
    if _grad_enabled:
        return earlier + grad
    return Tensor._from_op(earlier.data + grad.data, grad.device, False)


def _accumulate(tensor, grad):
    """Add ``grad`` into ``tensor.grad`` (gradients of every backward add up, as PyTorch's)."""
    if grad.data.dtype != tensor.data.dtype:
        grad = grad.astype(tensor.dtype)
    tensor.grad = grad if tensor.grad is None else add_gradients(tensor.grad, grad)


def backward(root, grad=None, create_graph=False, retain_graph=None):
    """Add d root / d x into ``x.grad`` for every leaf x with requires_grad (and for each
    op output that asked with retain_grad()); see Tensor.backward."""
    grad = autograd_checks.checked_root_gradient(root, grad)
    with set_grad_enabled(create_graph):  # create_graph: the walk records a graph too
        leaf_grads, kept, ran = chain_rule(root, grad)
        for tensor, tensor_grad in itertools.chain(leaf_grads.items(), kept.items()):
            _accumulate(tensor, tensor_grad)
    if not (create_graph if retain_graph is None else retain_graph):
        graph_memory.release(ran)


def grad(output, inputs, grad_output=None, create_graph=False, retain_graph=None, *,
         grad_outputs=None):
    """d output / d input for each of ``inputs``, returned as a list; ``.grad`` is left alone.

    An input that ``output`` does not depend on gets None. With create_graph=True the results
    are themselves differentiable (this is how gradgradcheck and Hessian-vector products work).
    retain_graph (default: create_graph) keeps the graph for another backward through it.
    PyTorch's spellings work too: ``grad_outputs=`` for grad_output, and one-element lists
    for output and grad_outputs (torch.autograd.grad([y], [x], grad_outputs=[v])); a single
    Tensor as ``inputs`` is taken as [inputs].
    """
    if grad_outputs is not None:
        if grad_output is not None:
            raise TensorError("grad: got both grad_output and grad_outputs (the same argument)")
        grad_output = grad_outputs
    output, grad_output = _single("output", output), _single("grad_outputs", grad_output)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    grad_output = autograd_checks.checked_root_gradient(output, grad_output)
    with set_grad_enabled(create_graph):
        leaf_grads, kept, ran = chain_rule(output, grad_output, keep=set(inputs))
    if not (create_graph if retain_graph is None else retain_graph):
        graph_memory.release(ran)
    return [kept[t] if t in kept else leaf_grads.get(t) for t in inputs]


def _single(name, value):
    """One tensor given in a list or tuple of one (PyTorch's sequences) -> the tensor; a
    list of numbers stays as it is (it is data)."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Tensor) for v in value):
        if len(value) != 1:
            raise TensorError(f"grad: {name} must be one tensor (or a list of one), got "
                              f"{len(value)}; take the gradient of their sum instead")
        return value[0]
    return value


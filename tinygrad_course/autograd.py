"""Reverse-mode automatic differentiation.

Three pieces, each small enough to read in one sitting:

1. ``Function``: one differentiable primitive. ``forward`` computes on raw arrays;
   ``backward`` receives dL/d(output) and returns dL/d(input) for each input. Backward is
   written with Tensor operations, so with ``create_graph=True`` the backward pass builds a
   graph of its own and can be differentiated again (second derivatives). The fused ops
   (linear, layer_norm, attention, ...) also run the same formulas straight on the arrays
   when no second derivative is wanted: no graph node per intermediate product.
2. ``topological_order``: every tensor the loss depends on, inputs before outputs: found with
   an explicit stack (no recursion, so a 2,000-step chain is fine), then sorted by the
   number each op got when it was applied (an op is always applied after its inputs exist).
3. ``backward``: walk that order from the loss back to the leaves, applying the chain rule
      dL/dx = sum over uses y of x:  backward_of_y(dL/dy)
   and adding up the contributions of every use of a tensor before passing it on.
   As in PyTorch, the ops let go of what they saved (inputs and intermediate arrays) when
   the backward pass is done with them, so the graph's memory is returned when backward()
   returns rather than when the loss is dropped; ``retain_graph=True`` keeps the graph for
   another backward through it. (PyTorch frees each op's arrays right after its own
   backward, which lowers the peak. Here they are freed together at the end: freed one by
   one among the gradients being allocated, they left holes that glibc's malloc handed back
   to the kernel and faulted in again every step, ~1,500 page faults per step of the CLIP
   benchmark; see benchmarks/README.md.)

In-place ops (``F.relu(x, inplace=True)``, ``add(a, b, inplace=True)``) overwrite a
tensor's array. A global clock counts in-place ops; the tensor an in-place op overwrites is
stamped with the new time, and every op remembers the time it was created. Backward
refuses, with a BackwardError naming the op, to use an input (or, through
``Function.output``, an output) stamped later than the op: its value was overwritten after
the op saw it. This is PyTorch's version-counter rule, and it is conservative: it also
refuses when the op's backward would not have needed the overwritten values. (Unlike
PyTorch, other tensors sharing the overwritten array are not stamped.) Until the first
in-place op, checking costs one integer comparison per op.

Tensor hooks (``t.register_hook(fn)``, as PyTorch's) see, and may replace, a tensor's
gradient once it is complete: for an op's output when every use has added its part, just
before the op's backward; for a leaf after the whole walk, with the sum over its uses, just
before it goes into ``.grad``. A tensor without hooks costs one attribute check.
"""

import contextlib
import itertools
import math
import operator
import weakref

from . import backend
from .errors import ArgumentError, BackwardError, DTypeError, ShapeError, TensorError
from .tensor import Tensor, TensorAsArrayError, as_tensor, check_same_device

_grad_enabled = True
_ARRAY_MODULES = {"cpu": backend.numpy}  # device -> array module, for the common devices
_inplace_clock = 0  # how many in-place ops have run (see the module docstring)
_op_numbers = itertools.count()  # numbers the recorded ops in creation order


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
    created_at = 0  # the in-place clock when the op was applied
    sequence_number = 0  # its place in creation order (see topological_order)
    needs_input_grad = ()
    released = False  # set once a backward has run through it and freed what it saved

    @classmethod
    def apply(cls, *inputs, **params):
        # Every op of every step passes through here, so it is written for speed: one pass
        # over the inputs, and no work that the common case (all Tensors on one device) does
        # not need. See benchmarks/scaling.py for its cost per op.
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
        except TensorError as err:
            if isinstance(err, TensorAsArrayError):  # a Tensor met NumPy inside forward
                _forward_got_a_tensor(cls)
            raise
        except (ValueError, TypeError, IndexError) as err:
            got = ", ".join(f"{t.shape} {t.dtype}" for t in inputs)
            raise ShapeError(f"{cls.__name__.lower()}: cannot apply to inputs of shape/dtype "
                             f"{got}: {err}") from err
        if type(data) is not _ndarray:  # one comparison in the common case (see below)
            _check_forward_result(cls, data)
        if not (_grad_enabled and True in needs_input_grad):
            return Tensor._from_op(data, fn.output_device, False)
        out = Tensor._from_op(data, fn.output_device, True)
        fn.inputs = inputs
        fn.needs_input_grad = tuple(needs_input_grad)
        fn.created_at = _inplace_clock
        fn.sequence_number = next(_op_numbers)
        fn._output_ref = weakref.ref(out)  # a weak link: output -> fn -> output is no cycle
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
            _overwritten(self, "its output", out)
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def release(self):
        """Drop the inputs and everything forward saved (at the end of a backward without
        retain_graph), so their arrays are freed then rather than with the loss."""
        self.__dict__.clear()
        self.released = True

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward()")


_ndarray = backend.numpy.ndarray


def _forward_got_a_tensor(cls):
    raise DTypeError(
        f"{cls.__name__}.forward: a Tensor was handed to a NumPy/array function; forward works "
        "on the raw arrays it receives (and self.xp functions of them), never on Tensors: "
        "pass tensors to apply() positionally, and use t.data for a tensor kept on self"
    ) from None


def _check_forward_result(cls, data):
    """forward must return one backend array: a NumPy/CuPy/strict array or a NumPy scalar
    (what a full reduction such as x.sum() gives)."""
    if isinstance(data, backend.numpy.generic) or backend.is_device_array(data):
        return
    what = type(data).__name__
    hint = ("return its .data (better: compute on the arrays forward receives)"
            if isinstance(data, Tensor) else "return an array, e.g. self.xp.asarray(...)")
    raise DTypeError(f"{cls.__name__}.forward returned a {what} object; forward must return one "
                     f"array of the backend (self.xp): {hint}")


def _refuse_gradient(fn, i, grad):
    what = type(grad).__name__
    hint = (" (wrap an array as Tensor(array), or better write the backward with Tensor ops)"
            if backend.is_device_array(grad) else "")
    raise BackwardError(f"{type(fn).__name__}.backward returned a {what} object as the gradient of "
                        f"input {i}; it must return one Tensor (or None) per input{hint}")


def topological_order(root):
    """Tensors made by ops that ``root`` depends on (``root`` included), each after all of
    its inputs.

    A search from ``root`` finds them; then they are sorted by the number ``apply`` gave
    their op when it ran. An op's inputs existed before the op was applied, so they always
    carry smaller numbers: creation order is an order in which every tensor comes after its
    inputs (PyTorch's engine orders its work by such sequence numbers too).
    """
    found, stack = {root}, [root]  # tensors hash by identity (Tensor.__hash__)
    while stack:
        for parent in stack.pop()._ctx.inputs:
            if parent._ctx is not None and parent not in found:
                found.add(parent)
                stack.append(parent)
    return sorted(found, key=_sequence_number)


_sequence_number = operator.attrgetter("_ctx.sequence_number")


def _add_gradients(earlier, grad):
    """earlier + grad, two gradients of one tensor: an op while backward builds a graph
    (create_graph=True), so the sum can be differentiated again; else a plain array sum."""
    if _grad_enabled:
        return earlier + grad
    return Tensor._from_op(earlier.data + grad.data, grad.device, False)


def _accumulate(tensor, grad):
    """Add ``grad`` into ``tensor.grad`` (gradients of every use of a tensor add up)."""
    if grad.data.dtype != tensor.data.dtype:
        grad = grad.astype(tensor.dtype)
    tensor.grad = grad if tensor.grad is None else _add_gradients(tensor.grad, grad)


def _check_root(root, grad):
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
        value = float(backend.to_numpy(root.data).reshape(()))
        if not math.isfinite(value):
            raise BackwardError(f"backward: the loss is {value}; check the inputs, the learning "
                                "rate and log/div of zero")
        return Tensor._from_op(root.xp.ones(root.shape, dtype=root.dtype), root.device, False)
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=root.dtype,
                                                         device=root.device)
    if grad.shape != root.shape:
        raise ShapeError(f"backward: grad has shape {grad.shape}, expected the tensor's shape "
                         f"{root.shape}")
    check_same_device("backward", root, grad)
    return grad


def mark_modified_in_place(tensor, op_name):
    """Call BEFORE the in-place op ``op_name`` overwrites ``tensor``'s array (see the module
    docstring). A leaf that requires grad is refused: its value is its own gradient's
    reference point, and nothing records the overwrite (PyTorch refuses this too)."""
    if tensor.requires_grad and tensor._ctx is None and _grad_enabled:
        raise BackwardError(f"{op_name}: inplace=True on a leaf tensor that requires grad "
                            f"(shape {tensor.shape}); use inplace=False (PyTorch refuses this "
                            "too)")
    global _inplace_clock
    _inplace_clock += 1
    tensor._modified_at = _inplace_clock


def _overwritten(fn, which, tensor):
    raise BackwardError(
        f"backward: {type(fn).__name__} needs {which} (shape {tensor.shape}), but an in-place "
        f"op overwrote it after {type(fn).__name__} used it; use the op without inplace=True "
        "there")


class HookHandle:
    """What Tensor.register_hook returns: ``handle.remove()`` takes the hook off (removing
    twice does nothing); ``with t.register_hook(fn):`` removes it at the end of the block."""

    _ids = itertools.count()

    def __init__(self, hooks, hook):
        self.id, self._hooks = next(HookHandle._ids), hooks
        hooks[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_hook(tensor, hook):
    """Register ``hook(grad) -> None or Tensor`` on ``tensor`` (see Tensor.register_hook)."""
    if not callable(hook):
        raise ArgumentError(f"register_hook: expected a function of the gradient, got "
                            f"{type(hook).__name__}")
    if not tensor.requires_grad:
        raise BackwardError(f"register_hook: the tensor of shape {tensor.shape} does not "
                            "require grad, so backward never computes its gradient")
    if tensor._backward_hooks is None:
        tensor._backward_hooks = {}
    return HookHandle(tensor._backward_hooks, hook)


def _run_hooks(tensor, grad):
    """Pass ``tensor``'s finished gradient through its hooks, in order of registration."""
    for hook in list(tensor._backward_hooks.values()):  # a hook may remove itself
        replaced = hook(grad)
        if replaced is None:
            continue
        name = getattr(hook, "__name__", type(hook).__name__)
        if not isinstance(replaced, Tensor):
            raise BackwardError(f"hook {name!r} returned a {type(replaced).__name__}; a tensor "
                                "hook returns None or a Tensor that replaces the gradient")
        if replaced.shape != grad.shape:
            raise ShapeError(f"hook {name!r} returned a gradient of shape {replaced.shape} for "
                             f"a tensor of shape {grad.shape}; the shapes must agree")
        grad = replaced
    return grad


def _propagate(root, grad, create_graph, retain_graph, deliver, every_tensor):
    """The chain rule, from ``root`` back to the leaves.

    ``deliver(tensor, grad)`` receives finished gradients: of the root, of each leaf for
    each use, of each op output that asked for it (``retain_grad()``) once all its uses have
    added up, and with ``every_tensor`` of every op output. Unless ``retain_graph``, the ops
    are released at the end (see Function.release). Tensor hooks run on each finished
    gradient before it is delivered or passed on.
    """
    with set_grad_enabled(create_graph):
        if root._backward_hooks is not None:
            grad = _run_hooks(root, grad)
    if every_tensor or root._ctx is None or root._retains_grad:
        deliver(root, grad)
    if root._ctx is None:
        return
    grads = {root: grad}  # tensor -> the sum of its gradients so far
    hooked_leaves = {}  # leaf with hooks -> the sum of its gradients, delivered at the end
    done = []  # ops whose backward has run
    order = topological_order(root)
    with set_grad_enabled(create_graph):
        for tensor in reversed(order):  # outputs before the inputs they were made from
            grad = grads.pop(tensor, None)
            if grad is None:
                continue
            if tensor._backward_hooks is not None and tensor is not root:  # complete now
                grad = _run_hooks(tensor, grad)
            if (every_tensor or tensor._retains_grad) and tensor is not root:
                deliver(tensor, grad)
            fn = tensor._ctx
            if fn.released:
                raise BackwardError(
                    f"backward: the graph through {type(fn).__name__} (output of shape "
                    f"{tensor.shape}) was freed by an earlier backward(); pass "
                    "retain_graph=True to the first backward to go through it again")
            if fn.created_at < _inplace_clock:  # an in-place op ran since: were inputs hit?
                for t in fn.inputs:
                    if t._modified_at > fn.created_at:
                        _overwritten(fn, "an input", t)
            input_grads = fn.backward(grad)
            if not isinstance(input_grads, (tuple, list)):
                input_grads = (input_grads,)
            if len(input_grads) != len(fn.inputs):
                raise BackwardError(f"{type(fn).__name__}.backward returned {len(input_grads)} "
                                    f"gradients for {len(fn.inputs)} inputs; it must return "
                                    "one Tensor (or None) per input, in the order apply() got them")
            done.append(fn)
            for i, (parent, parent_grad, needed) in enumerate(zip(fn.inputs, input_grads,
                                                                  fn.needs_input_grad)):
                if not needed or parent_grad is None:
                    continue
                if not isinstance(parent_grad, Tensor):
                    _refuse_gradient(fn, i, parent_grad)
                if parent_grad.data.shape != parent.data.shape:
                    raise BackwardError(
                        f"{type(fn).__name__}.backward: gradient of shape {parent_grad.shape} "
                        f"for an input of shape {parent.shape}; did you forget to sum over "
                        "broadcast axes?"
                    )
                if parent._ctx is None:  # a leaf: each use's gradient goes out as it comes
                    if parent._backward_hooks is None:
                        deliver(parent, parent_grad)
                        continue
                    pending = hooked_leaves  # unless its hooks must see the sum of all uses
                else:
                    pending = grads
                earlier = pending.get(parent)
                pending[parent] = parent_grad if earlier is None else _add_gradients(
                    earlier, parent_grad)
        for leaf, leaf_grad in hooked_leaves.items():  # every use has added its part
            deliver(leaf, _run_hooks(leaf, leaf_grad))
    if not retain_graph:
        for fn in done:  # all at once, at the end (see the module docstring)
            fn.release()


def backward(root, grad=None, create_graph=False, retain_graph=None):
    """Add d root / d x into ``x.grad`` for every leaf x with requires_grad; see Tensor.backward."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    _propagate(root, _check_root(root, grad), create_graph, retain_graph, _accumulate,
               every_tensor=False)


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
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    retain_graph = create_graph if retain_graph is None else retain_graph
    inputs = list(inputs)
    position = {id(t): i for i, t in enumerate(inputs)}
    results = [None] * len(inputs)

    def collect(tensor, tensor_grad):
        i = position.get(id(tensor))
        if i is not None:
            results[i] = (tensor_grad if results[i] is None
                          else _add_gradients(results[i], tensor_grad))

    _propagate(output, _check_root(output, grad_output), create_graph, retain_graph, collect,
               every_tensor=True)
    return results


def _single(name, value):
    """One tensor given in a list or tuple of one (PyTorch's sequences) -> the tensor; a
    list of numbers stays as it is (it is data)."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Tensor) for v in value):
        if len(value) != 1:
            raise TensorError(f"grad: {name} must be one tensor (or a list of one), got "
                              f"{len(value)}; take the gradient of their sum instead")
        return value[0]
    return value

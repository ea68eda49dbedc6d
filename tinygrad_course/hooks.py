"""Tensor hooks: look at, or replace, a tensor's gradient during backward.

``t.register_hook(fn)`` (as PyTorch's) registers ``fn(grad) -> None or Tensor``. The
backward walk calls ``run_hooks`` once the tensor's gradient is complete:

- for an op's output, when every use has added its part, just before the op's backward
  (so a replacement flows on to the inputs);
- for a leaf, after the whole walk, with the sum over its uses, just before it is added
  into ``.grad``.

A hook that returns a Tensor replaces the gradient (same shape); None leaves it as it is.
Hooks run in the order they were registered. A tensor without hooks costs the walk one
attribute check (``tensor._backward_hooks is not None``).
"""

import itertools

from .errors import ArgumentError, BackwardError, ShapeError
from .tensor import Tensor


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


def run_hooks(tensor, grad):
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

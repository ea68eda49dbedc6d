"""torch.nn.Module and the core's layers seen through it.

Core layers keep core tensors in their attributes and compute on core tensors; PyTorch code
reads the same attributes as Tensors with PyTorch's methods (``model.fc.weight.data``).
Both hold at once because a Module knows whose code is running: while a core layer's own
``__init__`` or ``forward`` runs, attribute reads give the core tensors; in user code (a
forward written in PyTorch style, a training loop) they give views. ``_core_depth`` counts
the core frames on the stack (one thread at a time, as the engine itself).
"""

import contextlib

import numpy

from ... import nn as core_nn
from ...tensor import Tensor as CoreTensor
from .._tensor import Tensor, unwrap, unwrap_kwargs, wrap

_core_depth = 0  # > 0 while a core layer's own code runs


@contextlib.contextmanager
def _running(core_code):
    """Mark the code inside as core code (True) or user code (False)."""
    global _core_depth
    saved = _core_depth
    _core_depth = saved + 1 if core_code else 0
    try:
        yield
    finally:
        _core_depth = saved


class Module(core_nn.Module):
    """torch.nn.Module: subclass it, set layers in __init__, write forward with Tensors."""

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if _core_depth == 0 and isinstance(value, CoreTensor):
            return wrap(value)
        return value

    def __setattr__(self, name, value):
        super().__setattr__(name, unwrap(value) if isinstance(value, Tensor) else value)

    def register_buffer(self, name, tensor, persistent=True):
        super().register_buffer(name, unwrap(tensor))

    def register_parameter(self, name, parameter):
        super().register_parameter(name, unwrap(parameter))

    def __call__(self, *args, **kwargs):
        with _running(core_code=False):
            return wrap(super().__call__(*wrap(args), **{k: wrap(v) for k, v in kwargs.items()}))

    def named_parameters(self, prefix="", recurse=True):
        """(path, parameter) pairs: Tensors for user code, core tensors for core code."""
        if isinstance(prefix, bool):  # the core's own call, named_parameters(recurse)
            prefix, recurse = "", prefix
        pairs = list(core_nn.Module.named_parameters(self, recurse))
        if _core_depth:
            return iter(pairs)
        return iter([(f"{prefix}.{name}" if prefix else name, wrap(p)) for name, p in pairs])

    def named_buffers(self):
        pairs = list(core_nn.Module.named_buffers(self))
        return iter(pairs if _core_depth else [(name, wrap(b)) for name, b in pairs])

    def state_dict(self):
        with _running(core_code=True):
            state = core_nn.Module.state_dict(self)
        return type(state)((key, wrap(value)) for key, value in state.items())

    def load_state_dict(self, state_dict, strict=True):
        with _running(core_code=True):
            return core_nn.Module.load_state_dict(
                self, {key: unwrap(value) for key, value in state_dict.items()}, strict=strict)

    def zero_grad(self, set_to_none=True):
        with _running(core_code=True):
            core_nn.Module.zero_grad(self, set_to_none)

    def requires_grad_(self, requires_grad=True):
        with _running(core_code=True):
            return core_nn.Module.requires_grad_(self, requires_grad)

    def num_parameters(self):
        with _running(core_code=True):
            return core_nn.Module.num_parameters(self)

    def to(self, *args, **kwargs):
        """model.to(device) or model.to(dtype) (floating parameters cast)."""
        from .._tensor import device, is_dtype
        for arg in list(args) + list(kwargs.values()):
            with _running(core_code=True):
                if isinstance(arg, device) or (isinstance(arg, str) and not is_dtype(arg)):
                    core_nn.Module.to(self, unwrap(arg))
                elif arg is not None:
                    self._cast_floats(arg)
        return self

    def float(self):
        return self.to(numpy.float32)

    def double(self):
        return self.to(numpy.float64)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")


def from_core(core_class):
    """The core layer ``core_class`` as a torch.nn Module: its own __init__ and forward run
    as core code (on core tensors); callers give and get Tensors."""

    def __init__(self, *args, **kwargs):
        with _running(core_code=True):
            core_class.__init__(self, *unwrap(args), **unwrap_kwargs(kwargs))

    def forward(self, *args, **kwargs):
        with _running(core_code=True):
            return wrap(core_class.forward(self, *unwrap(args), **unwrap_kwargs(kwargs)))

    namespace = {"__init__": __init__, "forward": forward, "__doc__": core_class.__doc__,
                 "__module__": "tinygrad_course.torch.nn"}
    if core_class is core_nn.ParameterList:
        namespace["__getitem__"] = lambda self, i: wrap(core_class.__getitem__(self, i))
        namespace["__iter__"] = lambda self: (wrap(p) for p in core_class.__iter__(self))
    return type(core_class.__name__, (Module, core_class), namespace)

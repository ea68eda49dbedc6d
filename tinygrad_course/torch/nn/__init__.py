"""torch.nn: Module, Parameter and every core layer and loss module, taking and giving
Tensors (see modules.py for how core layers and PyTorch-style code share a model)."""

from ... import nn as _core_nn
from .._tensor import Parameter
from . import functional, init, utils
from .modules import Module, from_core

_NOT_LAYERS = {"Module", "Parameter", "RemovableHandle", "init", "utils"}
LAYERS = [name for name in _core_nn.__all__ if name not in _NOT_LAYERS
          and isinstance(getattr(_core_nn, name), type)
          and issubclass(getattr(_core_nn, name), _core_nn.Module)]

globals().update({name: from_core(getattr(_core_nn, name)) for name in LAYERS})

__all__ = ["Module", "Parameter", "functional", "init", "utils", *LAYERS]

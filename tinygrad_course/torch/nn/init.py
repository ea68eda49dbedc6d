"""torch.nn.init: fill a parameter in place (under no_grad, as PyTorch's init does)."""

from ... import nn as _core_nn
from .._tensor import calling_core, core_of, wrap

uniform_ = calling_core(_core_nn.init.uniform_)
normal_ = calling_core(_core_nn.init.normal_)
zeros_ = calling_core(_core_nn.init.zeros_)
ones_ = calling_core(_core_nn.init.ones_)
xavier_uniform_ = calling_core(_core_nn.init.xavier_uniform_)
kaiming_uniform_ = calling_core(_core_nn.init.kaiming_uniform_)


def constant_(tensor, val):
    """Every element set to ``val``."""
    core = core_of(tensor, "constant_")
    core.data = core.xp.full(core.shape, val, dtype=core.dtype)
    return wrap(core)


__all__ = ["uniform_", "normal_", "zeros_", "ones_", "xavier_uniform_", "kaiming_uniform_",
           "constant_"]

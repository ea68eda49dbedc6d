"""torch.nn.utils: gradient clipping and parameter vectors, on Tensors."""

from ... import nn as _core_nn
from .._tensor import Tensor, calling_core


def _listed(function):
    """Parameters may come as a generator of views (model.parameters()): make it a list."""
    on_views = calling_core(function)

    def on_parameters(parameters, *args, **kwargs):
        return on_views(parameters if isinstance(parameters, Tensor) else list(parameters),
                        *args, **kwargs)

    on_parameters.__name__ = on_parameters.__qualname__ = function.__name__
    on_parameters.__doc__ = function.__doc__
    return on_parameters


clip_grad_norm_ = _listed(_core_nn.utils.clip_grad_norm_)
clip_grad_value_ = _listed(_core_nn.utils.clip_grad_value_)
parameters_to_vector = _listed(_core_nn.utils.parameters_to_vector)
vector_to_parameters = calling_core(_core_nn.utils.vector_to_parameters)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]

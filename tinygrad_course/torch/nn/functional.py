"""torch.nn.functional: the core's functional forms (tinygrad_course.functional and the
activations of ops/), taking and giving Tensors. Their arguments already follow PyTorch."""

from ... import functional as _core_functional
from ...ops import elementwise as _elementwise
from .._tensor import calling_core

_FROM_FUNCTIONAL = [name for name in _core_functional.__all__
                    if callable(getattr(_core_functional, name))]
_FROM_ELEMENTWISE = ["relu", "tanh", "gelu", "leaky_relu", "sigmoid"]

globals().update({name: calling_core(getattr(_core_functional, name))
                  for name in _FROM_FUNCTIONAL})
globals().update({name: calling_core(getattr(_elementwise, name)) for name in _FROM_ELEMENTWISE
                  if name not in _FROM_FUNCTIONAL})

__all__ = sorted(set(_FROM_FUNCTIONAL) | set(_FROM_ELEMENTWISE))

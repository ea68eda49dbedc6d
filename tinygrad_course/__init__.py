"""tinygrad_course: a from-scratch deep-learning framework to read, run and check.

Start with tensor.py (the Tensor), autograd.py (Function and backward), then any ops/ file.
"""

from . import backend, checkpoint, data, functional, nn, optim  # these import the engine
from . import tensor as _tensor  # first: it loads the engine and the ops in order  # noqa: F401
from .autograd import Function, grad, is_grad_enabled, no_grad, set_grad_enabled
from .errors import BackwardError, DeviceError, DTypeError, GradcheckError, ShapeError, TensorError
from .gradcheck import gradcheck, gradgradcheck
from .graphviz import to_dot
from .ops.elementwise import (
                     abs,
                     clip,
                     erf,
                     exp,
                     gelu,
                     leaky_relu,
                     log,
                     maximum,
                     minimum,
                     relu,
                     sigmoid,
                     sqrt,
                     tanh,
                     where,
)
from .ops.linalg import matmul
from .ops.movement import (
                     broadcast_to,
                     concatenate,
                     flatten,
                     pad,
                     reshape,
                     split,
                     squeeze,
                     stack,
                     swapaxes,
                     transpose,
                     unsqueeze,
)
from .ops.nn import log_softmax, softmax
from .ops.reduce import argmax, argmin, logsumexp, max, mean, min, sum, var
from .tensor import Tensor, arange, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "arange", "randn", "rand", "zeros_like",
    "ones_like", "Function", "no_grad", "set_grad_enabled", "is_grad_enabled", "grad",
    "gradcheck", "gradgradcheck", "to_dot", "backend", "nn", "optim", "functional", "data",
    "checkpoint",
    "TensorError", "ShapeError", "DTypeError", "DeviceError", "BackwardError", "GradcheckError",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "gelu", "erf", "clip",
    "maximum", "minimum", "where", "matmul", "sum", "mean", "max", "min", "var", "logsumexp",
    "softmax", "log_softmax", "argmax", "argmin", "reshape", "transpose", "swapaxes",
    "broadcast_to", "squeeze", "unsqueeze", "flatten", "concatenate", "stack", "split", "pad",
]

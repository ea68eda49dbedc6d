"""tinygrad_course: a from-scratch deep-learning framework to read, run and check.

Start with tensor.py (the Tensor), autograd.py (Function and backward), then any ops/ file.
"""

from . import backend, checkpoint, data, functional, nn, optim  # these import the engine
from . import tensor as _tensor  # first: it loads the engine and the ops in order  # noqa: F401
from .autograd import Function, grad, is_grad_enabled, no_grad, set_grad_enabled
from .compile import compile  # tg.compile(step): trace once, fuse, plan memory, replay
from .errors import BackwardError, DeviceError, DTypeError, GradcheckError, ShapeError, TensorError
from .fused import fused_enabled, use_fused
from .gradcheck import gradcheck, gradgradcheck
from .graphviz import to_dot
from .ops.einsum import einsum
from .ops.elementwise import (
                     abs,
                     arctan2,
                     atan2,
                     ceil,
                     clamp,
                     clip,
                     cos,
                     cosh,
                     erf,
                     exp,
                     expm1,
                     floor,
                     gelu,
                     hypot,
                     leaky_relu,
                     lerp,
                     log,
                     log1p,
                     log2,
                     log10,
                     maximum,
                     minimum,
                     reciprocal,
                     relu,
                     round,
                     rsqrt,
                     sigmoid,
                     sign,
                     sin,
                     sinh,
                     sqrt,
                     tan,
                     tanh,
                     trunc,
                     where,
)
from .ops.indexing import (
                     argsort,
                     diagonal,
                     gather,
                     index_select,
                     masked_fill,
                     scatter,
                     scatter_add,
                     sort,
                     topk,
                     tril,
                     triu,
)
from .ops.linalg import matmul
from .ops.movement import (
                     broadcast_to,
                     cat,
                     chunk,
                     concatenate,
                     flatten,
                     flip,
                     moveaxis,
                     movedim,
                     narrow,
                     pad,
                     permute,
                     repeat_interleave,
                     reshape,
                     roll,
                     split,
                     squeeze,
                     stack,
                     swapaxes,
                     swapdims,
                     tile,
                     transpose,
                     unbind,
                     unflatten,
                     unsqueeze,
)
from .ops.nn import log_softmax, softmax
from .ops.reduce import (
                     ValuesAndIndices,
                     all,
                     amax,
                     amin,
                     any,
                     argmax,
                     argmin,
                     logsumexp,
                     max,
                     mean,
                     min,
                     norm,
                     prod,
                     std,
                     sum,
                     var,
)
from .ops.scan import cumprod, cumsum
from .random import manual_seed
from .serialization import load, save
from .tensor import (
                     Tensor,
                     arange,
                     constant,
                     eye,
                     full,
                     full_like,
                     linspace,
                     logspace,
                     ones,
                     ones_like,
                     rand,
                     rand_like,
                     randint,
                     randn,
                     randn_like,
                     tensor,
                     zeros,
                     zeros_like,
)

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
    # PyTorch's everyday names (issue 20): math
    "sin", "cos", "tan", "atan2", "arctan2", "sinh", "cosh", "expm1", "log1p", "log2", "log10",
    "rsqrt", "reciprocal", "sign", "floor", "ceil", "round", "trunc", "clamp", "lerp", "hypot",
    "einsum",
    # reductions and scans
    "std", "prod", "cumsum", "cumprod", "any", "all", "norm", "amax", "amin",
    "ValuesAndIndices",
    # indexing and rearranging
    "gather", "scatter", "scatter_add", "index_select", "masked_fill", "sort", "argsort", "topk",
    "tril", "triu", "diagonal", "flip", "roll", "tile", "repeat_interleave", "chunk", "unbind",
    "narrow", "unflatten", "moveaxis", "movedim", "swapdims", "permute", "cat",
    # constructors and state
    "constant", "eye", "linspace", "logspace", "randint", "rand_like", "randn_like", "full_like",
    "use_fused", "fused_enabled",
    "manual_seed", "save", "load",
    "compile",
]

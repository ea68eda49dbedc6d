"""tinygrad_course.torch: PyTorch's names and meanings on the same engine (a compatibility
layer; the core keeps its NumPy-flavoured conventions).

    import tinygrad_course.torch as torch
    import tinygrad_course.torch.nn as nn
    import tinygrad_course.torch.nn.functional as F
    import tinygrad_course.torch.optim as optim

lets the code of a PyTorch tutorial run as it is, so a student can then read how every
piece works inside (tensor.py, autograd.py, ops/). Nothing here computes: the tensors are
views of core tensors with PyTorch's methods (_tensor.py), the functions call the core
(_functions.py), and nn, optim and utils.data wrap the core's layers, optimisers and
loaders. The core package never imports this one.

What differs from the core, here only: x.max(dim) and torch.max(x, dim) give (values,
indices); var/std are unbiased by default; split(x, n) makes pieces of n elements;
torch.tensor(float64 array) stays float64 and from_numpy keeps the dtype; p.data is a
Tensor; in-place ops (add_, mul_, zero_, copy_, fill_, x[i] = v) exist, with autograd's
version check.
"""

import numpy

from . import _functions
from ._functions import (
    METHOD_FUNCTIONS,
    allclose,
    arange,
    as_tensor,
    cat,
    concat,
    concatenate,
    einsum,
    empty,
    empty_like,
    enable_grad,
    eye,
    from_numpy,
    full,
    full_like,
    is_grad_enabled,
    is_tensor,
    linspace,
    load,
    manual_seed,
    no_grad,
    normal,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    save,
    set_grad_enabled,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)
from ._tensor import TYPE_NAMES, Size, Tensor, device

globals().update({name: getattr(_functions, name) for name in METHOD_FUNCTIONS})

# dtypes: NumPy's dtype objects under PyTorch's names
float32 = float = numpy.dtype(numpy.float32)  # noqa: A001 (PyTorch's name)
float64 = double = numpy.dtype(numpy.float64)
float16 = half = numpy.dtype(numpy.float16)
int64 = long = numpy.dtype(numpy.int64)
int32 = int = numpy.dtype(numpy.int32)  # noqa: A001
int16 = short = numpy.dtype(numpy.int16)
int8 = numpy.dtype(numpy.int8)
uint8 = numpy.dtype(numpy.uint8)
bool = numpy.dtype(numpy.bool_)  # noqa: A001
dtype = numpy.dtype


def _typed(type_name):
    """torch.LongTensor(data) or torch.LongTensor(2, 3) (zeros): a tensor of that type."""
    target = TYPE_NAMES[type_name]

    def constructor(*data):
        if len(data) == 1 and not isinstance(data[0], (type(0), numpy.integer)):
            return tensor(data[0], dtype=target)
        return zeros(*data, dtype=target)

    constructor.__name__ = constructor.__qualname__ = type_name.split(".")[1]
    return constructor


FloatTensor = _typed("torch.FloatTensor")
DoubleTensor = _typed("torch.DoubleTensor")
LongTensor = _typed("torch.LongTensor")
IntTensor = _typed("torch.IntTensor")
ByteTensor = _typed("torch.ByteTensor")
BoolTensor = _typed("torch.BoolTensor")

from . import autograd, cuda, nn, optim, utils  # noqa: E402 (they use the names above)

__all__ = ["Tensor", "Size", "device", "tensor", "as_tensor", "from_numpy", "zeros", "ones",
           "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like", "randn",
           "rand", "randn_like", "rand_like", "randint", "randperm", "normal", "arange",
           "linspace", "eye", "manual_seed", "is_tensor", "numel", "cat", "concat",
           "concatenate", "stack", "where", "einsum", "allclose", "save", "load", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "autograd", "cuda", "nn",
           "optim", "utils", "float32", "float", "float64", "double", "float16", "half",
           "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool",
           "dtype", "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor",
           "BoolTensor", *METHOD_FUNCTIONS]

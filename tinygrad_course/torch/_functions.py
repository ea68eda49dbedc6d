"""The torch.* functions: constructors with PyTorch's dtype rules, and the rest as the
Tensor methods of the same name (so torch.max(x, 1) and x.max(1) cannot disagree)."""

import builtins
import importlib

import numpy

from .. import autograd as core_autograd
from .. import random as core_random
from .. import serialization
from ..errors import ArgumentError, DTypeError
from ..ops import einsum as core_einsum
from ..ops import elementwise, movement
from ._tensor import Tensor, core_of, unwrap, wrap

core = importlib.import_module("tinygrad_course.tensor")  # the package's tensor() hides it


def _dtype(dtype, op):
    return None if dtype is None else core.as_dtype(dtype, op)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``. As in PyTorch: a NumPy array (or NumPy
    scalar) keeps its dtype, float64 included; Python floats become float32, ints int64,
    bools bool. (The core's tensor() makes every float float32.)"""
    source = data._t.numpy() if isinstance(data, Tensor) else unwrap(data)
    if isinstance(source, core.Tensor):
        source = source.numpy()
    host = core.host_array(source, "tensor")
    if dtype is None and isinstance(source, (numpy.ndarray, numpy.generic)):
        dtype = host.dtype
    return wrap(core.Tensor(numpy.array(host), dtype=_dtype(dtype, "tensor"),
                            device=unwrap(device), requires_grad=requires_grad))


def as_tensor(data, dtype=None, device=None):
    """tensor(data) without a copy where none is needed (a tensor is returned as it is)."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor of ``array``'s dtype on the default device; on the CPU it shares the
    array's memory, as PyTorch's."""
    if not isinstance(array, numpy.ndarray):
        raise DTypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    core.host_array(array, "from_numpy")  # refuses complex, object and text arrays
    return wrap(core.Tensor(array, dtype=array.dtype))


def _sized(make, op):
    def constructor(*size, dtype=None, device=None, requires_grad=False, **options):
        return wrap(make(*_sizes(size, op), dtype=_dtype(dtype, op), device=unwrap(device),
                         requires_grad=requires_grad, **options))

    constructor.__name__ = constructor.__qualname__ = op
    constructor.__doc__ = f"torch.{op}(*size, dtype=None, device=None, requires_grad=False)"
    return constructor


def _sizes(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) if isinstance(s, Tensor) else s for s in size)


zeros = _sized(core.zeros, "zeros")
ones = _sized(core.ones, "ones")
empty = _sized(core.zeros, "empty")  # PyTorch leaves it uninitialised; zeros here
randn = _sized(core.randn, "randn")
rand = _sized(core.rand, "rand")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return wrap(core.full(_sizes((size,), "full"), fill_value, dtype=_dtype(dtype, "full"),
                          device=unwrap(device), requires_grad=requires_grad))


def _like(make, op):
    def constructor(input, dtype=None, device=None, requires_grad=False):
        source = core_of(input, op)
        out = make(source, dtype=_dtype(dtype, op), requires_grad=requires_grad)
        return wrap(out if device is None else out.to(unwrap(device)))

    constructor.__name__ = constructor.__qualname__ = op
    return constructor


zeros_like = _like(core.zeros_like, "zeros_like")
ones_like = _like(core.ones_like, "ones_like")
empty_like = _like(core.zeros_like, "empty_like")
randn_like = _like(core.randn_like, "randn_like")
rand_like = _like(core.rand_like, "rand_like")


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return wrap(core.full_like(core_of(input, "full_like"), fill_value, dtype=dtype,
                               requires_grad=requires_grad))


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """start, start + step, ... below end: int64 for integer bounds, else float32."""
    out = core.arange(start, end, step, dtype=_dtype(dtype, "arange"), device=unwrap(device))
    return wrap(out.requires_grad_() if requires_grad else out)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return wrap(core.linspace(start, end, steps, dtype=_dtype(dtype, "linspace"),
                              device=unwrap(device), requires_grad=requires_grad))


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return wrap(core.eye(n, m, dtype=_dtype(dtype, "eye"), device=unwrap(device),
                         requires_grad=requires_grad))


def randint(low, high=None, size=None, dtype=None, device=None, generator=None):
    """torch.randint(high, size) or torch.randint(low, high, size): int64 in [low, high)."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    return wrap(core.randint(low, high, tuple(size), dtype=_dtype(dtype, "randint"),
                             device=unwrap(device), generator=generator))


def randperm(n, dtype=None, device=None):
    """A random order of 0..n-1 (int64), from the default generator (manual_seed)."""
    order = core_random.default_generator().permutation(n)
    return wrap(core.Tensor(order, dtype=_dtype(dtype, "randperm") or numpy.int64,
                            device=unwrap(device)))


def normal(mean, std, size=None):
    """Samples of N(mean, std^2): numbers with ``size``, or tensors of means/stds."""
    if size is not None:
        return randn(*_sizes((size,), "normal")) * std + mean
    mean, std = core_of(mean, "normal"), core_of(std, "normal")
    noise = core.randn(*numpy.broadcast_shapes(mean.shape, std.shape))
    return wrap(noise * std + mean)


def manual_seed(seed):
    """Seed the default generator: randn, rand, randint, randperm, the layers' initial
    weights, dropout masks and DataLoader shuffles all draw from it."""
    core_random.manual_seed(seed)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return core_of(input, "numel").numel()


def cat(tensors, dim=0):
    """Join along an existing axis (PyTorch's cat; NumPy's concatenate)."""
    return wrap(movement.concatenate(unwrap(list(tensors)), axis=dim))


concat = concatenate = cat


def stack(tensors, dim=0):
    return wrap(movement.stack(unwrap(list(tensors)), axis=dim))


def where(condition, input=None, other=None):
    """where(c, x, y): x where c, else y; where(c): the indices where c holds (a tuple)."""
    if input is None and other is None:
        found = numpy.nonzero(core_of(condition, "where").numpy())
        return tuple(wrap(core.Tensor(i.astype(numpy.int64))) for i in found)
    return wrap(elementwise.where(unwrap(condition), unwrap(input), unwrap(other)))


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return wrap(core_einsum.einsum(equation, *unwrap(list(operands))))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(numpy.allclose(core_of(input, "allclose").numpy(),
                                        core_of(other, "allclose").numpy(), rtol, atol,
                                        equal_nan))


def save(obj, f):
    """Write a tensor or a state dict ({name: tensor}) to the path ``f``."""
    if isinstance(obj, dict):
        obj = {key: unwrap(value) for key, value in obj.items()}
    return serialization.save(unwrap(obj), f)


def load(f, map_location=None, weights_only=None):
    """What save() wrote: a tensor, or a dict of tensors in saved order. ``map_location``
    may name a device; ``weights_only`` is accepted (only tensors are ever stored)."""
    if callable(map_location) or isinstance(map_location, dict):
        raise ArgumentError("load: map_location may be a device (or its name) here, not a "
                            "function or a dict")
    loaded = serialization.load(f, device=unwrap(map_location))
    if isinstance(loaded, dict):
        return {key: wrap(value) for key, value in loaded.items()}
    return wrap(loaded)


no_grad = core_autograd.no_grad
set_grad_enabled = core_autograd.set_grad_enabled
is_grad_enabled = core_autograd.is_grad_enabled


def enable_grad():
    return core_autograd.set_grad_enabled(True)


def _as_method(name):
    """torch.name(input, *args) = input.name(*args), input made a tensor first."""
    def function(input, *args, **kwargs):
        view = input if isinstance(input, Tensor) else wrap(core_of(input, name))
        return getattr(view, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.{name}(input, ...) = input.{name}(...) (see torch.Tensor)."
    return function


# Functions that are the Tensor method of the same name.
METHOD_FUNCTIONS = """
    exp log sqrt abs tanh sigmoid relu sin cos tan sinh cosh atan2 erf expm1 log1p log2 log10
    rsqrt reciprocal sign floor ceil round trunc lerp hypot clamp clip
    sum mean prod amax amin any all logsumexp softmax log_softmax argmax argmin cumsum cumprod
    max min var std norm
    reshape permute swapaxes swapdims moveaxis movedim flatten unflatten squeeze unsqueeze
    chunk unbind narrow flip roll repeat_interleave tile transpose t split
    gather scatter scatter_add index_select masked_fill sort argsort topk tril triu diagonal
    mm bmm matmul dot add sub mul div pow neg maximum minimum eq ne lt le gt ge equal
    detach clone
""".split()

for _name in METHOD_FUNCTIONS:
    globals()[_name] = _as_method(_name)
del _name

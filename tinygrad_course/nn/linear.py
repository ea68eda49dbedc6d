"""Linear (fully connected) layer, and the shape helpers Identity, Flatten and Unflatten."""

import math

import numpy

from ..errors import DTypeError, ShapeError
from ..ops.linear import linear
from ..tensor import as_tensor, zeros
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b.

    x: (..., in_features)   W: (out_features, in_features)   b: (out_features,)
    y: (..., out_features)

    Init (as PyTorch): W and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)), which keeps the
    variance of y close to a third of the variance of x whatever in_features is.
    Pass ``seed`` or ``generator`` for reproducible weights (see nn.init).
    """

    def __init__(self, in_features, out_features, bias=True, seed=None, generator=None,
                 dtype=None, device=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        rng = init.get_generator(seed, generator)
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype, device=device))
        init.uniform_(self.weight, -bound, bound, generator=rng)
        if bias:
            self.bias = Parameter(zeros(out_features, dtype=dtype, device=device))
            init.uniform_(self.bias, -bound, bound, generator=rng)
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        x = as_tensor(x, "Linear")
        if x.dtype.kind != "f":
            raise DTypeError(f"Linear: expected a floating input, got dtype {x.dtype} (convert "
                             "with .float())")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"Linear: expected input of shape (..., {self.in_features}), got "
                             f"{x.shape}")
        return linear(x, self.weight, self.bias)  # y = x W^T + b as one op (ops/fused/linear.py)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x (a placeholder where a layer is optional); any arguments are ignored, as in
    PyTorch, so Identity can stand in for a layer with settings."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): axes start_dim..end_dim merged into one."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"




class Unflatten(Module):
    """The inverse of Flatten: axis ``dim`` of size prod(unflattened_size) split into the
    axes unflattened_size, e.g. (N, 12) -> (N, 3, 4) with Unflatten(1, (3, 4))."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        x = as_tensor(x, "Unflatten")
        if x.ndim == 0 or not -x.ndim <= self.dim < x.ndim:
            raise ShapeError(f"Unflatten: dim {self.dim} is out of range for shape {x.shape}")
        dim = self.dim % x.ndim
        if int(numpy.prod(self.unflattened_size)) != x.shape[dim]:
            raise ShapeError(f"Unflatten: axis {self.dim} of size {x.shape[dim]} cannot be "
                             f"split into {self.unflattened_size}")
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

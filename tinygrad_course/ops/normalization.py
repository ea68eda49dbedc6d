"""Layer normalisation as one op (forward and backward fused: one pass over the data each way).

Over the last k axes (the "normalized shape") of x:

    mu = mean(x),  var = mean((x - mu)^2),  x_hat = (x - mu) / sqrt(var + eps)
    y  = gamma * x_hat + beta

Backward, with g = dL/dy * gamma and the means taken over the normalized axes:

    dL/dx     = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)
    dL/dgamma = sum over the other axes of dL/dy * x_hat
    dL/dbeta  = sum over the other axes of dL/dy

L2 normalisation (``l2_normalize``), the unit vectors whose dot products are cosines (CLIP):

    r = 1 / sqrt(sum(x^2) + eps),   y = x r               along one axis
    dL/dx = r (g - y sum(g * y))    with g = dL/dy: the part of g along y is removed
"""

import math

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, ShapeError
from ..tensor import as_tensor, constant, require_floating


class LayerNorm(Function):
    def forward(self, x, weight=None, bias=None, axes=(-1,), eps=1e-5):
        xp = self.xp
        self.axes = axes
        inv_n = x.dtype.type(1.0 / math.prod(x.shape[a] for a in axes))  # means as sums * 1/n
        centred = x - x.sum(axis=axes, keepdims=True) * inv_n
        var = (centred * centred).sum(axis=axes, keepdims=True) * inv_n
        self.rstd = 1.0 / xp.sqrt(var + eps)
        self.eps = eps
        x_hat = centred * self.rstd
        if weight is None:  # y = x_hat: the backward reads it from the output, so that an
            self.x_hat = None  # in-place op on the output is caught (layer_norm allows no
            return x_hat       # bias without a weight)
        self.x_hat = x_hat
        y = x_hat * weight
        if bias is not None:
            y += bias  # y is a fresh array: add in place
        return y

    def backward(self, grad):
        weight = self.inputs[1] if len(self.inputs) > 1 else None
        if is_grad_enabled():  # create_graph=True: Tensors all the way, differentiable again
            x = self.inputs[0]
            centred = x - x.mean(axis=self.axes, keepdims=True)
            rstd = ((centred * centred).mean(axis=self.axes, keepdims=True) + self.eps) ** -0.5
            return self._gradients(grad, centred * rstd, rstd, weight)
        # Otherwise the same formulas run straight on the saved arrays: no op, no graph node
        # and no Tensor per intermediate result.
        x_hat = self.output.data if self.x_hat is None else self.x_hat
        grads = self._gradients(grad.data, x_hat, self.rstd,
                                None if weight is None else weight.data)
        return [None if g is None else constant(g, like=grad) for g in grads]

    def _gradients(self, grad, x_hat, rstd, weight):
        """(dL/dx, dL/dgamma, dL/dbeta), on Tensors or on backend arrays alike."""
        other_axes = tuple(range(grad.ndim - len(self.axes)))
        g = grad * weight if weight is not None else grad
        grad_x = None
        if self.needs_input_grad[0]:  # the means as sums * 1/n (NumPy's mean is slower)
            inv_n = 1.0 / math.prod(grad.shape[a] for a in self.axes)
            mean_g = g.sum(axis=self.axes, keepdims=True) * inv_n
            mean_gx = (g * x_hat).sum(axis=self.axes, keepdims=True) * inv_n
            grad_x = (g - mean_g - x_hat * mean_gx) * rstd
        grads = [grad_x]
        if weight is not None:
            grads.append((grad * x_hat).sum(axis=other_axes)
                         if self.needs_input_grad[1] else None)
        if len(self.inputs) > 2:
            grads.append(grad.sum(axis=other_axes) if self.needs_input_grad[2] else None)
        return tuple(grads)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise x over its last len(normalized_shape) axes (see LayerNorm above)."""
    x = as_tensor(x, "layer_norm")
    require_floating(x, "layer_norm")
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if x.shape[x.ndim - k:] != normalized_shape or x.ndim < k:
        raise ShapeError(f"layer_norm: expected input of shape (..., {normalized_shape}), got "
                         f"{x.shape}")
    axes = tuple(range(-k, 0))
    inputs = [x] + [t for t in (weight, bias) if t is not None]
    if weight is None and bias is not None:
        raise ValueError("layer_norm: a bias without a weight is not supported")
    return LayerNorm.apply(*inputs, axes=axes, eps=eps)


class L2Normalize(Function):
    """y = x / sqrt(sum(x^2) + eps) along ``axis``; one op for the five of the composed
    formula (square, sum, add, sqrt, divide), with the gradient in closed form (see the
    module docstring)."""

    def forward(self, x, axis, eps):
        self.axis, self.eps = axis, eps
        self.r = 1.0 / self.xp.sqrt((x * x).sum(axis=axis, keepdims=True) + x.dtype.type(eps))
        return x * self.r

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: y and r must be ops of x
            x = self.inputs[0]
            r = ((x * x).sum(axis=self.axis, keepdims=True) + self.eps) ** -0.5
            return self._gradient(grad, x * r, r)
        # Otherwise the same formula runs straight on the saved arrays.
        gradient = self._gradient(grad.data, self.output.data, self.r)
        return constant(gradient, like=grad)

    def _gradient(self, grad, y, r):
        """dL/dx = r (g - y sum(g * y)), on Tensors or on backend arrays alike."""
        return (grad - y * (grad * y).sum(axis=self.axis, keepdims=True)) * r


def l2_normalize(x, axis=-1, eps=1e-8):
    """x / sqrt(sum(x^2, axis) + eps): unit vectors along ``axis`` (see L2Normalize)."""
    x = as_tensor(x, "l2_normalize")
    if x.ndim == 0:
        raise ShapeError(f"l2_normalize: needs a tensor of at least 1 dim, got shape {x.shape}")
    if not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"l2_normalize: axis {axis} is out of range for shape {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"l2_normalize: needs a floating tensor, got dtype {x.dtype}")
    return L2Normalize.apply(x, axis=axis % x.ndim, eps=eps)

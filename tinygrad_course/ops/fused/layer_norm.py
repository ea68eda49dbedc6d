"""Layer normalisation.  Twin: ``layer_norm_composed`` below; fused op: ``LayerNorm``.

Over the last k axes (the "normalized shape") of x:

    mu = mean(x),  var = mean((x - mu)^2),  x_hat = (x - mu) / sqrt(var + eps)
    y  = gamma * x_hat + beta

``layer_norm_composed`` writes exactly this with Tensor ops; read it first. Autograd then
derives the backward op by op. ``LayerNorm`` does the same as one op, with the backward in
closed form (g = dL/dy * gamma, the means taken over the normalized axes):

    dL/dx     = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)
    dL/dgamma = sum over the other axes of dL/dy * x_hat
    dL/dbeta  = sum over the other axes of dL/dy

What it saves: the twin records 10 ops (2 means, 2 subtractions, a product, add, sqrt,
divide, scale, shift), each keeping its inputs alive for the backward; the fused op keeps
x_hat and 1/sqrt(var + eps), and its backward runs on the arrays unless create_graph.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for layer_norm over (16, 32, 64), the twin
takes 2.00-2.06x the fused op's time.
"""

import math

from ...autograd import Function, is_grad_enabled
from ...errors import ShapeError
from ...fused import fused_enabled
from ...tensor import as_tensor, constant, require_floating


def layer_norm_composed(x, axes, weight=None, bias=None, eps=1e-5):
    """The twin, in Tensor ops: normalise x over ``axes`` (the last k axes), then scale
    and shift.  mu = mean(x);  var = mean((x - mu)^2);  y = gamma (x - mu) / sqrt(var + eps) + beta
    """
    centred = x - x.mean(axis=axes, keepdims=True)
    variance = (centred * centred).mean(axis=axes, keepdims=True)
    x_hat = centred / (variance + eps).sqrt()
    y = x_hat if weight is None else x_hat * weight
    return y if bias is None else y + bias


class LayerNorm(Function):
    """The fused op: forward and backward in one pass over the data each way (see the
    module docstring); ``axes`` are the normalised (last) axes."""

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
    """Normalise x over its last len(normalized_shape) axes (see the module docstring)."""
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
    if not fused_enabled():
        return layer_norm_composed(x, axes, weight, bias, eps)
    return LayerNorm.apply(*inputs, axes=axes, eps=eps)

"""Layer normalisation as one op (forward and backward fused: one pass over the data each way).

Over the last k axes (the "normalized shape") of x:

    mu = mean(x),  var = mean((x - mu)^2),  x_hat = (x - mu) / sqrt(var + eps)
    y  = gamma * x_hat + beta

Backward, with g = dL/dy * gamma and the means taken over the normalized axes:

    dL/dx     = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)
    dL/dgamma = sum over the other axes of dL/dy * x_hat
    dL/dbeta  = sum over the other axes of dL/dy
"""

from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..tensor import Tensor


class LayerNorm(Function):
    def forward(self, x, weight=None, bias=None, axes=(-1,), eps=1e-5):
        xp = self.xp
        self.axes = axes
        mu = x.mean(axis=axes, keepdims=True)
        centred = x - mu
        var = (centred * centred).mean(axis=axes, keepdims=True)
        self.rstd = 1.0 / xp.sqrt(var + eps)
        self.eps = eps
        self.x_hat = centred * self.rstd
        y = self.x_hat
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
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
        grads = self._gradients(grad.data, self.x_hat, self.rstd,
                                None if weight is None else weight.data)
        return tuple(None if g is None else Tensor._from_op(g, grad.device, False)
                     for g in grads)

    def _gradients(self, grad, x_hat, rstd, weight):
        """(dL/dx, dL/dgamma, dL/dbeta), on Tensors or on backend arrays alike."""
        other_axes = tuple(range(grad.ndim - len(self.axes)))
        g = grad * weight if weight is not None else grad
        grad_x = None
        if self.needs_input_grad[0]:
            mean_g = g.mean(axis=self.axes, keepdims=True)
            mean_gx = (g * x_hat).mean(axis=self.axes, keepdims=True)
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

"""Squared error.  Twin: ``squared_error_composed`` below; fused op: ``SquaredError``.

    loss = scale * sum_i (x_i - y_i)^2        x, y: the same shape; loss: 0-d
    dL/dx = 2 scale g (x - y),   dL/dy = -dL/dx

F.mse_loss is this with scale = 1/n ("mean") or 1 ("sum").

What it saves: the twin records 4 ops (subtract, square, sum, scale) and keeps the squared
array; the fused op keeps only the difference d = x - y, takes sum(d^2) as ONE dot product
d.d, and its backward is one scaled copy of d.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for mse_loss of (256, 64), the twin takes
2.99-3.11x the fused op's time.
"""

from ...autograd import Function, is_grad_enabled
from ...errors import ShapeError
from ...fused import fused_enabled
from ...tensor import constant


def squared_error_composed(x, y, scale=1.0):
    """The twin: scale * sum((x - y)^2), in Tensor ops."""
    diff = x - y
    return (diff * diff).sum() * scale


class SquaredError(Function):
    """loss = scale * sum_i (x_i - y_i)^2 over every element; x, y: the same shape; loss: 0-d.

    With g = dL/dloss:   dL/dx = 2 scale g (x - y),   dL/dy = -dL/dx.

    F.mse_loss is this with scale = 1/n ("mean") or 1 ("sum"). One op for what sub, mul, and
    sum (and the mean's division) compute in four: the forward keeps the difference d = x - y
    and takes sum(d^2) as ONE dot product d.d (no squared array); the backward is one scaled
    copy of d.
    """

    def forward(self, x, y, scale):
        self.scale = scale
        self.diff = x - y
        flat = self.diff.reshape(-1)
        return self.xp.asarray(self.xp.dot(flat, flat) * scale, dtype=x.dtype)

    def backward(self, grad):
        factor = 2.0 * self.scale
        if is_grad_enabled():  # create_graph=True: the difference must be an op of x and y
            x, y = self.inputs
            grad_x = (x - y) * (factor * grad)
        else:  # grad is 0-d: one scaled copy of the difference
            grad_x = constant(self.diff * (factor * grad.data), like=grad)
        return grad_x, -grad_x if self.needs_input_grad[1] else None


def squared_error(x, y, scale=1.0):
    """scale * sum((x - y)^2), 0-d: the fused op, or its twin under use_fused(False)."""
    if x.shape != y.shape:
        raise ShapeError(f"squared_error: input of shape {x.shape} and target of shape "
                         f"{y.shape}; they must match")
    if not fused_enabled():
        return squared_error_composed(x, y, float(scale))
    return SquaredError.apply(x, y, scale=float(scale))

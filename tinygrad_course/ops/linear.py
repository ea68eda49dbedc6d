"""The affine map of a Linear layer as one op: y = x W^T + b.

x (..., in), W (out, in), b (out,) -> y (..., out). The leading axes of x are flattened to
rows, so each pass is one big matrix product (M = product of the leading axes):

    forward    Y = X W^T + b                    (M, out); b added in place
    backward   dX = dY W                        (M, in)
               dW = dY^T X                      (out, in)   one product over all rows
               db = sum over rows of dY         (out,)

Composed from matmul, transpose and add the same math takes about six ops each way and a
(..., in, out) -> (out, in) transposed gradient; this is torch.nn.functional.linear.
"""

from ..autograd import Function
from ..errors import ShapeError


class Linear(Function):
    """y = x W^T + b over the last axis of x (see the module docstring)."""

    def forward(self, x, weight, *bias):
        rows = x.reshape(-1, x.shape[-1])
        y = self.xp.matmul(rows, weight.T)
        if bias:
            y += bias[0]
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, grad):
        x, weight = self.inputs[0], self.inputs[1]
        grad_rows = grad.reshape(-1, grad.shape[-1])
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            grad_x = (grad_rows @ weight).reshape(x.shape)
        if self.needs_input_grad[1]:
            grad_w = grad_rows.T @ x.reshape(-1, x.shape[-1])
        if len(self.inputs) > 2 and self.needs_input_grad[2]:
            grad_b = grad_rows.sum(axis=0)
        return (grad_x, grad_w) if len(self.inputs) == 2 else (grad_x, grad_w, grad_b)


def linear(x, weight, bias=None):
    """x (..., in) @ weight (out, in)^T + bias (out,) -> (..., out), as F.linear."""
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input {x.shape} and weight {weight.shape} do not fit; "
                         f"expected input (..., in) and weight (out, in)")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},)")
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)

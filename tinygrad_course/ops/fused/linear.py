"""The affine map of a Linear layer: y = x W^T + b.  Twin: ``linear_composed`` below.

x (..., in), W (out, in), b (out,) -> y (..., out).

``linear_composed`` is the lecture's formula in Tensor ops: a matmul with the transposed
weight, plus the bias. Read it first.

``Linear`` is the same map as ONE op. The leading axes of x are flattened to rows, so each
pass is one big matrix product (M = product of the leading axes):

    forward    Y = X W^T + b                    (M, out); b added in place
    backward   dX = dY W                        (M, in)
               dW = dY^T X                      (out, in)   one product over all rows
               db = sum over rows of dY         (out,)

What it saves: the twin records 3 ops (transpose, matmul, add) and its backward runs their
three backwards, among them a batched (..., in, out) weight gradient that is summed over the
leading axes and transposed back; the fused op writes dW with one (out, M) @ (M, in)
product. Without create_graph its backward runs on the arrays (no op per product).
This is torch.nn.functional.linear.

Measured by ``python -m benchmarks.fused_twins`` (forward + backward, float32, one BLAS
thread, two runs on a shared 2-core machine): for linear (16, 32, 64) -> 256, the twin
takes 1.29-1.38x the fused op's time (0.86-0.91 ms).
"""


from ...autograd import Function, is_grad_enabled
from ...errors import ShapeError
from ...fused import fused_enabled
from ...tensor import as_tensor, constant


def linear_composed(x, weight, bias=None):
    """The twin: y = x W^T + b written with Tensor ops (matmul, transpose, add); autograd
    derives dX = dY W, dW = dY^T X and db = sum of dY over rows from them."""
    y = x @ weight.T
    return y if bias is None else y + bias


class Linear(Function):
    """y = x W^T + b over the last axis of x (see the module docstring)."""

    def forward(self, x, weight, *bias):
        rows = x.reshape(-1, x.shape[-1])
        y = self.xp.matmul(rows, weight.T)
        if bias:
            y += bias[0]
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: Tensor ops, differentiable again
            return self._gradients(grad, *self.inputs)
        # Otherwise the same formulas run straight on the arrays: no op per product.
        grads = self._gradients(grad.data, *[t.data for t in self.inputs])
        return [None if g is None else constant(g, like=grad) for g in grads]

    def _gradients(self, grad, x, weight, *bias):
        """(dL/dx, dL/dW[, dL/db]), on Tensors or on backend arrays alike."""
        grad_rows = grad.reshape(-1, grad.shape[-1])
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[1]:
            grad_w = grad_rows.T @ x.reshape(-1, x.shape[-1])
        if bias and self.needs_input_grad[2]:
            grad_b = grad_rows.sum(axis=0)
        if self.needs_input_grad[0]:
            grad_x = (grad_rows @ weight).reshape(x.shape)
        return (grad_x, grad_w) if not bias else (grad_x, grad_w, grad_b)


def linear(x, weight, bias=None):
    """x (..., in) @ weight (out, in)^T + bias (out,) -> (..., out), as F.linear."""
    x = as_tensor(x, "linear")
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input {x.shape} and weight {weight.shape} do not fit; "
                         f"expected input (..., in) and weight (out, in)")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},)")
    if not fused_enabled():
        return linear_composed(x, weight, bias)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)

"""Matrix multiplication.

y = a @ b with a of shape (..., m, n) and b of shape (..., n, p): y_ij = sum_k a_ik b_kj,
batch axes broadcast. A 1-D a is a row vector (1, n), a 1-D b a column vector (n, 1), and the
added axis is dropped from y, as in NumPy.

    dL/da = dL/dy @ b^T        dL/db = a^T @ dL/dy
(each summed over batch axes that were broadcast).

``linear(x, weight, bias)`` is the fully connected layer y = x W^T + b as ONE op (see Linear
below): the same math as ``x @ weight.T + bias``, with two graph nodes fewer per layer.
"""

from ..autograd import Function
from ..errors import ShapeError
from .broadcast import sum_to_shape
from .elementwise import _operands


class MatMul(Function):
    """y = a @ b; see the module docstring for shapes and the derivative."""

    def forward(self, a, b):
        return self.xp.matmul(a, b)

    def backward(self, grad):
        a, b = self.inputs
        a2 = a if a.ndim > 1 else a.reshape(1, a.shape[0])
        b2 = b if b.ndim > 1 else b.reshape(b.shape[0], 1)
        if a.ndim == 1:
            grad = grad.unsqueeze(-2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            grad = grad.unsqueeze(-1)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = sum_to_shape(grad @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            grad_b = sum_to_shape(a2.swapaxes(-1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(a, b, like=None):
    a, b = _operands(a, b, like)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: needs tensors of at least 1 dim, got shapes {a.shape} and "
                         f"{b.shape}; use * for scalars")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align: "
                         f"{inner_a} != {inner_b}")
    return MatMul.apply(a, b)


class Linear(Function):
    """y = x W^T + b, the fully connected layer, as one op.

    x: (..., in)   W: (out, in)   b: (out,) or absent   y: (..., out)

    With the leading axes of x and dL/dy flattened into rows (X: (n, in), G: (n, out)):

        dL/dx = dL/dy @ W        dL/dW = G^T X        dL/db = sum over rows of G

    Why fused: ``x @ weight.T + bias`` records three ops (transpose, matmul, add) and its
    dL/dW arrives as the transpose of X^T G, a column-major array that makes the optimiser's
    update several times slower. Here dL/dW = G^T X is computed directly in W's own layout.
    """

    def forward(self, x, weight, bias=None):
        y = self.xp.matmul(x, weight.T)
        if bias is not None:
            y += bias
        return y

    def backward(self, grad):
        x, weight = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = grad @ weight
        rows = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        if needs[1]:
            rows_x = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            grad_w = rows.T @ rows_x
        if len(needs) > 2 and needs[2]:
            grad_b = rows.sum(axis=0)
        return (grad_x, grad_w) if len(needs) == 2 else (grad_x, grad_w, grad_b)


def linear(x, weight, bias=None):
    """y = x W^T + b (PyTorch's F.linear): x (..., in), weight (out, in), bias (out,) or None."""
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: expected x of shape (..., {weight.shape[-1]}) and weight of "
                         f"shape (out, in), got x {x.shape} and weight {weight.shape}")
    if bias is None:
        return Linear.apply(x, weight)
    if bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},)")
    return Linear.apply(x, weight, bias)

"""Matrix multiplication.

y = a @ b with a of shape (..., m, n) and b of shape (..., n, p): y_ij = sum_k a_ik b_kj,
batch axes broadcast. A 1-D a is a row vector (1, n), a 1-D b a column vector (n, 1), and the
added axis is dropped from y, as in NumPy.

    dL/da = dL/dy @ b^T        dL/db = a^T @ dL/dy
(each summed over batch axes that were broadcast).

The fully connected layer y = x W^T + b has its own fused op in linear.py.
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
    a, b = _operands(a, b, like, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: needs tensors of at least 1 dim, got shapes {a.shape} and "
                         f"{b.shape}; use * for scalars")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align: "
                         f"{inner_a} != {inner_b}")
    return MatMul.apply(a, b)


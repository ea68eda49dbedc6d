"""Reference solution of exercise 3."""

from tinygrad_course import Function
from tinygrad_course.ops.broadcast import sum_to_shape


class MatMul(Function):
    """y = a @ b;  dL/da = g @ b^T,  dL/db = a^T @ g  (last two axes; broadcast batch axes
    summed; 1-d operands as a row / a column)."""

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
        grad_a = sum_to_shape(grad @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        grad_b = sum_to_shape(a2.swapaxes(-1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b

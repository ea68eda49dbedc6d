"""Reference solution of exercise 2."""

from tinygrad_course import Function


def sum_to_shape(grad, shape):
    """Sum over the leading axes broadcasting added and the axes it stretched from size 1."""
    shape = tuple(shape)
    leading = grad.ndim - len(shape)
    stretched = tuple(leading + i for i, size in enumerate(shape)
                      if size == 1 and grad.shape[leading + i] != 1)
    return grad.sum(axis=tuple(range(leading)) + stretched, keepdims=True).reshape(shape)


class BroadcastMul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return sum_to_shape(grad * b, a.shape), sum_to_shape(grad * a, b.shape)

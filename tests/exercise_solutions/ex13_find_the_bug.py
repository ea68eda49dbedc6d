"""Reference solution of exercise 13: the five backwards fixed, the bugs named."""

from tinygrad_course import Function


class LinearNoBias(Function):
    def forward(self, x, w):
        return x @ w.T

    def backward(self, grad):
        x, w = self.inputs
        return grad @ w, grad.T @ x  # was x.T @ grad: (I, O), the transpose of dL/dW


class AddBias(Function):
    def forward(self, x, b):
        return x + b

    def backward(self, grad):
        return grad, grad.sum(axis=0)  # b was added to every row: sum over the rows


class SquaredDistance(Function):
    def forward(self, a, b):
        return ((a - b) ** 2).sum(axis=-1)

    def backward(self, grad):
        a, b = self.inputs
        g = grad.unsqueeze(-1)
        return 2.0 * g * (a - b), -2.0 * g * (a - b)  # d(a - b)/db = -1


class Softmax(Function):
    def forward(self, x):
        e = self.xp.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(axis=-1, keepdims=True))  # the softmax's own axis


class Square(Function):
    def forward(self, x):
        return x * x

    def backward(self, grad):
        return grad * self.inputs[0] * 2.0  # a new tensor; the input's array is left alone


DIAGNOSIS = {
    "LinearNoBias": "transposed gradient",
    "AddBias": "missing broadcast sum",
    "SquaredDistance": "wrong sign",
    "Softmax": "wrong reduction axis",
    "Square": "mutates input",
}

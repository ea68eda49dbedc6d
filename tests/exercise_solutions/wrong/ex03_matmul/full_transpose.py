"""The 2-d formulas with .T, which reverses every axis of a batched operand."""

from tinygrad_course import Function

CAUGHT_BY = "gradcheck: batched"
SLIPS_PAST = ("forward", "gradcheck: 2-d")


class MatMul(Function):
    def forward(self, a, b):
        return self.xp.matmul(a, b)

    def backward(self, grad):
        a, b = self.inputs
        return grad @ b.T, a.T @ grad

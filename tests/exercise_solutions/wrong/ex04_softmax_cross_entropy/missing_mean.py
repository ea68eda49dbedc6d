"""The backward of a summed loss: softmax - onehot without the 1/N of the mean."""

from exercise_solutions.ex04_softmax_cross_entropy import SoftmaxCrossEntropy

from tinygrad_course import Tensor

CAUGHT_BY = "gradcheck"
SLIPS_PAST = ("forward", "forward at logits of 1e4")


class SoftmaxCrossEntropy(SoftmaxCrossEntropy):  # noqa: F811
    def backward(self, grad):
        delta = self.softmax - self.onehot
        return grad * Tensor(delta, dtype=delta.dtype, device=grad.device), None

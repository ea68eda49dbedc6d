"""onehot - softmax: the gradient of the log-likelihood, not of the loss."""

from exercise_solutions.ex04_softmax_cross_entropy import SoftmaxCrossEntropy

from tinygrad_course import Tensor

CAUGHT_BY = "gradcheck"


class SoftmaxCrossEntropy(SoftmaxCrossEntropy):  # noqa: F811
    def backward(self, grad):
        delta = (self.onehot - self.softmax) / self.softmax.shape[0]
        return grad * Tensor(delta, dtype=delta.dtype, device=grad.device), None

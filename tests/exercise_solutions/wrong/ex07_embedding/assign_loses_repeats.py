"""dW[ids] += G: NumPy reads dW[ids] once and writes it back, so a repeated id keeps the
gradient of only one of its positions."""

from exercise_solutions.ex07_embedding import Embedding

from tinygrad_course import Tensor

CAUGHT_BY = "property: repeated ids"
SLIPS_PAST = ("forward", "gradcheck: distinct ids")


class Embedding(Embedding):  # noqa: F811
    def backward(self, grad):
        weight = self.inputs[0]
        grad_weight = self.xp.zeros(weight.shape, dtype=grad.dtype)
        grad_weight[self.ids.reshape(-1)] += grad.data.reshape(-1, weight.shape[1])
        return Tensor(grad_weight, dtype=grad_weight.dtype, device=grad.device), None

"""The one-hot product H^T G, right for 1-d ids (repeats included), but with H built from
ids as they are: for 2-d ids, H is 3-d and the product has the wrong shape."""

from exercise_solutions.ex07_embedding import Embedding

from tinygrad_course import Tensor

CAUGHT_BY = "property: ids of any shape"
SLIPS_PAST = ("forward", "gradcheck: distinct ids", "property: repeated ids")


class Embedding(Embedding):  # noqa: F811
    def backward(self, grad):
        vocabulary = self.inputs[0].shape[0]
        onehot = self.xp.eye(vocabulary, dtype=grad.dtype)[self.ids]
        grad_weight = onehot.T @ grad.data
        return Tensor(grad_weight, dtype=grad_weight.dtype, device=grad.device), None

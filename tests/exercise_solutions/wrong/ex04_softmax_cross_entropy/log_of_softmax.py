"""The max is subtracted (no overflow), but the loss is log of a softmax, which rounds to 0
when the label's logit is 2e4 below the largest: log(0) = -inf."""

from exercise_solutions.ex04_softmax_cross_entropy import SoftmaxCrossEntropy

CAUGHT_BY = "forward at logits of 1e4"
SLIPS_PAST = ("forward",)


class SoftmaxCrossEntropy(SoftmaxCrossEntropy):  # noqa: F811
    def forward(self, logits, labels):
        xp = self.xp
        n, classes = logits.shape
        exps = xp.exp(logits - logits.max(axis=1, keepdims=True))
        self.softmax = exps / exps.sum(axis=1, keepdims=True)
        self.onehot = xp.eye(classes, dtype=logits.dtype)[labels]
        return -xp.log(self.softmax[xp.arange(n), labels]).mean()

"""-log(softmax) with exp of the raw logits: right for ordinary logits, nan at 1e4."""

from exercise_solutions.ex04_softmax_cross_entropy import SoftmaxCrossEntropy

CAUGHT_BY = "forward at logits of 1e4"
SLIPS_PAST = ("forward",)


class SoftmaxCrossEntropy(SoftmaxCrossEntropy):  # noqa: F811
    def forward(self, logits, labels):
        xp = self.xp
        n, classes = logits.shape
        exps = xp.exp(logits)
        self.softmax = exps / exps.sum(axis=1, keepdims=True)
        self.onehot = xp.eye(classes, dtype=logits.dtype)[labels]
        return -xp.log(self.softmax[xp.arange(n), labels]).mean()

"""Checks of exercise 4: SoftmaxCrossEntropy with integer labels."""

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import strategies
from ..checker import Check, const, expect_close, gradcheck, holds_for_all, leaf, need

BIG_LOGITS = numpy.array([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0], [-1e4, -1e4, -1e4]])
BIG_LABELS = numpy.array([2, 0, 1])  # the first row's label is the smallest logit: loss 2e4


def reference(logits, labels):
    m = logits.max(axis=1, keepdims=True)
    log_sum = m[:, 0] + numpy.log(numpy.exp(logits - m).sum(axis=1))
    return numpy.mean(log_sum - logits[numpy.arange(len(labels)), labels])


def _loss(op, labels):
    ids = const(labels)
    return lambda logits: op.apply(logits, ids)


def forward(solution, max_examples):
    op = need(solution, "SoftmaxCrossEntropy")
    rng = numpy.random.default_rng(0)
    logits, labels = rng.normal(scale=2.0, size=(5, 4)), numpy.array([0, 3, 3, 1, 2])
    expect_close("SoftmaxCrossEntropy forward on (5, 4) logits", op.apply(leaf(logits),
                 const(labels)), reference(logits, labels))


def forward_big(solution, max_examples):
    op = need(solution, "SoftmaxCrossEntropy")
    with numpy.errstate(all="ignore"):  # the check is on the value, not on the warnings
        loss = op.apply(leaf(BIG_LOGITS), const(BIG_LABELS))
    expect_close(f"SoftmaxCrossEntropy forward on logits {BIG_LOGITS.tolist()} with labels "
                 f"{BIG_LABELS.tolist()}", loss, reference(BIG_LOGITS, BIG_LABELS), rtol=1e-12)


def gradcheck_random(solution, max_examples):
    op = need(solution, "SoftmaxCrossEntropy")
    logits = numpy.random.default_rng(1).normal(size=(4, 5))
    gradcheck("gradcheck of SoftmaxCrossEntropy on (4, 5) logits, labels [1, 4, 0, 1]",
              _loss(op, numpy.array([1, 4, 0, 1])), logits)


@st.composite
def _batches(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    logits = draw(strategies.values((n, c), -5.0, 5.0))
    labels = draw(hnp.arrays(numpy.int64, (n,), elements=st.integers(0, c - 1)))
    return {"logits": logits, "labels": labels}


def batches(solution, max_examples):
    op = need(solution, "SoftmaxCrossEntropy")

    def body(logits, labels):
        expect_close("SoftmaxCrossEntropy forward", op.apply(leaf(logits), const(labels)),
                     reference(logits, labels))
        gradcheck("gradcheck of SoftmaxCrossEntropy", _loss(op, labels), logits)

    holds_for_all("SoftmaxCrossEntropy for any N and C, repeated labels and tied logits",
                  _batches(), body, max_examples)


CHECKS = [
    Check("forward", forward, "a wrong formula, a sum where the mean is asked"),
    Check("forward at logits of 1e4", forward_big,
          "exp overflowing (no max subtracted), or log of a softmax that rounded to 0"),
    Check("gradcheck", gradcheck_random, "a wrong sign, a missing 1/N, a forgotten g"),
    Check("property: N, C, repeated labels, ties", batches,
          "shapes assumed (N > 1, C > 1), labels assumed distinct"),
]

"""Checks of exercise 10: the skip-gram negative-sampling loss and its dense gradients,
against NumPy, autograd of the composed loss, and gradcheck (through a Function made here
from the student's function)."""

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_course as tg

from .. import strategies
from ..checker import Check, const, expect_close, gradcheck, holds_for_all, host, leaf, need


def reference_loss(w_in, w_out, center, context, negatives):
    scores = w_out[numpy.concatenate([[context], negatives])] @ w_in[center]
    signs = numpy.concatenate([[1.0], -numpy.ones(len(negatives))])
    return float(numpy.logaddexp(0.0, -signs * scores).sum())  # -log sigma(sign * s)


def composed_loss(w_in, w_out, center, context, negatives):
    """The same loss with Tensor ops: autograd's gradients to compare with."""
    targets = numpy.concatenate([[context], negatives])
    signs = numpy.concatenate([[1.0], -numpy.ones(len(negatives))])
    scores = w_out[const(targets)] @ w_in[const(numpy.array(center))]
    return ((-(const(signs, numpy.float64) * scores)).exp() + 1.0).log().sum()


def _run(function, w_in, w_out, center, context, negatives):
    """The student's function on device arrays; results on the host."""
    xp = leaf(w_in).xp
    loss, d_in, d_out = function(leaf(w_in).data, leaf(w_out).data, center, context,
                                 const(negatives).data, xp)
    return float(loss), host(d_in), host(d_out)


def _compare(function, w_in, w_out, center, context, negatives):
    what = f"center {center}, context {context}, negatives {negatives.tolist()}"
    loss, d_in, d_out = _run(function, w_in, w_out, center, context, negatives)
    expect_close(f"loss ({what})", numpy.array(loss),
                 reference_loss(w_in, w_out, center, context, negatives))
    tables = leaf(w_in), leaf(w_out)
    composed_loss(*tables, center, context, negatives).backward()
    expect_close(f"d_w_in ({what}), yours vs autograd", d_in, host(tables[0].grad))
    expect_close(f"d_w_out ({what}), yours vs autograd", d_out, host(tables[1].grad))


def _tables(seed, vocabulary=6, dims=3):
    rng = numpy.random.default_rng(seed)
    return rng.normal(size=(vocabulary, dims)), rng.normal(size=(vocabulary, dims))


def loss_value(solution, max_examples):
    function = need(solution, "sgns_loss_and_gradients")
    w_in, w_out = _tables(0)
    negatives = numpy.array([1, 4])
    loss, _, _ = _run(function, w_in, w_out, 2, 3, negatives)
    expect_close("loss (center 2, context 3, negatives [1, 4])", numpy.array(loss),
                 reference_loss(w_in, w_out, 2, 3, negatives))


def distinct_words(solution, max_examples):
    function = need(solution, "sgns_loss_and_gradients")
    _compare(function, *_tables(1), 0, 5, numpy.array([2, 3, 1]))


def loss_gradcheck(solution, max_examples):
    function = need(solution, "sgns_loss_and_gradients")

    class Loss(tg.Function):
        def forward(self, w_in, w_out, center, context, negatives):
            loss, self.d_in, self.d_out = function(w_in, w_out, center, context, negatives,
                                                   self.xp)
            return self.xp.asarray(loss, dtype=w_in.dtype)

        def backward(self, grad):
            return (grad * tg.Tensor(self.d_in, dtype=self.d_in.dtype, device=grad.device),
                    grad * tg.Tensor(self.d_out, dtype=self.d_out.dtype, device=grad.device))

    negatives = const(numpy.array([4, 1]))
    gradcheck("gradcheck of the loss (inputs 0: w_in, 1: w_out), center 3, context 0, "
              "negatives [4, 1]", lambda a, b: Loss.apply(a, b, center=3, context=0,
                                                          negatives=negatives.data),
              *_tables(2, vocabulary=5, dims=2))


@st.composite
def _triples(draw):
    vocabulary, dims, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(
        st.integers(1, 4))
    words = st.integers(0, vocabulary - 1)
    return {"w_in": draw(strategies.values((vocabulary, dims))),
            "w_out": draw(strategies.values((vocabulary, dims))),
            "center": draw(words), "context": draw(words),
            "negatives": draw(hnp.arrays(numpy.int64, (k,), elements=words))}


def repeats(solution, max_examples):
    function = need(solution, "sgns_loss_and_gradients")

    def body(w_in, w_out, center, context, negatives):
        _compare(function, w_in, w_out, center, context, negatives)

    holds_for_all("the gradients add up repeated noise words and a noise word equal to the "
                  "context", _triples(), body, max_examples)


CHECKS = [
    Check("loss", loss_value, "a sign inside a sigmoid, log sigma(s) for -log sigma(s)"),
    Check("gradients vs autograd: distinct words", distinct_words,
          "sigma(s) - 1 and sigma(s) swapped between the context and the noise words"),
    Check("gradcheck", loss_gradcheck, "anything the comparison missed"),
    Check("property: repeated words", repeats,
          "d_w_out[targets] += ..., which keeps one update per repeated row"),
]

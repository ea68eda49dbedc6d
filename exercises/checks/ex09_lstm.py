"""Checks of exercise 9: an LSTM step by hand and backprop through time, against autograd of
the package's lstm_cell (the same cell composed of Tensor ops) and gradcheck.

The student's three array functions run inside the engine through two Functions made here:
a step, whose output is [h_t, c_t] concatenated on the last axis, and a whole sequence,
whose output is h_1 .. h_T stacked.
"""

import numpy
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course.ops.recurrent import lstm_cell

from ..checker import Check, CheckFailed, expect_close, gradcheck, holds_for_all, host, leaf, need

NAMES = ("x", "h", "c", "w_ih", "w_hh", "b")
SEQUENCE_NAMES = ("xs", "h0", "c0", "w_ih", "w_hh", "b")


def _tensors(arrays, like):
    return tuple(tg.Tensor(a, dtype=a.dtype, device=like.device) for a in arrays)


def functions(solution):
    """The student's functions wrapped as (Step, Sequence) Functions."""
    step_forward, step_backward, bptt = need(solution, "lstm_step_forward",
                                             "lstm_step_backward", "lstm_bptt")

    class Step(tg.Function):
        def forward(self, x, h, c, w_ih, w_hh, b):
            h_new, c_new, self.cache = step_forward(x, h, c, w_ih, w_hh, b, self.xp)
            return self.xp.concatenate([h_new, c_new], axis=-1)

        def backward(self, grad):
            hidden = grad.shape[-1] // 2
            dh, dc = grad.data[:, :hidden], grad.data[:, hidden:]
            return _tensors(step_backward(dh, dc, self.cache, self.xp), grad)

    class Sequence(tg.Function):
        def forward(self, xs, h0, c0, w_ih, w_hh, b):
            h, c, self.caches, hs = h0, c0, [], []
            for t in range(xs.shape[0]):
                h, c, cache = step_forward(xs[t], h, c, w_ih, w_hh, b, self.xp)
                self.caches.append(cache)
                hs.append(h)
            return self.xp.stack(hs)

        def backward(self, grad):
            return _tensors(bptt(grad.data, self.caches, self.xp), grad)

    return Step, Sequence


def random_inputs(steps, batch, inputs, hidden, seed):
    rng = numpy.random.default_rng(seed)
    shapes = [(steps, batch, inputs) if steps else (batch, inputs), (batch, hidden),
              (batch, hidden), (4 * hidden, inputs), (4 * hidden, hidden), (4 * hidden,)]
    return [rng.normal(scale=0.8, size=shape) for shape in shapes]


def composed(xs, h, c, w_ih, w_hh, b):
    """h_1 .. h_T from the package's lstm_cell (Tensor ops: autograd differentiates it)."""
    zeros = b * 0.0
    hs = []
    for t in range(xs.shape[0]):
        h, c = lstm_cell(xs[t], h, c, w_ih, w_hh, b, zeros)
        hs.append(h)
    return tg.stack(hs)


def _compare_gradients(what, ours, theirs, names, upstream, seed):
    """Backward through both with the same random upstream; compare gradient by gradient."""
    ours_in, theirs_in = [leaf(a) for a in seed], [leaf(a) for a in seed]
    ours(*ours_in).backward(leaf(upstream).detach())
    theirs(*theirs_in).backward(leaf(upstream).detach())
    for name, mine, reference in zip(names, ours_in, theirs_in):
        if mine.grad is None:
            raise CheckFailed(f"{what}: no gradient for {name} (None)")
        expect_close(f"{what}: dL/d{name} (yours vs autograd of the composed cell)",
                     host(mine.grad), host(reference.grad), atol=1e-9, rtol=1e-7)


def step_forward(solution, max_examples):
    step, _ = functions(solution)
    x, h, c, w_ih, w_hh, b = random_inputs(0, 2, 3, 4, seed=0)
    out = host(step.apply(*(leaf(a) for a in (x, h, c, w_ih, w_hh, b))))
    h_ref, c_ref = lstm_cell(*(leaf(a) for a in (x, h, c, w_ih, w_hh, b)), leaf(b * 0))
    expect_close("the step's h_t (vs lstm_cell)", out[:, :4], host(h_ref))
    expect_close("the step's c_t (vs lstm_cell)", out[:, 4:], host(c_ref))


def _one_step_composed(x, h, c, w_ih, w_hh, b):
    h_new, c_new = lstm_cell(x, h, c, w_ih, w_hh, b, b * 0.0)
    return tg.concatenate([h_new, c_new], axis=-1)


def step_vs_autograd(solution, max_examples):
    step, _ = functions(solution)
    inputs = random_inputs(0, 2, 3, 4, seed=1)
    upstream = numpy.random.default_rng(2).normal(size=(2, 8))
    _compare_gradients("one step", step.apply, _one_step_composed, NAMES, upstream, inputs)


def sequence_vs_autograd(solution, max_examples):
    _, sequence = functions(solution)
    inputs = random_inputs(3, 2, 3, 4, seed=3)
    upstream = numpy.random.default_rng(4).normal(size=(3, 2, 4))
    _compare_gradients("three steps", sequence.apply, composed, SEQUENCE_NAMES, upstream,
                       inputs)


def sequence_gradcheck(solution, max_examples):
    _, sequence = functions(solution)
    gradcheck("gradcheck of the three-step sequence (inputs 0-5: xs, h0, c0, w_ih, w_hh, b)",
              sequence.apply, *random_inputs(3, 2, 2, 3, seed=5))


@st.composite
def _sizes(draw):
    steps, batch, inputs, hidden = (draw(st.integers(1, 3)) for _ in range(4))
    seed = draw(st.integers(0, 2 ** 16))
    return {"steps": steps, "batch": batch, "inputs": inputs, "hidden": hidden, "seed": seed}


def any_sizes(solution, max_examples):
    _, sequence = functions(solution)

    def body(steps, batch, inputs, hidden, seed):
        arrays = random_inputs(steps, batch, inputs, hidden, seed)
        upstream = numpy.random.default_rng(seed + 1).normal(size=(steps, batch, hidden))
        _compare_gradients(f"{steps} steps", sequence.apply, composed, SEQUENCE_NAMES,
                           upstream, arrays)

    holds_for_all("BPTT matches autograd for any sizes (1 included) and lengths", _sizes(),
                  body, max_examples)


CHECKS = [
    Check("forward: one step", step_forward, "gates in another order than i, f, g, o"),
    Check("one step vs autograd", step_vs_autograd,
          "a gate's derivative (sigmoid' vs tanh'), c_t's path through h_t forgotten"),
    Check("three steps vs autograd", sequence_vs_autograd,
          "dc not carried back through time, weight gradients not summed over steps"),
    Check("gradcheck: three steps", sequence_gradcheck, "anything the comparisons missed"),
    Check("property: sizes and lengths", any_sizes,
          "sizes assumed (batch, hidden or length > 1)"),
]

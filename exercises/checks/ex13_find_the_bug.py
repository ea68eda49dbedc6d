"""Checks of exercise 13: five ops whose shipped backwards each hide one bug. The forwards
must stay as shipped (a "fix" that changes the forward to agree with a wrong backward is
caught), every backward must pass gradcheck at the shipped sizes and at other sizes, and
DIAGNOSIS must name each bug."""

import numpy
from hypothesis import strategies as st

from .. import strategies
from ..checker import Check, CheckFailed, expect_close, gradcheck, holds_for_all, leaf, need

OPS = ("LinearNoBias", "AddBias", "SquaredDistance", "Softmax", "Square")
BUGS = {"LinearNoBias": "transposed gradient", "AddBias": "missing broadcast sum",
        "SquaredDistance": "wrong sign", "Softmax": "wrong reduction axis",
        "Square": "mutates input"}


def _softmax(x):
    e = numpy.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


REFERENCES = {
    "LinearNoBias": lambda x, w: x @ w.T,
    "AddBias": lambda x, b: x + b,
    "SquaredDistance": lambda a, b: ((a - b) ** 2).sum(axis=-1),
    "Softmax": _softmax,
    "Square": lambda x: x * x,
}


def shipped_inputs(name, n=2, d=3, i=3, o=3, seed=0):
    """The inputs each op is checked on; W is square at the shipped sizes (i = o)."""
    rng = numpy.random.default_rng(seed)
    shapes = {"LinearNoBias": [(n, i), (o, i)], "AddBias": [(n, d), (d,)],
              "SquaredDistance": [(n, d), (n, d)], "Softmax": [(n, d)], "Square": [(n, d)]}
    return [rng.normal(size=shape) for shape in shapes[name]]


def forwards(solution, max_examples):
    for name in OPS:
        op = need(solution, name)
        inputs = shipped_inputs(name, seed=1)
        expect_close(f"{name} forward (the forwards were right as shipped: fix the backward)",
                     op.apply(*(leaf(x) for x in inputs)), REFERENCES[name](*inputs))


def _gradcheck(name):
    def run(solution, max_examples):
        op = need(solution, name)
        gradcheck(f"gradcheck of {name} on inputs of shapes "
                  f"{[x.shape for x in shipped_inputs(name)]}", op.apply,
                  *shipped_inputs(name, seed=2))
    return run


@st.composite
def _sizes(draw):
    n, d, i, o = (draw(st.integers(1, 3)) for _ in range(4))
    softmax_shape = draw(strategies.shapes(min_dims=1, max_dims=3))
    return {"n": n, "d": d, "i": i, "o": o, "softmax_shape": softmax_shape,
            "seed": draw(st.integers(0, 2 ** 16))}


def other_sizes(solution, max_examples):
    ops = dict(zip(OPS, need(solution, *OPS)))

    def body(n, d, i, o, softmax_shape, seed):
        for name in OPS:
            inputs = shipped_inputs(name, n, d, i, o, seed)
            if name == "Softmax":
                inputs = [numpy.random.default_rng(seed).normal(size=softmax_shape)]
            gradcheck(f"gradcheck of {name} on inputs of shapes {[x.shape for x in inputs]}",
                      ops[name].apply, *inputs)

    holds_for_all("the fixed backwards at other sizes (W not square, softmax of 1 to 3 axes)",
                  _sizes(), body, max_examples)


def diagnosis(solution, max_examples):
    named = need(solution, "DIAGNOSIS")
    problems = []
    for name in OPS:
        said = named.get(name)
        if said is None:
            problems.append(f"  {name}: not named yet")
        elif said not in BUGS.values():
            problems.append(f"  {name}: {said!r} is not one of {tuple(BUGS.values())}")
        elif said != BUGS[name]:
            problems.append(f"  {name}: {said!r} is not the bug you fixed there")
    if problems:
        raise CheckFailed("DIAGNOSIS: name each op's bug\n" + "\n".join(problems))


CHECKS = [
    Check("forwards unchanged", forwards, "a forward edited to agree with a wrong backward"),
    *[Check(f"gradcheck: {name}", _gradcheck(name), f"the planted bug of {name}")
      for name in OPS],
    Check("property: other sizes", other_sizes,
          "a fix right only at the shipped sizes (axis=1 for the last axis of 2-d inputs)"),
    Check("diagnosis", diagnosis, "a fix made without knowing what was wrong"),
]

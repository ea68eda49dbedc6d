"""Checks of exercise 11: the student's gradcheck against a bank of correct and planted-wrong
backwards. Each case says what it tests; a check passes when every case of its group is
classified right, and its report counts them."""

import dataclasses

import numpy

import tinygrad_course as tg

from ..checker import Check, CheckFailed, need


class Cube(tg.Function):
    """y = x^3;  dL/dx = g 3 x^2 times ``factor`` (1: right; -1: the sign; 1.01: 1% off)."""

    def forward(self, x, factor=1.0, mistake=None):
        self.factor, self.mistake = factor, mistake
        return x * x * x

    def backward(self, grad):
        x = self.inputs[0]
        if self.mistake == "ignores upstream":
            return x * x * 3.0
        local = x * x * (3.0 * self.factor)
        if self.mistake == "one element":  # twice the gradient at the first element only
            mask = self.xp.ones(x.shape, dtype=x.dtype)
            mask.reshape(-1)[0] = 2.0
            local = local * tg.Tensor(mask, dtype=x.dtype, device=x.device)
        return grad * local


class Sine(tg.Function):
    """y = sin(k x);  dL/dx = g k cos(k x): strong curvature when k is large."""

    def forward(self, x, k):
        self.k = k
        return self.xp.sin(k * x)

    def backward(self, grad):
        x = self.inputs[0].data
        return grad * tg.Tensor(self.k * self.xp.cos(self.k * x), dtype=x.dtype,
                                device=grad.device)


class Product(tg.Function):
    """y = a * b (same shapes);  dL/da = g b,  dL/db = g a times ``factor_b``."""

    def forward(self, a, b, factor_b=1.0):
        self.factor_b = factor_b
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * b, grad * a * self.factor_b


@dataclasses.dataclass
class Case:
    description: str
    fn: object
    inputs: list
    correct: bool


def _normal(shape, seed, loc=0.0, dtype=numpy.float64):
    return (numpy.random.default_rng(seed).normal(size=shape) + loc).astype(dtype)


def float64_correct():
    return [
        Case("x^3 at values near 1", Cube.apply, [_normal((3, 4), 0, 1.0)], True),
        Case("x^3 at values near 100 (large gradients: an absolute tolerance alone fails)",
             Cube.apply, [_normal((2, 3), 1, 100.0)], True),
        Case("sin(30 x) (strong curvature: a large eps fails)",
             lambda x: Sine.apply(x, k=30.0), [_normal((5,), 2)], True),
        Case("a * b (two inputs)", Product.apply, [_normal((2, 3), 3), _normal((2, 3), 4)],
             True),
        Case("x^3 with a second input the output ignores (its .grad is None)",
             lambda x, unused: Cube.apply(x), [_normal((3,), 5), _normal((2,), 6)], True),
        Case("a matmul of the package", tg.matmul, [_normal((2, 3), 7), _normal((3, 2), 8)],
             True),
    ]


def float64_wrong():
    return [
        Case("x^3 with the gradient's sign flipped", lambda x: Cube.apply(x, factor=-1.0),
             [_normal((3, 4), 10)], False),
        Case("x^3 with the gradient 1% too large", lambda x: Cube.apply(x, factor=1.01),
             [_normal((3, 4), 11, 1.0)], False),
        Case("x^3 whose backward ignores the upstream gradient (an upstream of ones hides it)",
             lambda x: Cube.apply(x, mistake="ignores upstream"), [_normal((3, 4), 12)], False),
        Case("x^3 wrong in one element only",
             lambda x: Cube.apply(x, mistake="one element"), [_normal((3, 4), 13, 1.0)], False),
        Case("a * b wrong for the second input only",
             lambda a, b: Product.apply(a, b, factor_b=1.5),
             [_normal((2, 3), 14), _normal((2, 3), 15)], False),
    ]


def float32_cases():
    f32 = numpy.float32
    return [
        Case("x^3 at values near 1, float32 inputs (differences in float32 are noise)",
             Cube.apply, [_normal((3, 4), 20, 1.0, f32)], True),
        Case("sin(30 x), float32 inputs", lambda x: Sine.apply(x, k=30.0),
             [_normal((5,), 21, 0.0, f32)], True),
        Case("x^3 with the gradient 1% too large, float32 inputs",
             lambda x: Cube.apply(x, factor=1.01), [_normal((3, 4), 22, 1.0, f32)], False),
    ]


def _classify(what, cases_of):
    def run(solution, max_examples):
        my_gradcheck = need(solution, "my_gradcheck")
        cases = cases_of()
        misses = []
        for case in cases:
            verdict = my_gradcheck(case.fn, *[x.copy() for x in case.inputs])
            if verdict not in (True, False) and not isinstance(verdict, numpy.bool_):
                raise CheckFailed(f"my_gradcheck returned {verdict!r} for '{case.description}'"
                                  "; it must return True or False")
            if bool(verdict) != case.correct:
                said = "wrong" if case.correct else "right"
                truth = "right" if case.correct else "wrong"
                misses.append(f"  said {said} but the backward is {truth}: {case.description}")
        if misses:
            raise CheckFailed(f"{what}: classified {len(cases) - len(misses)} of {len(cases)} "
                              "right\n" + "\n".join(misses))
    return run


CHECKS = [
    Check("correct backwards pass", _classify("correct backwards", float64_correct),
          "an absolute-only tolerance, a large eps, a None gradient not taken as zeros"),
    Check("planted bugs caught", _classify("planted bugs", float64_wrong),
          "an upstream of ones, a loose tolerance, checking some elements or inputs only"),
    Check("float32 inputs", _classify("float32 inputs", float32_cases),
          "finite differences taken in float32"),
]

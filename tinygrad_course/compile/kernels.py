"""Fused kernels evaluated by numexpr: one pass over the data, no temporaries.

A Kernel of the fusion pass is a tree of elementwise ufuncs. On the NumPy path it runs as
nested calls, each writing into a buffer (codegen.kernel_text). When numexpr is installed
(the optional ``compile`` extra), a kernel can instead become one numexpr expression, e.g.

    w - 0.01 * g             ->  numexpr "a0 - c0 * a1"   (a: arrays, c: constants)

numexpr evaluates it block by block (cache-sized chunks, several threads), so the
intermediate ``0.01 * g`` never reaches memory. Its float arithmetic may differ from NumPy's
in the last bit (it evaluates exp, tanh, ... with its own kernels, and may reorder), so a
compiled step using numexpr equals the eager step to a tolerance, not bit for bit.

A kernel takes this path only when every value in it has one float dtype (the constants
are passed as 0-d arrays of that dtype, which is what NumPy does with a Python number next
to a float32 array), every ufunc has a numexpr spelling, and the kernel gives the traced
result (checked once, at compile time, on the traced values).
"""

import time

import numpy

from .graph import Ref

try:
    import numexpr
except ImportError:  # the optional dependency (pip install -e '.[compile]')
    numexpr = None

# ufunc -> numexpr spelling, with {0}, {1} for the operands
SPELLING = {numpy.add: "({0} + {1})", numpy.subtract: "({0} - {1})",
            numpy.multiply: "({0} * {1})", numpy.true_divide: "({0} / {1})",
            numpy.negative: "(-{0})", numpy.power: "({0} ** {1})",
            numpy.exp: "exp({0})", numpy.log: "log({0})", numpy.sqrt: "sqrt({0})",
            numpy.tanh: "tanh({0})", numpy.sin: "sin({0})", numpy.cos: "cos({0})",
            numpy.absolute: "abs({0})", numpy.maximum: "maximum({0}, {1})",
            numpy.minimum: "minimum({0}, {1})", numpy.log1p: "log1p({0})",
            numpy.expm1: "expm1({0})"}

# numexpr's names for NumPy's float dtypes in a signature
_KIND = {numpy.dtype(numpy.float32): float, numpy.dtype(numpy.float64): numpy.float64}

# When use_numexpr is None (auto), a kernel takes the numexpr path only if it has at least
# this many elements (numexpr's fixed cost per call, ~5-10 us, is more than the passes it
# saves on small arrays) AND it ran faster than the NumPy calls when timed on the traced
# values at compile time (on a loaded 2-core machine it often is not).
MIN_ELEMENTS = 16384


def available():
    return numexpr is not None


class NumexprKernel:
    """One compiled numexpr expression: ``kernel(*leaf_arrays, out=buffer)``."""

    def __init__(self, kernel, values):
        self.leaves = list(kernel.leaves)
        self.dtype = values[kernel.var].dtype
        # traced Python numbers (Adam's 1 - beta1^t) become 0-d arrays of the dtype per call
        self.numbers = [i for i, var in enumerate(self.leaves)
                        if not isinstance(values[var], (numpy.ndarray, numpy.generic))]
        names = {var: f"a{i}" for i, var in enumerate(self.leaves)}
        self.constants = []
        inside = {m.var: m for m in kernel.members}

        def spell(node):
            operands = []
            for arg in node.args:
                if isinstance(arg, Ref) and arg.var in inside:
                    operands.append(spell(inside[arg.var]))
                elif isinstance(arg, Ref):
                    operands.append(names[arg.var])
                else:
                    operands.append(f"c{len(self.constants)}")
                    self.constants.append(numpy.asarray(arg, dtype=self.dtype))
            return SPELLING[node.op].format(*operands)

        self.expression = spell(kernel.root)
        kind = _KIND[self.dtype]
        signature = [(f"a{i}", kind) for i in range(len(self.leaves))]
        signature += [(f"c{i}", kind) for i in range(len(self.constants))]
        self.compiled = numexpr.NumExpr(self.expression, signature=signature, truediv=True)
        context = numexpr.necompiler.getContext({"truediv": True})
        self.uses_vml = numexpr.necompiler.getExprNames(self.expression, context)[1]

    def __call__(self, *arrays, out=None):
        if self.numbers:
            arrays = list(arrays)
            for i in self.numbers:
                arrays[i] = numpy.asarray(arrays[i], dtype=self.dtype)
        return self.compiled(*arrays, *self.constants, out=out, order="K", casting="safe",
                             ex_uses_vml=self.uses_vml)


def numexpr_kernel(kernel, values, plan, force):
    """A NumexprKernel for ``kernel`` when it qualifies (see the module docstring), or None."""
    if numexpr is None:
        return None
    result = values[kernel.var]
    if not isinstance(result, numpy.ndarray) or result.dtype not in _KIND:
        return None
    if not force and result.size < MIN_ELEMENTS:
        return None
    if not result.flags.c_contiguous:
        return None
    for member in kernel.members:
        if member.op not in SPELLING or values[member.var].dtype != result.dtype:
            return None
        for arg in member.args:
            if isinstance(arg, Ref):
                value = values[arg.var]
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    continue  # a traced Python number: weak, like a constant
                if not isinstance(value, (numpy.ndarray, numpy.generic)) or \
                        value.dtype != result.dtype:
                    return None
            elif not isinstance(arg, (int, float)) or isinstance(arg, bool):
                return None
    buffer = plan.buffer_of.get(kernel.var) if plan is not None else None
    if isinstance(buffer, tuple):  # written into a live array: no other view of it may be read
        live = buffer[1]
        if any(v != live and numpy.may_share_memory(values[v], values[live])
               for v in kernel.leaves):
            return None
    compiled = NumexprKernel(kernel, values)
    leaves = [values[v] for v in kernel.leaves]
    check = compiled(*leaves)
    scale = float(numpy.max(numpy.abs(result))) if result.size else 0.0
    if check.shape != result.shape or check.dtype != result.dtype or not numpy.allclose(
            check, result, rtol=1e-5, atol=1e-6 * scale, equal_nan=True):
        return None
    if not force and _seconds(lambda: compiled(*leaves, out=check)) >= \
            _seconds(lambda: _evaluate_with_numpy(kernel, values)):
        return None  # numexpr is not faster here (small arrays, few threads): keep NumPy
    return compiled


def _evaluate_with_numpy(kernel, values):
    inside = {m.var: m for m in kernel.members}

    def evaluate(node):
        args = [evaluate(inside[a.var]) if isinstance(a, Ref) and a.var in inside
                else values[a.var] if isinstance(a, Ref) else a for a in node.args]
        return node.op(*args)

    return evaluate(kernel.root)


def _seconds(function, repeats=5):
    """The best of a few timed runs: the autotuner's measure (on the traced values)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best

"""Code generation: the schedule becomes the source of one Python function, ``step.code``.

Each item of the schedule is one line, readable like a hand-written NumPy step:

    v7 = matmul(v0, v6, out=b2)                       a single call, into pool buffer b2
    v9 = maximum(add(v7, v8, out=b2), 0.0, out=b2)    a fused kernel (NumPy path)
    v9 = kernel3(v7, v8, out=b2)                      a fused kernel evaluated by numexpr

The function reads its inputs first (``v0 = args[0].data``, ``v3 = T[2].data`` for the
third tensor of the state, ``v5 = S[1]['exp_avg']`` for optimiser state), runs the lines,
stores the new state (``T[2].data = v40``; nothing when the value was computed straight
into the live array) and returns the step's result. Buffers ``b0, b1, ...`` are allocated
once, when the function is built.

Reductions of arrays are written as the ufunc's reduce they run: ``x.sum(axis=1)`` becomes
``add.reduce(x, axis=1)`` and ``numpy.max(x, axis=1)`` ``maximum.reduce(x, axis=1)``. NumPy's
method and function reach that very call through a Python wrapper (numpy/_core/_methods.py,
fromnumeric.py) that costs about a microsecond per call, a step's fixed cost at small sizes.
"""

import inspect
import math
import numbers
import operator

import numpy

from .. import random
from ..tensor import Tensor
from .capture import TensorOf
from .graph import Node, Ref, callable_name
from .trace import GuardFailed

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
          operator.floordiv: "//", operator.mod: "%", operator.pow: "**",
          operator.ipow: "**"}


# x.method(...) and numpy.function(x, ...) on an ndarray that are ufunc.reduce calls: NumPy's
# wrappers pass (x, axis, dtype, out, keepdims, ...) on to this reduce (the method all/any with
# dtype None, as here; the functions all/any pass dtype=bool, so they are left as they are).
# Their default axis is None where reduce's is 0, so the axis is always written.
_REDUCING_METHODS = {"sum": numpy.add, "prod": numpy.multiply, "max": numpy.maximum,
                     "min": numpy.minimum, "all": numpy.logical_and, "any": numpy.logical_or}
_REDUCING_FUNCTIONS = {numpy.sum: numpy.add, numpy.prod: numpy.multiply,
                       numpy.max: numpy.maximum, numpy.min: numpy.minimum,
                       numpy.amax: numpy.maximum, numpy.amin: numpy.minimum}


def new_tensor(array):
    """The tensor a replay stores as a gradient or returns (no graph: compiled outputs are
    detached, as torch.compile's are when the step ends in an optimiser update)."""
    return Tensor._from_op(array, "cpu", False)


class Source:
    """Builds the function text and the names it refers to (functions, constants, buffers)."""

    def __init__(self):
        self.lines, self.namespace, self._names = [], {}, {}
        self.values = []  # the traced values (program.values), to see what a call ran on

    def name_of(self, obj, hint):
        """The name ``obj`` is bound to in the generated function's globals."""
        key = id(obj)
        if key in self._names:
            return self._names[key]
        name, n = hint, 1
        while name in self.namespace:
            n += 1
            name = f"{hint}_{n}"
        self.namespace[name] = obj
        self._names[key] = name
        return name

    def render(self, value):
        """Python source for one argument."""
        if isinstance(value, Ref):
            return f"v{value.var}"
        if value is None or isinstance(value, (bool, str)) or value is Ellipsis:
            return "..." if value is Ellipsis else repr(value)
        if type(value) is int or (type(value) is float and math.isfinite(value)):
            return repr(value)
        if isinstance(value, tuple):
            inner = ", ".join(self.render(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, list):
            return "[" + ", ".join(self.render(v) for v in value) + "]"
        if isinstance(value, slice):
            return f"slice({self.render(value.start)}, {self.render(value.stop)}, " \
                   f"{self.render(value.step)})"
        if isinstance(value, numpy.generic) and value.dtype.kind in "biuf" and (
                value.dtype.kind != "f" or numpy.isfinite(value)):
            kind = type(value)  # float32(2.0): the exact value, with its type
            return f"{self.name_of(kind, kind.__name__)}({value.item()!r})"
        if isinstance(value, numpy.dtype):
            return self.name_of(value, str(value))
        if isinstance(value, type) or inspect.ismodule(value):
            return self.name_of(value, value.__name__.split(".")[-1])
        return self.name_of(value, "k")

    def render_index(self, index):
        """An index the way it is written: ``v3[:, 1:4]``, ``v3[k0, v5]``."""
        parts = index if isinstance(index, tuple) else (index,)
        rendered = []
        for part in parts:
            if isinstance(part, slice) and not any(isinstance(p, Ref) for p in
                                                   (part.start, part.stop, part.step)):
                text = ":".join("" if p is None else self.render(p)
                                for p in (part.start, part.stop))
                if part.step is not None:
                    text += f":{self.render(part.step)}"
                rendered.append(text)
            else:
                rendered.append(self.render(part))
        if isinstance(index, tuple) and len(index) == 1:
            return rendered[0] + ","
        return ", ".join(rendered) if rendered else "()"


def reduce_ufunc(source, node):
    """The ufunc whose reduce ``node`` is (see _REDUCING_METHODS), else None: the call must
    reduce a traced ndarray (not a NumPy scalar or a subclass) and pass at most the axis by
    position (the methods' and functions' later positions differ from reduce's)."""
    if node.kind == "method":
        ufunc = _REDUCING_METHODS.get(node.op)
    elif node.kind == "call":
        ufunc = next((u for f, u in _REDUCING_FUNCTIONS.items() if node.op is f), None)
    else:
        return None
    if ufunc is None or not node.args or not isinstance(node.args[0], Ref) or len(node.args) > 2:
        return None
    var = node.args[0].var
    traced = source.values[var] if var < len(source.values) else None
    return ufunc if type(traced) is numpy.ndarray else None


def call_text(source, node, out=None):
    """The expression that performs ``node`` (with ``out=`` when a buffer is given)."""
    ufunc = reduce_ufunc(source, node)
    if ufunc is not None:
        args = [source.render(a) for a in node.args]
        kwargs = [f"{k}={source.render(v)}" for k, v in node.kwargs.items()]
        if len(args) == 1 and "axis" not in node.kwargs:
            kwargs.insert(0, "axis=None")
        if out is not None:
            kwargs.append(f"out={out}")
        return f"{source.name_of(ufunc, ufunc.__name__)}.reduce({', '.join(args + kwargs)})"
    if node.kind == "random":  # name the generator before its arguments' constants
        generator = node.args[0]
        if generator is random.default_generator:
            generator_text = source.name_of(generator, "default_generator") + "()"
        else:
            generator_text = source.name_of(generator, "generator")
    args = [source.render(a) for a in node.args]
    kwargs = [f"{k}={source.render(v)}" for k, v in node.kwargs.items()]
    if out is not None:
        kwargs.append(f"out={out}")
    if node.kind == "method":
        return f"{args[0]}.{node.op}({', '.join(args[1:] + kwargs)})"
    if node.kind == "getitem":
        return f"{args[0]}[{source.render_index(node.args[1])}]"
    if node.kind == "random":  # from the default generator of the time, or a module's own
        return f"{generator_text}.{node.op}({', '.join(args[1:] + kwargs)})"
    if node.op in _INFIX and len(args) == 2 and not kwargs:
        return f"{args[0]} {_INFIX[node.op]} {args[1]}"
    if node.op is operator.neg:
        return f"-{args[0]}"
    name = callable_name(node.op)
    owner = getattr(node.op, "__self__", None)
    if isinstance(owner, numpy.ufunc):
        base = source.name_of(owner, owner.__name__)
        function = f"{base}.{node.op.__name__}"
    else:
        function = source.name_of(node.op, name)
    return f"{function}({', '.join(args + kwargs)})"


def buffer_text(plan, var):
    buffer = plan.buffer_of.get(var) if plan is not None else None
    if buffer is None:
        return None
    if isinstance(buffer, tuple):  # ("live", var): the state array it replaces
        return f"v{buffer[1]}"
    return f"b{buffer}"


def kernel_text(source, kernel, plan, numexpr_kernel=None):
    """A fused kernel as one expression: nested ufunc calls, each into its buffer."""
    if numexpr_kernel is not None:
        name = source.name_of(numexpr_kernel, "kernel")
        args = ", ".join(f"v{v}" for v in numexpr_kernel.leaves)
        out = buffer_text(plan, kernel.var)
        return f"{name}({args}" + (f", out={out})" if out else ")")
    inside = {m.var: m for m in kernel.members}

    def expression(node):
        args = [expression(inside[a.var]) if isinstance(a, Ref) and a.var in inside
                else source.render(a) for a in node.args]
        function = source.name_of(node.op, node.op.__name__)
        out = buffer_text(plan, node.var)
        return f"{function}({', '.join(args)}" + (f", out={out})" if out else ")")

    return expression(kernel.root)


def input_text(source, node_source):
    kind = node_source[0]
    if kind == "arg":
        return node_source[1]
    if kind == "data":
        return f"T[{node_source[1]}].data"
    if kind == "grad":
        return f"T[{node_source[1]}].grad.data"
    if kind == "entry":
        (o, i), key = node_source[1], node_source[2]
        return f"S[{o}, {i}][{key!r}]"
    raise ValueError(f"unknown input {node_source!r}")


def generate(program, schedule, plan, slots, numexpr_kernels=None):
    """Source text and namespace of ``compiled_step(args, kwargs)``."""
    numexpr_kernels = numexpr_kernels or {}
    source = Source()
    source.values = program.values
    source.namespace.update(T=slots.tensors, O=slots.optimizers, new_tensor=new_tensor,
                            empty=numpy.empty)
    lines = ["def compiled_step(args, kwargs):"]
    dict_slots = sorted({s[1] for s, _ in program.writes if s[0] == "entry"} |
                        {n.source[1] for n in schedule if isinstance(n, Node)
                         and n.kind == "input" and n.source[0] == "entry"})
    if dict_slots:
        lines.append("    S = {}")
        for o, i in dict_slots:
            lines.append(f"    S[{o}, {i}] = O[{o}].state.setdefault(O[{o}]._params()[{i}], {{}})")
    for item in schedule:
        if isinstance(item, Node):
            lines.append("    " + node_line(source, item, plan, program.labels))
        else:
            found = numexpr_kernels.get(item.var)
            text = kernel_text(source, item, plan, found)
            comment = f"  # numexpr: {found.expression}" if found is not None else ""
            lines.append(f"    v{item.var} = {text}{comment}")
    lines += ["    " + line for line in write_lines(source, program, plan)]
    lines.append(f"    return {result_text(source, program.result)}")
    lines[1:1] = ["    " + line for line in constant_legend(source)]
    for number, (shape, dtype, order) in (plan.buffers.items() if plan else ()):
        source.namespace[f"b{number}"] = numpy.empty(shape, dtype, order=order)
    return "\n".join(lines) + "\n", source.namespace


def constant_legend(source):
    """Comment lines saying what the constants k, k_2, ... are (arrays of the trace)."""
    lines = []
    for name, value in source.namespace.items():
        if name == "k" or name.startswith("k_"):
            if isinstance(value, numpy.ndarray) and value.size == 1:
                lines.append(f"# {name} = {value.item()!r} ({value.dtype}, shape {value.shape})")
            elif isinstance(value, numpy.ndarray):
                lines.append(f"# {name}: a {value.dtype} array of shape {value.shape}")
            else:
                lines.append(f"# {name}: {type(value).__name__}")
    return lines


def node_line(source, node, plan, labels=None):
    if node.kind == "check":
        guard_failed = source.name_of(GuardFailed, "GuardFailed")
        value, outcome = source.render(node.args[0]), node.kwargs["outcome"]
        test = f"bool({value}) is not {outcome}" if node.op == "bool" else \
            f"int({value}) != {outcome}"
        return f"if {test}: raise {guard_failed}({node.describe()!r})"
    if node.kind == "input":
        label = (labels or {}).get(node.var)
        comment = f"  # {label}" if label else ""
        return f"v{node.var} = {input_text(source, node.source)}{comment}"
    if node.kind == "setitem":
        target, index, value = node.args
        return (f"{source.render(target)}[{source.render_index(index)}] = "
                f"{source.render(value)}")
    text = call_text(source, node, buffer_text(plan, node.var))
    return f"v{node.var} = {text}" if node.var is not None else text


def write_lines(source, program, plan):
    """Store the new state: skip what did not change or was written in place already."""
    input_of_slot = {slot: var for var, slot in program.reads}
    lines = []
    for slot, target in program.writes:
        kind = slot[0]
        if kind == "dict" or (kind == "grad" and target is None and slot not in input_of_slot):
            continue  # (a gradient that was None and stays None)
        if kind == "data":
            where = f"T[{slot[1]}].data"
        elif kind == "grad":
            where = f"T[{slot[1]}].grad"
        else:
            (o, i), key = slot[1], slot[2]
            where = f"S[{o}, {i}][{key!r}]"
        if isinstance(target, Ref):
            if input_of_slot.get(slot) == target.var:
                continue  # unchanged (or changed in place)
            buffer = plan.buffer_of.get(target.var) if plan is not None else None
            if isinstance(buffer, tuple):
                continue  # computed straight into the live array
            lines.append(f"{where} = v{target.var}")
        else:
            lines.append(f"{where} = {result_text(source, target)}")
    return lines


def result_text(source, template):
    if isinstance(template, Ref):
        return f"v{template.var}"
    if isinstance(template, TensorOf):
        return f"new_tensor({result_text(source, template.data)})"
    if isinstance(template, tuple):
        inner = ", ".join(result_text(source, v) for v in template)
        return f"({inner},)" if len(template) == 1 else f"({inner})"
    if isinstance(template, list):
        return "[" + ", ".join(result_text(source, v) for v in template) + "]"
    if isinstance(template, dict):
        return "{" + ", ".join(f"{k!r}: {result_text(source, v)}"
                               for k, v in template.items()) + "}"
    if template is None or isinstance(template, (bool, str)) or (
            isinstance(template, numbers.Number) and type(template) in (int, float)
            and math.isfinite(template)):
        return repr(template)
    return source.name_of(template, "k")

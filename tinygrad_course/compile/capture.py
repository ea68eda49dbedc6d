"""Capture: run the step once under the tracer and collect what the program must reproduce.

``capture(fn, args, slots)`` swaps every array the step can read (the arguments' data, every
slot of state.py) for a TracedArray, every number in the optimiser state for a TracedScalar,
runs ``fn``, and puts the real arrays back where the traced ones ended up, so the live
objects hold exactly what an eager call would have left. It returns a ``Program``:

    nodes     the traced calls in order (graph.py)
    reads     (var, how to read it at the start of a replay): ("arg", path) or a slot
    writes    (slot, what to store at the end): a var, None, or a new tensor of a var
    result    fn's return value with the traced values as Refs
    values    the real value of every var in the traced call (for checks and sizes)
"""

import numbers

import numpy

from ..tensor import Tensor
from . import trace
from .graph import Ref


class Program:
    def __init__(self, nodes, reads, writes, result, values):
        self.nodes, self.reads, self.writes = nodes, reads, writes
        self.result, self.values = result, values

    def escaping_vars(self):
        """Vars that outlive the step: stored into state or returned."""
        found = []
        for _, target in self.writes:
            _refs_in(target, found)
        _refs_in(self.result, found)
        return set(found)


class TensorOf:
    """In a template: a tensor (without a graph) made of the value ``data`` at replay."""

    def __init__(self, data):
        self.data = data


def _refs_in(value, found):
    if isinstance(value, Ref):
        found.append(value.var)
    elif isinstance(value, TensorOf):
        _refs_in(value.data, found)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _refs_in(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _refs_in(item, found)


def capture(fn, args, kwargs, slots):
    tracer = trace.Tracer()
    reads, restore = [], []

    labels = {}
    names = {id(t): name for t, name in zip(slots.tensors, slots.tensor_names)}

    def traced_input(value, source):
        traced = tracer.input(value, source)
        reads.append((traced._var, source))
        labels[traced._var] = _label(source, slots, names)
        return traced

    for i, t in enumerate(slots.tensors):
        restore.append((t, "data", t.data))
        t.data = traced_input(t.data, ("data", i))
        if t.grad is not None:
            restore.append((t.grad, "data", t.grad.data))
            t.grad.data = traced_input(t.grad.data, ("grad", i))
    dicts_before = {id(d): d for _, d in slots.state_dicts()}
    for name, d in slots.state_dicts():
        for key, value in list(d.items()):
            if isinstance(value, numpy.ndarray) or (isinstance(value, numbers.Number)
                                                    and not isinstance(value, bool)):
                restore.append((d, key, value))
                d[key] = traced_input(value, ("entry", name, key))
    for module in slots.modules:  # a module's own generator (dropout): record its draws
        for name, value in list(vars(module).items()):
            if isinstance(value, numpy.random.Generator):
                restore.append((module, name, value))
                object.__setattr__(module, name, trace.RecordingGenerator(tracer, value))
    traced_args = _traced_arguments(args, traced_input, restore, "args")
    traced_kwargs = _traced_arguments(kwargs, traced_input, restore, "kwargs")
    uninstall = trace.install(tracer)
    try:
        result = fn(*traced_args, **traced_kwargs)
    except BaseException:
        uninstall()
        _put_back_real_values(slots, restore)
        raise
    uninstall()
    writes = _final_state(slots, dicts_before)
    result_template = _template(result)
    _put_back_real_values(slots, restore)
    real_result = _real_result(result)
    program = Program(tracer.nodes, reads, writes, result_template, tracer.values)
    program.labels = labels
    return program, real_result


def _label(source, slots, names):
    """A reader's name for an input: 'model.0.weight', 'model.0.weight.grad',
    'model.0.weight exp_avg' (optimiser state), 'args[0].data'."""
    kind = source[0]
    if kind == "arg":
        return source[1]
    if kind in ("data", "grad"):
        name = slots.tensor_names[source[1]]
        return name if kind == "data" else f"{name}.grad"
    o, i = source[1]
    param = slots.optimizers[o]._params()[i]
    return f"{names.get(id(param), f'opt{o} param {i}')} {source[2]}"


def _traced_arguments(value, traced_input, restore, path):
    if isinstance(value, Tensor):
        if isinstance(value.data, trace.TracedArray):
            return value  # also a piece of state (a parameter passed as an argument)
        restore.append((value, "data", value.data))
        value.data = traced_input(value.data, ("arg", f"{path}.data"))
        return value
    if isinstance(value, numpy.ndarray):
        return traced_input(value, ("arg", path))
    if isinstance(value, (list, tuple)):
        return type(value)(_traced_arguments(v, traced_input, restore, f"{path}[{i}]")
                           for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _traced_arguments(v, traced_input, restore, f"{path}[{k!r}]")
                for k, v in value.items()}
    return value


def _final_state(slots, dicts_before):
    """What each slot holds after the traced call, as the write the replay must make."""
    writes = []
    for i, t in enumerate(slots.tensors):
        writes.append((("data", i), _template(t.data)))
        writes.append((("grad", i), _template(t.grad)))
    for name, d in slots.state_dicts():
        writes.append((("dict", name), "exists" if id(d) in dicts_before else "new"))
        for key, value in d.items():
            writes.append((("entry", name, key), _template(value)))
    return writes


def _template(value):
    """``value`` with traced arrays and numbers replaced by Refs (the replay fills them in)."""
    if isinstance(value, (trace.TracedArray, trace.TracedScalar)):
        return Ref(value._var)
    if isinstance(value, Tensor):
        return TensorOf(_template(value.data))
    if isinstance(value, tuple):
        return tuple(_template(v) for v in value)
    if isinstance(value, list):
        return [_template(v) for v in value]
    if isinstance(value, dict):
        return {k: _template(v) for k, v in value.items()}
    return value


def _real_result(value):
    """The traced call's return value with the real arrays put back (what eager returns)."""
    if isinstance(value, Tensor):
        value.data = trace.real(value.data)
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_real_result(v) for v in value)
    if isinstance(value, dict):
        return {k: _real_result(v) for k, v in value.items()}
    return trace.real(value)


def _put_back_real_values(slots, restore):
    """Every traced value left in the live objects becomes its real array again."""
    for t in slots.tensors:
        t.data = trace.real(t.data)
        if t.grad is not None:
            t.grad.data = trace.real(t.grad.data)
    for _, d in slots.state_dicts():
        for key, value in d.items():
            d[key] = trace.real(value)
    for owner, key, value in restore:  # arguments' tensors, modules' generators
        if isinstance(owner, Tensor):
            owner.data = trace.real(owner.data)
        elif isinstance(value, numpy.random.Generator):
            object.__setattr__(owner, key, value)

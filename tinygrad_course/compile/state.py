"""What a compiled step reads and writes besides its arguments: the state it closes over.

A training step closes over a model and an optimiser. The compiled program reads their
arrays at the start of every replay and writes the new ones at the end, so the live objects
stay the one state that eager and compiled calls share. ``find_roots`` collects them the
way a reader of the function would: the values of its closure cells, the globals its code
names, the object of a bound method, the arguments of a functools.partial, and whatever
``compile(fn, state=...)`` names. From those, ``Slots`` lists:

    ("data", t)      t.data of every tensor: parameters, buffers, tensors in the closure
    ("grad", t)      t.grad of every parameter (None or a tensor)
    ("entry", d, k)  d[k] of every optimiser's per-parameter state dict (Adam's m, v, t)

The guard of a compiled program is ``Slots.signature`` plus the arguments' shapes and
dtypes: every slot's shape and dtype, which keys the optimiser state has, each optimiser's
hyper-parameters and each module's training flag. When any of them changes, the step is
traced again.
"""

import functools
import numbers
import operator

import numpy

from ..errors import DeviceError
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..tensor import Tensor

_SEARCH_DEPTH = 3  # how far into lists, dicts and closures of closures the search goes


def find_roots(fn, extra=()):
    """The objects ``fn`` can reach that may hold state, with a name for each."""
    found = []
    if isinstance(fn, functools.partial):
        found += [(f"partial arg {i}", a) for i, a in enumerate(fn.args)]
        found += [(f"partial {k}", v) for k, v in fn.keywords.items()]
        fn = fn.func
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        found.append(("self", owner))
        fn = getattr(fn, "__func__", fn)
    found += _closure_values(fn)
    found += [(f"state[{i}]", obj) for i, obj in enumerate(extra)]
    return found


def _closure_values(fn):
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    found = []
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            found.append((name, cell.cell_contents))
        except ValueError:  # an empty cell (a name assigned later)
            continue
    global_names = fn.__globals__ if hasattr(fn, "__globals__") else {}
    for name in _names_used(code):
        if name in global_names:
            found.append((name, global_names[name]))
    return found


def _names_used(code):
    names = list(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names += _names_used(const)
    return names


class Slots:
    """Every place of state found from ``roots``: tensors, their gradients, optimiser state."""

    def __init__(self, roots):
        self.tensors, self.tensor_names = [], []
        self.modules, self.optimizers = [], []
        self._last_arrays, self._tensor_part = None, None
        seen = set()
        # modules first, so that parameters are named by their place in the model
        for name, obj in sorted(roots, key=lambda root: not isinstance(root[1], Module)):
            self._visit(name, obj, seen, _SEARCH_DEPTH)

    def _visit(self, name, obj, seen, depth):
        if id(obj) in seen or depth < 0:
            return
        if isinstance(obj, (Tensor, Module, Optimizer, list, tuple, dict)) or callable(obj):
            seen.add(id(obj))
        if isinstance(obj, Tensor):
            self.tensors.append(obj)
            self.tensor_names.append(name)
        elif isinstance(obj, Module):
            for module in obj.modules():  # every submodule: training flags, generators
                if id(module) not in seen or module is obj:
                    seen.add(id(module))
                    self.modules.append(module)
            for path, param in obj.named_parameters():
                self._visit(f"{name}.{path}", param, seen, depth)
            for path, buf in obj.named_buffers():
                self._visit(f"{name}.{path}", buf, seen, depth)
        elif isinstance(obj, Optimizer):
            self.optimizers.append(obj)
            for i, param in enumerate(obj._params()):
                self._visit(f"{name}.param[{i}]", param, seen, depth)
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj[:1000]):
                self._visit(f"{name}[{i}]", item, seen, depth - 1)
        elif isinstance(obj, dict):
            for key, item in list(obj.items())[:1000]:
                self._visit(f"{name}[{key!r}]", item, seen, depth - 1)
        elif callable(obj) and hasattr(obj, "__code__") and not isinstance(obj, type):
            for inner_name, value in _closure_values_only(obj):
                self._visit(f"{name}.{inner_name}", value, seen, depth - 1)

    def state_dicts(self):
        """((optimiser number, parameter number), dict) for every per-parameter optimiser
        state dict that exists now."""
        found = []
        for o, opt in enumerate(self.optimizers):
            for i, param in enumerate(opt._params()):
                if param in opt.state:
                    found.append(((o, i), opt.state[param]))
        return found

    def signature(self):
        """Everything the trace is specialised to, as one hashable value (see the module doc).
        Computed on every call, so the tensors' part is reused when every tensor holds the
        very arrays it held at the last call (a replay updates them in place); the arrays
        are kept referenced, so an id cannot be taken over by another array meanwhile."""
        tensors = self.tensors
        arrays = [t.data for t in tensors]
        arrays += [None if t.grad is None else t.grad.data for t in tensors]
        last = self._last_arrays  # (map(is_) is the quick form of all(a is b for ...))
        if last is None or len(arrays) != len(last) or not all(map(operator.is_, arrays, last)):
            self._last_arrays, self._tensor_part = arrays, self._tensor_signature()
        parts = [self._tensor_part]
        for opt in self.optimizers:
            parts.append(tuple(map(_settings, opt.param_groups)))
            states = opt.state
            for param in opt._params():
                state = states.get(param)
                parts.append(None if state is None else () if not state else
                             tuple((k, _entry_spec(v)) for k, v in state.items()))
        parts.append(tuple(m.training for m in self.modules))
        return tuple(parts)

    def _tensor_signature(self):
        parts = []
        for t in self.tensors:
            data, grad = t.data, t.grad
            if t.device != "cpu":
                _array_spec(data, t.device)  # raises DeviceError
            parts.append((data.shape, data.dtype, data.strides, None if grad is None else
                          (grad.data.shape, grad.data.dtype, grad.data.strides)))
        return tuple(parts)


def _closure_values_only(fn):
    """Closure cells only (not globals) of a function the step closes over: its helpers'
    globals are library modules, not state."""
    code = fn.__code__
    found = []
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            found.append((name, cell.cell_contents))
        except ValueError:
            continue
    return found


def _array_spec(array, device="cpu"):
    """Shape, dtype and strides (the layout: C or Fortran order, a view's steps)."""
    if device != "cpu":
        raise DeviceError(f"tg.compile: the step uses a tensor on device {device!r}; the "
                          "compiler generates NumPy code and runs on 'cpu' only")
    return (array.shape, array.dtype, array.strides)


def _settings(group):
    """An optimiser group's hyper-parameters (lr, betas, ...), hashable, without its params."""
    settings = tuple((k, v) for k, v in group.items() if k != "params")
    try:
        hash(settings)
    except TypeError:  # a list among them
        return _frozen(dict(settings))
    return settings


def _entry_spec(value):
    if isinstance(value, numpy.ndarray):
        return _array_spec(value)
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return type(value).__name__  # numbers are traced: their value may change
    return _frozen(value)


def _frozen(value):
    """A hashable copy of a hyper-parameter value (lists become tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, numpy.ndarray):
        return ("array", value.shape, value.dtype.str, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


def argument_spec(value):
    """The part of the guard that one argument of the step contributes."""
    if isinstance(value, Tensor):
        return ("tensor", _array_spec(value.data, value.device), value.requires_grad)
    if isinstance(value, numpy.ndarray):
        return ("array", _array_spec(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(argument_spec(v) for v in value))
    return ("value", _frozen(value))

"""Tracing: run the step once with arrays that record every operation done to them.

While a step is traced, the tensors' ``.data`` are ``TracedArray``s: each holds the real
NumPy array (the step really runs, so the first call's result is the eager one, bit for bit)
and the number of the node that made it. Every way an op can touch an array goes through
the tracer and is appended to ``Tracer.nodes`` (see graph.py):

- NumPy functions and ufuncs (``xp.exp(x)``, ``xp.add(a, b, out=c)``, ``xp.add.at``,
  scipy's erf): NumPy hands them to ``__array_ufunc__`` / ``__array_function__``;
- operators (``a + b``, ``a @ b``, ``a += b``, ``a ** 2``), indexing and item assignment;
- methods (``x.reshape``, ``x.sum(axis=1)``, ``x.astype``): ``__getattr__`` records them.

Numbers the optimiser keeps between steps (Adam's step count t) become ``TracedScalar``s,
so ``1 - beta1 ** t`` is recomputed on every replay instead of being frozen at its first
value. Draws from the default random generator (dropout) are recorded as "random" nodes
and drawn afresh on every replay, from the same generator, so with the same seed a compiled
run draws the very numbers an eager run would.

What cannot be traced raises ``TraceError`` naming the operation: above all, Python code
that looks at a value (``if loss.item() > 3``, ``float(t)``, ``bool(mask.any())``): the
trace records one path through the step, so a branch on a value would be frozen to the
path of the first call (``ValueDependentError``). Arrays that are neither arguments nor
state (an index array made inside an op) are constants of the trace.
"""

import importlib
import linecache
import numbers
import operator
import sys

import numpy

from .. import backend, random
from ..errors import TensorError
from ..ops.buffer_pool import BufferPool
from .graph import Node, Ref, map_refs


class TraceError(TensorError, RuntimeError):
    """tg.compile met an operation it cannot record while tracing a step."""


class GuardFailed(Exception):
    """Raised by a replay whose value check (see Tracer.check) went the other way; the
    compiled step then runs the function eagerly. Not an error the user sees."""


class ValueDependentError(TraceError):
    """The traced step looked at a value (bool(), float(), int(), .item() used in Python):
    the program would be frozen to the branch taken in the first call."""


_VALUE_HINT = ("the compiled program records one path through the step, so a Python decision "
               "on a value would be frozen to the first call's branch; compute it with array "
               "ops (xp.where), move it out of the compiled function, or run the step eagerly")


class Tracer:
    """Records nodes while a step runs; ``values[var]`` keeps each value's real array."""

    def __init__(self):
        self.nodes = []
        self.values = []
        self.roots = []
        self.generator = random.default_generator()  # the real one, for "random" nodes
        self.input_vars = set()
        self.side_effect = None  # the first in-place write to state, once one happened
        self.running = 0  # > 0 while a recorded call runs on real arrays: record nothing then

    # ----- making values --------------------------------------------------------------------
    def new_value(self, node, value, inputs=()):
        """Give ``value`` (what the call returned) a var, find its memory root, append ``node``."""
        var = len(self.values)
        self.values.append(value)
        root = var
        if isinstance(value, numpy.ndarray):
            for traced in inputs:
                source = self.values[traced]
                if isinstance(source, numpy.ndarray) and numpy.may_share_memory(value, source):
                    root = self.roots[traced]
                    break
        self.roots.append(root)
        node.var, node.root = var, root
        if isinstance(value, (numpy.ndarray, numpy.generic)):
            node.shape, node.dtype, node.nbytes = value.shape, value.dtype, value.nbytes
        self.nodes.append(node)
        return var

    def input(self, value, source):
        """A value read at the start of the step (an argument or a piece of state)."""
        var = self.new_value(Node("input", None, source=source), value)
        self.input_vars.add(var)
        return self.wrap(value, var)

    def check(self, traced, kind, outcome):
        """Record that the step took a Python decision on ``traced`` (``kind`` "bool" or
        "int", with ``outcome``): the replay checks it again and, when it differs, runs
        the step eagerly instead (``GuardFailed``). That is only sound while nothing has
        been written to state, so later decisions are refused. (Random numbers a failed
        replay drew before its check stay drawn: the eager rerun draws the next ones.)"""
        if self.side_effect is not None:
            _value_refused(f"{kind}() after {self.side_effect}", traced._value)
        self.nodes.append(Node("check", kind, (Ref(traced._var),), {"outcome": outcome}))
        return outcome

    def wrap(self, value, var):
        if isinstance(value, (numpy.ndarray, numpy.generic)):
            return TracedArray(self, value, var)
        if isinstance(value, numbers.Number):
            return TracedScalar(self, value, var)
        raise TraceError(f"tg.compile: cannot trace a value of type {type(value).__name__}")

    # ----- recording calls ------------------------------------------------------------------
    def record(self, kind, op, args, kwargs=None):
        """Run the call on the real values and append its node; return the traced result."""
        kwargs = kwargs or {}
        refs_args, refs_kwargs = _to_refs(args), _to_refs(kwargs)
        real_args = map_refs(refs_args, self._real)
        real_kwargs = map_refs(refs_kwargs, self._real)
        self.running += 1
        try:
            if kind == "random":
                source = real_args[0]
                generator = self.generator if source is random.default_generator else source
                result = getattr(generator, op)(*real_args[1:], **real_kwargs)
            else:
                result = _execute(kind, op, real_args, real_kwargs)
        finally:
            self.running -= 1
        node = Node(kind, op, refs_args, refs_kwargs)
        reads = node.reads()
        node.writes = tuple(dict.fromkeys(self.roots[v] for v in _written_vars(node)))
        if self.side_effect is None and self.input_vars.intersection(node.writes):
            self.side_effect = f"an in-place write to state ({_describe(kind, op)})"
        if result is None:
            self.nodes.append(node)
            return None
        if _is_metadata(result):  # result_type(), shape(): facts about shapes and dtypes
            return result
        if isinstance(result, (tuple, list)) and not isinstance(result, numpy.ndarray):
            var = self.new_value(node, result, reads)
            return type(result)(self.record("getitem", operator.getitem, (Ref(var), i))
                                for i in range(len(result)))
        if not isinstance(result, (numpy.ndarray, numpy.generic, numbers.Number)):
            raise TraceError(f"tg.compile: {_describe(kind, op)} returned a "
                             f"{type(result).__name__}, which the tracer cannot follow")
        return self.wrap(result, self.new_value(node, result, reads))

    def _real(self, ref):
        return self.values[ref.var]


def _is_metadata(value):
    """A dtype, a type or a tuple of ints (a shape): what NumPy answers about an array's
    layout, the same on every replay that passes the guard, so no node is needed."""
    if isinstance(value, (numpy.dtype, type)):
        return True
    return isinstance(value, tuple) and all(type(v) is int for v in value)


def _to_refs(value):
    """``value`` with every traced array or number replaced by a Ref to its var."""
    if isinstance(value, (TracedArray, TracedScalar)):
        return Ref(value._var)
    if isinstance(value, tuple):
        return tuple(_to_refs(v) for v in value)
    if isinstance(value, list):
        return [_to_refs(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_refs(v) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(_to_refs(value.start), _to_refs(value.stop), _to_refs(value.step))
    return value


_WRITING_METHODS = {"fill", "sort", "put", "partition", "resize", "setfield", "itemset",
                    "byteswap"}


# NumPy functions that write into their first argument
_WRITING_FUNCTIONS = (numpy.copyto, numpy.put, numpy.place, numpy.putmask, numpy.fill_diagonal,
                      numpy.put_along_axis)


def _written_vars(node):
    """The vars a call changes in place: out= targets, the setitem target, ufunc.at's target,
    the array a method sorts or fills, the first argument of copyto and its kind. Writing
    into an array that is not traced (a constant of the trace) cannot be replayed: refused."""
    targets = []
    if node.kwargs.get("out") is not None:
        out = node.kwargs["out"]
        targets += list(out) if isinstance(out, tuple) else [out]
    if node.kind == "setitem" or (node.kind == "method" and node.op in _WRITING_METHODS):
        targets.append(node.args[0])
    if node.kind == "call" and (node.op in _WRITING_FUNCTIONS or (
            getattr(node.op, "__name__", "") == "at"
            and isinstance(getattr(node.op, "__self__", None), numpy.ufunc))):
        targets.append(node.args[0])
    position = OPAQUE.get((getattr(node.op, "__module__", None),
                           getattr(node.op, "__name__", None)))
    if node.kind == "call" and position is not None:
        targets.append(node.args[position])
    for target in targets:
        if isinstance(target, numpy.ndarray):
            raise TraceError(f"tg.compile: {_describe(node.kind, node.op)} writes traced "
                             f"values into an array of shape {target.shape} that the tracer "
                             "does not follow (made outside the step, or not a tensor's "
                             "data): every replay would write into that one array again")
    return [t.var for t in targets if isinstance(t, Ref)]


def _execute(kind, op, args, kwargs):
    if kind == "call":
        return op(*args, **kwargs)
    if kind == "method":
        return getattr(args[0], op)(*args[1:], **kwargs)
    if kind == "getitem":
        return args[0][args[1]]
    if kind == "setitem":
        args[0][args[1]] = args[2]
        return None
    raise TraceError(f"tg.compile: unknown node kind {kind!r}")


def _describe(kind, op):
    if kind == "method":
        return f"array.{op}()"
    return getattr(op, "__name__", repr(op))


def _value_refused(what, value):
    shape = f"shape {value.shape}, dtype {value.dtype}" if hasattr(value, "shape") else \
        type(value).__name__
    raise ValueDependentError(f"tg.compile: {what} of a traced value ({shape}) while tracing "
                              f"the step; {_VALUE_HINT}")


def _ufunc_operator(ufunc, reflected=False):
    if reflected:
        def operator_method(self, other):
            if _defers(other):
                return NotImplemented
            return ufunc(other, self)
    else:
        def operator_method(self, other):
            if _defers(other):
                return NotImplemented
            return ufunc(self, other)
    return operator_method


def _inplace_operator(ufunc):
    def operator_method(self, other):
        return ufunc(self, other, out=(self,))
    return operator_method


def _defers(other):
    """ndarray's rule: an operand that switched NumPy off (``__array_ufunc__ = None``, as
    Tensor has via priority) handles the operator itself."""
    return getattr(type(other), "__array_ufunc__", True) is None or \
        type(other).__name__ == "Tensor"


class TracedArray:
    """A NumPy array (``_value``) whose every use is recorded by ``_tracer`` as var ``_var``."""

    __slots__ = ("_tracer", "_value", "_var", "__weakref__")
    __array_priority__ = 10000

    def __init__(self, tracer, value, var):
        self._tracer, self._value, self._var = tracer, value, var

    # ----- what describes the array without looking at its values -----------------------------
    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)
    itemsize = property(lambda self: self._value.itemsize)
    nbytes = property(lambda self: self._value.nbytes)
    strides = property(lambda self: self._value.strides)
    flags = property(lambda self: self._value.flags)
    T = property(lambda self: self._tracer.record("method", "transpose", (self,)))
    mT = property(lambda self: self._tracer.record("call", numpy.matrix_transpose, (self,)))

    def __len__(self):
        return len(self._value)

    def __repr__(self):
        return f"TracedArray(v{self._var}, shape={self.shape}, dtype={self.dtype})"

    # ----- NumPy's two hooks ------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = ufunc if method == "__call__" else getattr(ufunc, method)
        return self._tracer.record("call", op, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return self._tracer.record("call", func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        raise TraceError("tg.compile: a traced array was converted to a plain NumPy array "
                         "(numpy.asarray, numpy.array, assigning it into a NumPy array); the "
                         "tracer would lose it. Keep the computation on the array itself")

    # ----- methods, indexing ------------------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self._value, name)
        if not callable(attribute):
            raise TraceError(f"tg.compile: cannot trace the attribute array.{name}")

        def traced_method(*args, **kwargs):
            return self._tracer.record("method", name, (self, *args), kwargs)

        return traced_method

    def __getitem__(self, index):
        return self._tracer.record("getitem", operator.getitem, (self, index))

    def __setitem__(self, index, value):
        self._tracer.record("setitem", operator.setitem, (self, index, value))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def item(self, *args):
        return self._tracer.record("method", "item", (self, *args))

    # ----- looking at values: guarded, or refused ---------------------------------------------
    # bool() and int() of an array (an op checking its input, e.g. labels < num_classes)
    # become checks the replay repeats; float() would freeze a value into the program.
    def __bool__(self):
        return self._tracer.check(self, "bool", bool(self._value))

    def __int__(self):
        return self._tracer.check(self, "int", int(self._value))

    __index__ = __int__

    def __float__(self):
        _value_refused("float()", self._value)

    def __complex__(self):
        _value_refused("complex()", self._value)

    def tolist(self):
        _value_refused(".tolist()", self._value)

    def __pow__(self, other):
        if _defers(other):
            return NotImplemented
        return self._tracer.record("call", operator.pow, (self, other))

    def __rpow__(self, other):
        return self._tracer.record("call", operator.pow, (other, self))

    def __ipow__(self, other):
        return self._tracer.record("call", operator.ipow, (self, other))

    def __neg__(self):
        return numpy.negative(self)

    def __pos__(self):
        return numpy.positive(self)

    def __abs__(self):
        return numpy.absolute(self)

    def __invert__(self):
        return numpy.invert(self)

    __hash__ = None


for _name, _ufunc in [("add", numpy.add), ("sub", numpy.subtract), ("mul", numpy.multiply),
                      ("truediv", numpy.true_divide), ("floordiv", numpy.floor_divide),
                      ("mod", numpy.remainder), ("matmul", numpy.matmul),
                      ("and", numpy.bitwise_and), ("or", numpy.bitwise_or),
                      ("xor", numpy.bitwise_xor), ("lshift", numpy.left_shift),
                      ("rshift", numpy.right_shift)]:
    setattr(TracedArray, f"__{_name}__", _ufunc_operator(_ufunc))
    setattr(TracedArray, f"__r{_name}__", _ufunc_operator(_ufunc, reflected=True))
    setattr(TracedArray, f"__i{_name}__", _inplace_operator(_ufunc))
for _name, _ufunc in [("eq", numpy.equal), ("ne", numpy.not_equal), ("lt", numpy.less),
                      ("le", numpy.less_equal), ("gt", numpy.greater),
                      ("ge", numpy.greater_equal)]:
    setattr(TracedArray, f"__{_name}__", _ufunc_operator(_ufunc))


def _scalar_operator(function, reflected=False):
    def operator_method(self, other):
        if isinstance(other, (numpy.ndarray, TracedArray)):
            return NotImplemented  # the array's operator records it as a ufunc call
        if not isinstance(other, (numbers.Number, TracedScalar)):
            return NotImplemented
        args = (other, self) if reflected else (self, other)
        return self._tracer.record("call", function, args)
    return operator_method


class TracedScalar:
    """A Python number the step computes with (a step count, a loss.item()), recorded so the
    replay recomputes it: arithmetic is traced, looking at its value is refused."""

    __slots__ = ("_tracer", "_value", "_var")

    def __init__(self, tracer, value, var):
        self._tracer, self._value, self._var = tracer, value, var

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = ufunc if method == "__call__" else getattr(ufunc, method)
        return self._tracer.record("call", op, inputs, kwargs)

    def __repr__(self):
        return f"TracedScalar(v{self._var}, {type(self._value).__name__})"

    def __bool__(self):
        _value_refused("bool()", self._value)

    def __float__(self):
        _value_refused("float()", self._value)

    def __int__(self):
        _value_refused("int()", self._value)

    def __index__(self):
        _value_refused("using as an index (int)", self._value)

    def __neg__(self):
        return self._tracer.record("call", operator.neg, (self,))

    def __abs__(self):
        return self._tracer.record("call", operator.abs, (self,))

    def _compare(self, other):
        _value_refused("comparing", self._value)

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _compare
    __hash__ = None


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    setattr(TracedScalar, f"__{_name}__", _scalar_operator(getattr(operator, _name)))
    setattr(TracedScalar, f"__r{_name}__",
            _scalar_operator(getattr(operator, _name), reflected=True))


class RecordingGenerator:
    """Stands in for a numpy.random.Generator while a step is traced: each draw is a
    "random" node, drawn afresh on every replay. ``source`` is what the replay draws from:
    ``random.default_generator`` (the default generator of the time, which manual_seed
    replaces) or a Generator object a module keeps (nn.Dropout's, attention's)."""

    def __init__(self, tracer, source):
        self._tracer, self._source = tracer, source

    def __getattr__(self, name):
        if name.startswith("_") or name in ("bit_generator", "spawn"):
            raise TraceError(f"tg.compile: the traced step used random generator attribute "
                             f"{name!r}, which cannot be recorded; draw with a method such as "
                             f".random() or .normal()")

        def draw(*args, **kwargs):
            return self._tracer.record("random", name, (self._source, *args), kwargs)

        return draw


# NumPy functions that do not hand traced arrays to __array_function__ (they convert them)
# and the ones that make new arrays from shapes: while tracing they are recorded, so that an
# array an op creates and then fills (out = xp.empty(...); out[t] = h) is traced too.
_CONVERTING = ("asarray", "asanyarray", "ascontiguousarray", "array")
_CREATING = ("empty", "zeros", "ones", "full", "arange", "eye", "identity", "empty_like",
             "zeros_like", "ones_like", "full_like")
# The sequence ops' pool of freed arrays is switched off while tracing (traced arrays must
# not outlive the trace in it); the compiled program plans its own buffers.
# Library functions recorded as one node each (their insides use scipy.sparse, which cannot
# be traced): (module, function name) -> the position of the argument they add into.
OPAQUE = {("tinygrad_course.backend", "scatter_add"): 1,
          ("tinygrad_course.models.word2vec", "add_weighted_rows"): 1}


def _recorded(tracer, function, always):
    def recorded_function(*args, **kwargs):
        if not tracer.running and (_has_traced((args, kwargs))
                                   or (always and _called_by_name(function.__name__))):
            return tracer.record("call", function, args, kwargs)
        return function(*args, **kwargs)

    recorded_function.__wrapped__ = function
    return recorded_function


def _called_by_name(name):
    """True when the Python line that made this call names the function (``xp.empty(``):
    NumPy's and SciPy's own helpers, and compiled code such as a Generator's methods, make
    scratch arrays through numpy.empty too; those must stay plain arrays (compiled code
    writes into them directly), only the step's own arrays are traced."""
    frame = sys._getframe(2)
    if frame.f_globals.get("__name__", "").startswith(("numpy", "scipy")):
        return False
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    return f"{name}(" in line


def _has_traced(value):
    if isinstance(value, (TracedArray, TracedScalar)):
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_traced(v) for v in value)
    if isinstance(value, dict):
        return any(_has_traced(v) for v in value.values())
    return False


def _default_rng_accepting(tracer, default_rng):
    """numpy.random.default_rng(generator) returns a Generator as it is: do so for the
    recording stand-in too (ops normalise their generator= argument this way)."""
    def accepting(seed=None):
        return seed if isinstance(seed, RecordingGenerator) else default_rng(seed)

    return accepting


def install(tracer):
    """Make the engine accept traced arrays, record random draws and the NumPy functions
    above; returns the function that undoes it all."""
    saved = [(backend, "tracing_array_types", backend.tracing_array_types),
             (random, "_default", random._default)]
    saved += [(numpy, name, getattr(numpy, name)) for name in _CONVERTING + _CREATING]
    opaque_modules = [(importlib.import_module(module), name) for module, name in OPAQUE]
    saved += [(module, name, getattr(module, name)) for module, name in opaque_modules]
    saved += [(BufferPool, "take", BufferPool.take), (BufferPool, "give_back",
                                                       BufferPool.give_back)]
    BufferPool.take = lambda pool, key: None
    BufferPool.give_back = lambda pool, key, array: None
    saved.append((numpy.random, "default_rng", numpy.random.default_rng))
    backend.tracing_array_types = (TracedArray,)
    random._default = RecordingGenerator(tracer, random.default_generator)
    numpy.random.default_rng = _default_rng_accepting(tracer, numpy.random.default_rng)
    for name in _CONVERTING:
        setattr(numpy, name, _recorded(tracer, getattr(numpy, name), always=False))
    for name in _CREATING:
        setattr(numpy, name, _recorded(tracer, getattr(numpy, name), always=True))
    for module, name in opaque_modules:
        setattr(module, name, _recorded(tracer, getattr(module, name), always=False))

    def uninstall():
        for owner, name, value in saved:
            setattr(owner, name, value)

    return uninstall


def real(value):
    """A traced value's real array or number (anything else as it is)."""
    if isinstance(value, (TracedArray, TracedScalar)):
        return value._value
    return value

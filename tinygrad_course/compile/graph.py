"""The traced program: a list of nodes, each one array-level operation of the step.

A node is one call the step made on arrays, in the order it ran:

    kind      what the call was:
              "input"    a value read at the start: an argument, or a piece of model or
                         optimiser state (``source`` says which)
              "call"     op(*args, **kwargs), op a NumPy function, ufunc or operator
              "method"   args[0].op(*args[1:], **kwargs), e.g. x.reshape(...), x.sum(axis=1)
              "getitem"  args[0][args[1]]
              "setitem"  args[0][args[1]] = args[2]   (writes in place, makes no value)
              "random"   the default generator's method op(*args, **kwargs): drawn afresh
                         on every replay (dropout masks)
    args, kwargs   the arguments, with ``Ref(var)`` where a traced value was passed
    var       the number of the value it makes (None for setitem)
    shape, dtype   of that value (None when it is a Python number or a tuple)
    root      the var whose memory the value lives in: itself when the call allocated a
              fresh array, the input's root when the result is a view of it (x.T, x[1:])
    writes    the roots the call changed in place (out=, setitem, ufunc.at, x.sort())

Values are not single-assignment: an in-place call changes memory that other vars share, so
every pass keeps the order of the calls and treats a write as touching its whole root.
"""

import numpy


class Ref:
    """A traced value passed as an argument: var number ``var``."""

    __slots__ = ("var",)

    def __init__(self, var):
        self.var = var

    def __repr__(self):
        return f"v{self.var}"


class Node:
    __slots__ = ("kind", "op", "args", "kwargs", "var", "shape", "dtype", "root", "writes",
                 "source", "nbytes")

    def __init__(self, kind, op, args=(), kwargs=None, var=None, shape=None, dtype=None,
                 root=None, writes=(), source=None, nbytes=0):
        self.kind, self.op, self.args, self.kwargs = kind, op, tuple(args), dict(kwargs or {})
        self.var, self.shape, self.dtype, self.root = var, shape, dtype, root
        self.writes, self.source, self.nbytes = tuple(writes), source, nbytes

    @property
    def fresh(self):
        """True when the call allocated a new array of its own (not a view, not an input)."""
        return self.var is not None and self.root == self.var and self.kind != "input"

    def reads(self):
        """The vars this node reads, in argument order (repeats removed)."""
        found = []
        _collect_refs((self.args, self.kwargs), found)
        return list(dict.fromkeys(found))

    def describe(self, labels=None):
        """One line: ``v12 = multiply(v10, v11)  (8, 256) float32``; inputs by their label."""
        target = f"v{self.var} = " if self.var is not None else ""
        if self.kind == "input":
            body = f"input {(labels or {}).get(self.var, self.source)}"
        else:
            body = f"{op_name(self)}({', '.join(_short(a) for a in self.args)})"
        shape = "" if self.shape is None else f"  {self.shape} {self.dtype}"
        return f"{target}{body}{shape}"


def op_name(node):
    """A readable name for the node's operation: 'multiply', '.reshape', '[]', 'random.normal'."""
    if node.kind == "method":
        return f".{node.op}"
    if node.kind == "getitem":
        return "getitem"
    if node.kind == "setitem":
        return "setitem"
    if node.kind == "random":
        return f"random.{node.op}"
    if node.kind == "check":
        return f"check_{node.op}_is_{node.kwargs['outcome']}"
    return callable_name(node.op)


def callable_name(function):
    """'add' for numpy.add, 'add.reduce' for numpy.add.reduce, 'erf' for scipy's erf."""
    owner = getattr(function, "__self__", None)
    name = getattr(function, "__name__", None) or type(function).__name__
    if isinstance(owner, numpy.ufunc):
        return f"{owner.__name__}.{name}"
    return name


def _short(value):
    if isinstance(value, Ref):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    if isinstance(value, numpy.ndarray):
        return f"const{value.shape}"
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."


def _collect_refs(value, found):
    if isinstance(value, Ref):
        found.append(value.var)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _collect_refs(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_refs(item, found)
    elif isinstance(value, slice):
        _collect_refs((value.start, value.stop, value.step), found)


def map_refs(value, function):
    """``value`` with every Ref replaced by ``function(ref)`` (tuples, lists, dicts, slices)."""
    if isinstance(value, Ref):
        return function(value)
    if isinstance(value, tuple):
        return tuple(map_refs(v, function) for v in value)
    if isinstance(value, list):
        return [map_refs(v, function) for v in value]
    if isinstance(value, dict):
        return {k: map_refs(v, function) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(*(map_refs(v, function) for v in (value.start, value.stop, value.step)))
    return value


def to_text(nodes, title="traced graph", labels=None):
    """The nodes one per line, as ``step.graph`` prints them."""
    lines = [f"# {title}: {len(nodes)} nodes"]
    lines += [node.describe(labels) for node in nodes]
    return "\n".join(lines)


def to_dot(nodes, title="traced", labels=None):
    """Graphviz DOT text of the nodes: a box per operation, an arrow per value it reads."""
    lines = [f'digraph "{title}" {{', "  rankdir=TB;", "  node [fontname=monospace];"]
    maker = {}
    for i, node in enumerate(nodes):
        label = node.describe(labels).replace('"', "'")
        shape = "ellipse" if node.kind == "input" else "box"
        lines.append(f'  n{i} [label="{label}", shape={shape}];')
        for var in node.reads():
            if var in maker:
                lines.append(f"  n{maker[var]} -> n{i};")
        if node.var is not None:
            maker[node.var] = i
    lines.append("}")
    return "\n".join(lines) + "\n"

"""The compiler's passes: each takes the traced program and returns what the next one needs.

0. ``simplify``             folds what does not depend on the inputs (aranges, masks of
                            ones, checks on them) into constants and drops views that
                            change nothing (x.reshape(x.shape)); ``gather_one_hot``
                            turns a sum over one-hot rows into a gather.
1. ``eliminate_dead_code``  drops calls whose value nothing reads (and that write nothing).
2. ``fuse_elementwise``     groups chains of elementwise ufuncs into one kernel each.
3. ``plan_memory``          gives every intermediate a buffer from a pool, reused once the
                            value is dead, so a replay allocates (almost) nothing.
(4. code generation is codegen.py.)

Every pass keeps the order of the calls that remain: values are not single-assignment (an
in-place call writes memory that views share), so moving a call is only allowed where no
write to the memory it reads happens in between (see ``_no_write_between``).
"""

import operator

import numpy

from .graph import Node, Ref, map_refs

# ----- 0. simplification ---------------------------------------------------------------------


def simplify(nodes, program):
    """Constant folding and identity views.

    A node whose arguments hold no traced value (``arange(10)``, ``ones((8, 1))``, and then
    anything computed only from such values) gives the same result on every replay: its
    traced value becomes a constant of the program, unless something writes into that memory
    later or the value leaves the step. A check on a constant always passes and goes.
    A view with the shape, strides and dtype of its input (``x.reshape(-1, 256)`` of an
    (8, 256) array) is its input: its var is renamed to the input's.
    The program's writes and result are rewritten with the same substitutions."""
    values = program.values
    written = {root for n in nodes for root in n.writes}
    escaping = program.escaping_vars()
    substitute = {}  # var -> Ref of another var, or a constant value

    def replace(ref):
        return substitute.get(ref.var, ref)

    kept = []
    for node in nodes:
        if any(var in substitute for var in node.reads()):
            node = _with_args(node, map_refs(node.args, replace), map_refs(node.kwargs, replace))
        reads = node.reads()
        if node.kind == "check" and not reads:
            continue  # a check on a constant passed when it was traced and always will
        if (node.kind in ("call", "method", "getitem") and not reads and node.var is not None
                and node.root not in written and node.var not in escaping
                and not node.writes):
            substitute[node.var] = values[node.var]
            continue
        if _is_identity_view(node, values) and node.var not in escaping:
            substitute[node.var] = Ref(reads[0])
            continue
        kept.append(node)
    program.writes = [(slot, map_refs(target, replace)) for slot, target in program.writes]
    program.result = map_refs(program.result, replace)
    return kept


_VIEW_METHODS = {"reshape", "view", "ravel", "squeeze", "transpose", "astype"}


def _is_identity_view(node, values):
    if node.kind != "method" or node.op not in _VIEW_METHODS or node.var is None:
        return False
    source, result = values[node.args[0].var] if isinstance(node.args[0], Ref) else None, \
        values[node.var]
    return (isinstance(source, numpy.ndarray) and isinstance(result, numpy.ndarray)
            and result.shape == source.shape and result.strides == source.strides
            and result.dtype == source.dtype
            and result.__array_interface__["data"][0] == source.__array_interface__["data"][0])


def _with_args(node, args, kwargs):
    copy = Node(node.kind, node.op, args, kwargs, node.var, node.shape, node.dtype, node.root,
                node.writes, node.source, node.nbytes)
    return copy


def gather_one_hot(nodes, program):
    """A sum over one-hot rows becomes a gather (part of ``simplify``).

    Cross-entropy of class labels y (B,) over C classes builds the one-hot matrix
    H = (y.reshape(B, 1) == arange(C)).astype(float) and reduces

        loss_rows = (H * where(H != 0, L, 0)).sum(axis=1)     4 passes over (B, C)

    (L: the log-probabilities). When every label is a class, each row of H holds one 1 and
    C - 1 zeros, so the row sum adds L[b, y_b] (1 * x = x) and +0s: the result is exactly
    L[b, y_b] + 0, i.e. L[b, y_b] except that a -0 becomes +0 (C >= 2). That is a gather,
    ``L[arange(B), y] + 0.0``, as the hand-written step does, bit for bit the same for every
    L (NaN and inf included). The rewrite needs the proof in the program itself: checks that
    y.min() >= 0 and y.max() < C ran before the sum (the engine makes them on every call,
    see functional._class_index_targets) and nothing writes y. The other calls of the
    pattern are left for dead-code elimination (the backward still reads H)."""
    by_var = {n.var: n for n in nodes if n.var is not None}
    written = {root for n in nodes for root in n.writes}
    checked = set()  # (y var, "min >= 0" or "max < C") proven by a check before here
    kept = []
    for node in nodes:
        if node.kind == "check" and node.op == "bool" and node.kwargs.get("outcome") is True:
            fact = _label_range_fact(by_var, node.args[0])
            if fact is not None:
                checked.add(fact)
        kept += _one_hot_row_sum(node, by_var, written, checked, program.values) or [node]
    return kept


def _label_range_fact(by_var, ref):
    """(y var, ">= 0") for greater_equal(y.min(), 0), (y var, C) for less(y.max(), C)."""
    test = by_var.get(ref.var) if isinstance(ref, Ref) else None
    if test is None or test.kind != "call" or test.kwargs or len(test.args) != 2:
        return None
    reduced, bound = test.args
    source = by_var.get(reduced.var) if isinstance(reduced, Ref) else None
    if (source is None or source.kind != "method" or source.kwargs or len(source.args) != 1
            or not isinstance(source.args[0], Ref) or type(bound) is not int):
        return None
    if test.op is numpy.greater_equal and source.op == "min" and bound == 0:
        return (source.args[0].var, ">= 0")
    if test.op is numpy.less and source.op == "max":
        return (source.args[0].var, bound)
    return None


def _one_hot_row_sum(node, by_var, written, checked, values):
    """[gather, + 0] replacing ``node`` when it is the proven pattern, else None."""
    def producer(arg, kind, op):
        found = by_var.get(arg.var) if isinstance(arg, Ref) else None
        if found is None or found.kind != kind or found.op != op or found.writes:
            return None
        return found

    if (node.kind != "method" or node.op != "sum" or len(node.args) != 1
            or node.kwargs.get("axis") not in (1, -1, (1,), (-1,))
            or set(node.kwargs) - {"axis", "keepdims"} or node.kwargs.get("keepdims")):
        return None
    product = producer(node.args[0], "call", numpy.multiply)
    if product is None or product.kwargs or len(product.args) != 2:
        return None
    for hits_ref, masked_ref in (product.args, product.args[::-1]):
        masked = producer(masked_ref, "call", numpy.where)
        hits = producer(hits_ref, "method", "astype")
        if masked is not None and hits is not None:
            break
    else:
        return None
    if masked.kwargs or len(masked.args) != 3 or masked.args[2] != 0 or type(
            masked.args[2]) is not int:
        return None
    nonzero = producer(masked.args[0], "call", numpy.not_equal)
    if (nonzero is None or nonzero.kwargs or len(nonzero.args) != 2
            or not isinstance(nonzero.args[0], Ref) or nonzero.args[0].var != hits.var
            or nonzero.args[1] != 0 or type(nonzero.args[1]) is not int):
        return None
    matches = producer(hits.args[0], "call", numpy.equal)
    log_q = masked.args[1]
    if matches is None or matches.kwargs or len(matches.args) != 2 or not isinstance(log_q, Ref):
        return None
    column, classes = matches.args
    labels = producer(column, "method", "reshape")
    if labels is None or not isinstance(classes, numpy.ndarray) or not isinstance(
            labels.args[0], Ref):
        return None
    y = labels.args[0].var
    y_value, table = values[y], values[log_q.var]
    if not (isinstance(y_value, numpy.ndarray) and y_value.ndim == 1
            and y_value.dtype.kind in "iu" and isinstance(table, numpy.ndarray)
            and table.ndim == 2 and table.shape[0] == y_value.shape[0]
            and values[labels.var].shape == (y_value.shape[0], 1)
            and classes.shape == (table.shape[1],) and table.shape[1] >= 2
            and numpy.array_equal(classes, numpy.arange(table.shape[1]))
            and values[hits.var].dtype == table.dtype == values[node.var].dtype
            and y not in written and by_var[y].root not in written
            and (y, ">= 0") in checked and (y, table.shape[1]) in checked):
        return None
    rows = numpy.arange(y_value.shape[0])
    picked = len(values)  # a new var: the gathered L[b, y_b] (its traced value recorded)
    values.append(table[rows, y_value])
    gather = Node("getitem", operator.getitem, (log_q, (rows, Ref(y))), None, picked,
                  node.shape, node.dtype, picked, (), None, node.nbytes)
    plus_zero = Node("call", numpy.add, (Ref(picked), 0.0), None, node.var, node.shape,
                     node.dtype, node.var, (), None, node.nbytes)
    return [gather, plus_zero]


# ----- 1. dead-code elimination --------------------------------------------------------------


def eliminate_dead_code(nodes, escaping):
    """Remove the nodes whose value no kept node reads, that write no memory in place, and
    whose value is neither stored into state nor returned. Random draws stay: skipping one
    would shift the generator's stream and change every later draw."""
    live = set(escaping)
    root_of = {n.var: n.root for n in nodes if n.var is not None}
    kept = []
    for node in reversed(nodes):
        needed = (node.kind in ("setitem", "random", "check") or node.writes
                  or (node.var is not None and node.var in live))
        if needed:
            kept.append(node)
            for var in node.reads():
                live.add(var)
                live.add(root_of.get(var, var))  # a view keeps the memory it looks into
    kept.reverse()
    return kept


# ----- 2. elementwise fusion -----------------------------------------------------------------


class Kernel:
    """Elementwise nodes evaluated together as one expression tree, at the root's place.

    members  the nodes in evaluation order (children before parents), root last
    leaves   the vars the kernel reads from outside it
    """

    def __init__(self, root, members):
        self.root, self.members = root, members
        inside = {m.var for m in members}
        self.leaves = list(dict.fromkeys(v for m in members for v in m.reads()
                                         if v not in inside))

    @property
    def var(self):
        return self.root.var

    def reads(self):
        return self.leaves


def is_elementwise(node):
    """A ufunc call with one output that allocates its result: f(a, b) with no out=, where=
    or other options, and a result that is an array (not a NumPy scalar). Not matmul: a
    generalised ufunc, each output element reads a whole row and column."""
    return (node.kind == "call" and isinstance(node.op, numpy.ufunc) and node.op.nout == 1
            and node.op.signature is None and not node.kwargs and node.fresh
            and node.shape is not None and len(node.shape) >= 1)


def drop_private_out(nodes, escaping):
    """``subtract(w, step, out=step)`` where ``step`` is a temporary nobody reads afterwards
    becomes ``subtract(w, step)``: the write into the temporary was only there to save an
    allocation, which the memory planner now does for every value, and the plain form can
    be fused with the call that made ``step``."""
    readers = _readers(nodes)
    root_of = {n.var: n.root for n in nodes if n.var is not None}
    aliases = _aliases(nodes)
    rewritten = []
    for position, node in enumerate(nodes):
        out = node.kwargs.get("out")
        if (node.kind == "call" and isinstance(node.op, numpy.ufunc) and node.op.nout == 1
                and set(node.kwargs) == {"out"} and isinstance(out, tuple) and len(out) == 1
                and out[0].var == root_of[out[0].var]):
            temporary = out[0].var
            no_views = set(aliases[temporary]) <= {temporary, node.var}
            if (no_views and temporary not in escaping
                    and all(p <= position for p in readers.get(temporary, ()))):
                node = Node("call", node.op, node.args, {}, shape=node.shape, dtype=node.dtype,
                            nbytes=node.nbytes)
                node.var = node.root = nodes[position].var  # now a fresh value of its own
        rewritten.append(node)
    return rewritten


def fuse_elementwise(nodes, escaping):
    """Group elementwise nodes into Kernels: a node joins its reader's kernel when its value
    has exactly that one reader, no view looks into it, it is not stored or returned, and
    nothing writes in between to the memory its kernel reads. Returns the schedule: a list
    of Nodes and Kernels in the order they run."""
    nodes = drop_private_out(nodes, escaping)
    readers = _readers(nodes)
    aliases = _aliases(nodes)
    position_of = {n.var: i for i, n in enumerate(nodes) if n.var is not None}
    root_of = {n.var: n.root for n in nodes if n.var is not None}
    kernel_of = {}  # var -> the Kernel it was made part of so far
    for position, node in enumerate(nodes):
        if not is_elementwise(node):
            continue
        members = []
        for var in node.reads():
            producer = kernel_of.get(var)
            if (producer is not None and readers.get(var) == [position]
                    and aliases[var] == [var] and var not in escaping
                    and _no_write_between(nodes, position_of[var], position,
                                          {root_of[v] for v in producer.leaves})):
                members += producer.members
                del kernel_of[var]
        kernel_of[node.var] = Kernel(node, members + [node])
    fused_inside = {m.var for k in kernel_of.values() for m in k.members[:-1]}
    schedule = []
    for node in nodes:
        if node.var in fused_inside:
            continue  # computed inside its reader's kernel
        kernel = kernel_of.get(node.var) if node.var is not None else None
        schedule.append(kernel if kernel is not None and len(kernel.members) > 1 else node)
    return schedule


def _no_write_between(nodes, start, stop, roots):
    return not any(roots.intersection(n.writes) for n in nodes[start + 1:stop])


def _readers(nodes):
    readers = {}
    for position, node in enumerate(nodes):
        for var in node.reads():
            readers.setdefault(var, []).append(position)
    return readers


def _aliases(nodes):
    """root var -> every var whose memory is the root's (the root itself first)."""
    aliases = {}
    for node in nodes:
        if node.var is not None:
            aliases.setdefault(node.root, []).append(node.var)
            aliases.setdefault(node.var, aliases[node.root] if node.root != node.var else [])
    return aliases


# ----- 3. memory planning --------------------------------------------------------------------

# Methods and functions that take out= and then return exactly what they would allocate.
_OUT_METHODS = {"sum", "mean", "max", "min", "prod", "any", "all", "cumsum", "cumprod"}


def accepts_out(node):
    """True when the node's call can write its result into a given buffer instead."""
    if "out" in node.kwargs or not node.fresh or node.shape is None or len(node.shape) == 0:
        return False
    if node.kind == "call":
        op = node.op
        if isinstance(op, numpy.ufunc):
            return op.nout == 1
        owner = getattr(op, "__self__", None)
        if isinstance(owner, numpy.ufunc):
            return op.__name__ in ("reduce", "accumulate")
        return op in (numpy.concatenate, numpy.einsum, numpy.dot)
    return node.kind == "method" and node.op in _OUT_METHODS


class MemoryPlan:
    """Which buffer each value is written into.

    buffer_of   var -> buffer number (a pool buffer) or ("live", var) (the live state
                array that var replaces, written in place)
    buffers     buffer number -> (shape, dtype, order), allocated once
    spine       vars inside kernels that share their kernel root's buffer
    """

    def __init__(self):
        self.buffer_of, self.buffers, self.spine = {}, {}, set()

    def bytes(self):
        return sum(int(numpy.prod(shape)) * numpy.dtype(dtype).itemsize
                   for shape, dtype, _ in self.buffers.values())


def _layout(node, values):
    value = values[node.var]
    if not isinstance(value, numpy.ndarray):
        return None
    if value.flags.c_contiguous:
        return (value.shape, value.dtype, "C")
    if value.flags.f_contiguous:
        return (value.shape, value.dtype, "F")
    return None


def plan_memory(schedule, program, escaping, pin_state=True):
    """Liveness over the schedule, then a pool: a value gets a buffer of its exact shape,
    dtype and layout that no live value holds, and gives it back after its last reader (and
    the last reader of every view of it). Values stored into state with the same layout as
    the array they replace are written straight into that live array (``pin_state``) when
    nothing reads the old contents afterwards."""
    plan = MemoryPlan()
    values = program.values
    items = list(schedule)
    nodes_of = [item.members if not isinstance(item, Node) else [item] for item in items]
    all_nodes = [n for group in nodes_of for n in group]
    root_of = {n.var: n.root for n in all_nodes if n.var is not None}
    escaping_roots = {root_of.get(v, v) for v in escaping}
    last_use = {}
    for position, item in enumerate(items):
        for var in item.reads():
            last_use[root_of.get(var, var)] = position
        for node in nodes_of[position]:
            for root in node.writes:
                last_use[root] = max(last_use.get(root, position), position)
    pinned = _pinned_writes(nodes_of, program, root_of, last_use, values) \
        if pin_state else {}
    dying = {}
    for root, position in last_use.items():
        dying.setdefault(position, []).append(root)
    free, count = {}, [0]

    def take(layout):
        if free.get(layout):
            return free[layout].pop()
        count[0] += 1
        plan.buffers[count[0] - 1] = layout
        return count[0] - 1

    def poolable(node):
        return (node.var is not None and node.var not in escaping_roots and accepts_out(node)
                and _layout(node, values) is not None)

    homes = _gradient_homes(nodes_of, program, root_of, last_use, values)
    for position, item in enumerate(items):
        owners = []  # vars that got a buffer of their own here
        root = item if isinstance(item, Node) else item.root
        if root.var in pinned and accepts_out(root):
            plan.buffer_of[root.var] = ("live", pinned[root.var])
        elif root.var in homes:  # a buffer of its own, kept from step to step
            count[0] += 1
            plan.buffers[count[0] - 1] = _layout(root, values)
            plan.buffer_of[root.var] = count[0] - 1
        elif poolable(root):
            plan.buffer_of[root.var] = take(_layout(root, values))
            owners.append(root.var)
        if not isinstance(item, Node):
            _choose_spine(item, plan, values)
            for node in item.members[:-1]:
                if node.var not in plan.spine and poolable(node):
                    plan.buffer_of[node.var] = take(_layout(node, values))
                    owners.append(node.var)
        for var in owners:  # values only read inside this item die here
            if last_use.get(var, position) <= position:
                free.setdefault(plan.buffers[plan.buffer_of[var]], []).append(
                    plan.buffer_of[var])
        for var in dying.get(position, ()):
            number = plan.buffer_of.get(var)
            if isinstance(number, int) and var not in owners and var not in homes:
                free.setdefault(plan.buffers[number], []).append(number)
    return plan


def _choose_spine(kernel, plan, values):
    """Inside a kernel, the first child computed writes into the kernel's own buffer when it
    has the same shape, dtype and layout: it is consumed by its parent before anything else
    could need that buffer. (Not when the buffer is a live state array the kernel reads.)"""
    buffer = plan.buffer_of.get(kernel.root.var)
    if not isinstance(buffer, int):
        return
    inside = {m.var: m for m in kernel.members}
    node = kernel.root
    while True:
        first = next((inside[v] for v in node.reads() if v in inside), None)
        if first is None or _layout(first, values) != _layout(kernel.root, values):
            return
        plan.buffer_of[first.var] = buffer
        plan.spine.add(first.var)
        node = first


def _pinned_writes(nodes_of, program, root_of, last_use, values):
    """var -> the input var of the state slot it is stored into, for values that can be
    written in place into the live array (same layout, old contents dead by then)."""
    from .graph import Ref

    input_of_slot = {source: var for var, source in program.reads}
    position_of = {}
    for position, group in enumerate(nodes_of):
        for node in group:
            if node.var is not None:
                position_of[node.var] = position
    node_of = {n.var: n for group in nodes_of for n in group if n.var is not None}
    # A failed check re-runs the step eagerly, so no live array may change before the last one.
    last_check = max((p for p, group in enumerate(nodes_of) for n in group
                      if n.kind == "check"), default=-1)
    stored = {}
    for slot, target in program.writes:
        if isinstance(target, Ref):
            stored.setdefault(target.var, []).append(slot)
    pinned = {}
    for var, slots in stored.items():
        node = node_of.get(var)
        if node is None or len(slots) != 1 or slots[0][0] not in ("data", "entry"):
            continue
        live = input_of_slot.get(slots[0])
        if live is None or live not in node_of or var in _returned(program):
            continue
        same_layout = _layout(node, values) is not None and \
            _layout(node, values) == _layout(node_of[live], values)
        old_dead = last_check < position_of[var] >= last_use.get(root_of[live], -1)
        if same_layout and old_dead and root_of[live] == live and accepts_out(node):
            pinned[var] = live
    return pinned


def _gradient_homes(nodes_of, program, root_of, last_use, values):
    """Gradients stored into ``param.grad``: each gets a buffer of its own that every replay
    writes again (as PyTorch keeps .grad in place), when the old gradient is not read after
    the new one is computed."""
    from .capture import TensorOf
    from .graph import Ref

    input_of_slot = {source: var for var, source in program.reads}
    stored = {}
    for slot, target in program.writes:
        if isinstance(target, TensorOf) and isinstance(target.data, Ref):
            stored.setdefault(target.data.var, []).append(slot)
        else:
            for var in _refs(target):
                stored.setdefault(var, []).append(None)
    for var in _returned(program):
        stored.setdefault(var, []).append(None)
    homes = set()
    for position, group in enumerate(nodes_of):
        for node in group:
            slots = stored.get(node.var)
            if not slots or len(slots) != 1 or slots[0] is None:
                continue
            old = input_of_slot.get(slots[0])
            old_dead = old is None or last_use.get(root_of.get(old, old), -1) < position
            if old_dead and accepts_out(node) and _layout(node, values) is not None:
                homes.add(node.var)
    return homes


def _refs(template):
    from .capture import _refs_in

    found = []
    _refs_in(template, found)
    return found


def _returned(program):
    found = []
    from .capture import _refs_in

    _refs_in(program.result, found)
    return set(found)

"""tg.compile: trace a training step once, run compiler passes over it, replay it.

    step = tg.compile(train_step)      # train_step runs forward, backward, optimiser step
    loss = step(x, y)                  # 1st call: traces (runs eagerly, records every op)
    loss = step(x, y)                  # later calls: run the generated NumPy program
    print(step.code)                   # the program, one line per kernel
    print(step.graph)                  # the traced graph before and after fusion
    step.stats                         # node counts, fused kernels, bytes of intermediates

How it works (each part is a file of this package):

- trace.py    the first call runs the step with arrays that record every NumPy call made
              on them: the forward, the backward and the optimiser's update, as one list.
- state.py    what the step reads besides its arguments (the model's parameters, the
              optimiser's moments, found through the function's closure and globals) and
              the guard: the shapes and dtypes of all of it. A call that does not match
              any guard traces again (a new batch size compiles a second program).
- passes.py   simplification, dead-code elimination, elementwise fusion, memory planning.
- codegen.py  the schedule becomes a Python function (``step.code``).

The program is specialised to what the first call saw: Python branches on values are
refused while tracing (ValueDependentError), hyper-parameters and Python numbers passed as
arguments are constants (a change re-traces), the optimiser's counters (Adam's t) are
recomputed, and draws from the default random generator (dropout) are drawn afresh on each
replay. A compiled call returns tensors without a graph (the step has already run backward).
Only the "cpu" device is compiled (the program is NumPy code).
"""

import time

from ..errors import ArgumentError, DTypeError
from . import kernels, passes
from .capture import capture
from .codegen import generate
from .graph import Node, to_dot, to_text
from .state import Slots, argument_spec, find_roots
from .trace import GuardFailed, TraceError, ValueDependentError

ALL_PASSES = ("simplify", "dce", "fuse", "plan")

__all__ = ["compile", "CompiledStep", "TraceError", "ValueDependentError", "ALL_PASSES"]


def compile(fn, *, passes=ALL_PASSES, state=(), use_numexpr=None, cache_size=8):
    """Compile ``fn`` (a training or inference step) into a replayable NumPy program.

    passes       which passes run, a subset of ("simplify", "dce", "fuse", "plan"):
                 constant folding and identity views, dead-code elimination, elementwise
                 fusion, memory planning (see passes.py)
    state        extra objects (modules, optimisers, tensors) whose arrays the step reads
                 and writes, when they are not in the function's closure or globals
    use_numexpr  fused kernels through numexpr: None (when installed), True, False
    cache_size   how many programs (one per guard) are kept before the oldest is dropped
    """
    return CompiledStep(fn, passes, state, use_numexpr, cache_size)


class CompiledProgram:
    """One traced program, for one guard: its source, its function and its numbers."""

    def __init__(self, program, schedule, plan, numexpr_kernels, code, function, before,
                 trace_seconds):
        self.program, self.schedule, self.plan = program, schedule, plan
        self.numexpr_kernels, self.code, self.function = numexpr_kernels, code, function
        self.before, self.trace_seconds = before, trace_seconds


class CompiledStep:
    """What ``tg.compile(fn)`` returns: call it as you would call ``fn``."""

    def __init__(self, fn, passes_on, state, use_numexpr, cache_size):
        _check_arguments(fn, passes_on, state, use_numexpr, cache_size)
        self.fn, self.passes, self.extra_state = fn, tuple(passes_on), tuple(state)
        self.use_numexpr, self.cache_size = use_numexpr, cache_size
        self.programs = {}  # guard -> CompiledProgram, oldest first
        self.traces = 0
        self.fallbacks = 0  # replays that found a value check changed and ran eagerly
        self._roots_key, self._slots, self._roots = None, None, None
        self._last_guard = None  # the guard of the last call, compared before hashing
        self.last = None

    def _current_slots(self):
        """The state slots, searched again only when the closure or globals hold other
        objects than at the last call (the objects are kept, so their ids stay theirs)."""
        roots = find_roots(self.fn, self.extra_state)
        key = tuple(id(obj) for _, obj in roots)
        if key != self._roots_key:
            self._roots_key, self._slots = key, Slots(roots)
            self._roots = roots
        return self._slots

    def __call__(self, *args, **kwargs):
        slots = self._current_slots()
        guard = (tuple(argument_spec(a) for a in args),
                 tuple((k, argument_spec(v)) for k, v in sorted(kwargs.items())),
                 slots.signature())
        # A training loop calls with the same guard every time. Comparing with the last
        # guard is the dict's own test (==) without hashing every shape, dtype and stride,
        # and it is quick: the tensors' part is the very same tuple while the arrays are.
        if guard == self._last_guard and self.last is not None:
            compiled = self.last
        else:
            compiled = self.programs.get(guard)
            if compiled is None:
                return self._trace(guard, slots, args, kwargs)
            self._last_guard, self.last = guard, compiled
        try:
            return compiled.function(args, kwargs)
        except GuardFailed:  # a value check went the other way: nothing was written yet
            self.fallbacks += 1
            return self.fn(*args, **kwargs)

    def _trace(self, guard, slots, args, kwargs):
        start = time.perf_counter()
        program, result = capture(self.fn, args, kwargs, slots)
        compiled = build(program, slots, self.passes, self.use_numexpr)
        compiled.trace_seconds = time.perf_counter() - start
        if len(self.programs) >= self.cache_size:
            self.programs.pop(next(iter(self.programs)))
        self.programs[guard] = compiled
        self.traces += 1
        self._last_guard, self.last = guard, compiled
        return result

    # ----- what a student looks at -----------------------------------------------------------
    def _latest(self):
        if self.last is None:
            raise TraceError("tg.compile: the step has not been called yet, so nothing is "
                             "traced; call it once first")
        return self.last

    @property
    def code(self):
        """The generated program of the latest call, as Python source."""
        return self._latest().code

    @property
    def graph(self):
        """The traced graph (one node per line) before and after fusion."""
        compiled = self._latest()
        labels = compiled.program.labels
        after = []
        for item in compiled.schedule:
            if isinstance(item, Node):
                after.append(item.describe(labels))
            else:  # a fused kernel: its members on one line, as one kernel computes them
                inner = "; ".join(n.describe().split("  ")[0] for n in item.members)
                after.append(f"fused[{inner}]  {item.root.shape} {item.root.dtype}")
        return (to_text(compiled.program.nodes, "traced graph", labels) + "\n\n"
                + f"# after the passes: {len(after)} kernels\n" + "\n".join(after))

    def dot(self, after=False):
        """Graphviz DOT text of the traced graph of the latest call (``after=True``: the
        nodes that remain after simplification and dead-code elimination)."""
        compiled = self._latest()
        nodes = compiled.before if after else compiled.program.nodes
        return to_dot(nodes, "after" if after else "traced", compiled.program.labels)

    @property
    def stats(self):
        """Counts of the latest program: nodes traced, after simplification, after dead-code
        elimination; kernels after fusion (how many fused, how many numexpr); bytes of
        intermediates per step before planning (every value the traced step allocated),
        the pool (buffers allocated once) and what still allocates per step after planning;
        the time to trace and build; how many programs were traced."""
        compiled = self._latest()
        program, plan = compiled.program, compiled.plan
        fresh = [n for n in compiled.before if n.fresh and n.nbytes]
        allocated_after = sum(n.nbytes for item in compiled.schedule
                              for n in (item.members if not isinstance(item, Node) else [item])
                              if n.fresh and n.nbytes and (plan is None
                                                           or n.var not in plan.buffer_of))
        return {
            "nodes_traced": len(program.nodes),
            "nodes_after_simplify": compiled.nodes_after_simplify,
            "nodes_after_simplify_and_dce": len(compiled.before),
            "kernels": len(compiled.schedule),
            "fused_kernels": sum(1 for i in compiled.schedule if not isinstance(i, Node)),
            "numexpr_kernels": len(compiled.numexpr_kernels),
            "nodes_in_fused_kernels": sum(len(i.members) for i in compiled.schedule
                                          if not isinstance(i, Node)),
            "intermediate_bytes_before": sum(n.nbytes for n in fresh),
            "pool_bytes": plan.bytes() if plan is not None else 0,
            "allocated_bytes_per_step_after": allocated_after,
            "trace_seconds": compiled.trace_seconds,
            "traces": self.traces,
        }


def _check_arguments(fn, passes_on, state, use_numexpr, cache_size):
    """Refuse, naming tg.compile, what it cannot take (before anything is traced)."""
    if not callable(fn):
        raise DTypeError(f"tg.compile: expected a function (the step), got "
                         f"{type(fn).__name__}")
    if isinstance(passes_on, str) or not isinstance(passes_on, (tuple, list)) or not all(
            isinstance(p, str) for p in passes_on):
        raise DTypeError(f"tg.compile: passes must be a tuple of pass names from "
                         f"{ALL_PASSES}, got {passes_on!r:.60}")
    unknown = set(passes_on) - set(ALL_PASSES)
    if unknown:
        raise ArgumentError(f"tg.compile: unknown passes {sorted(unknown)}; expected a "
                            f"subset of {ALL_PASSES}")
    if isinstance(state, (str, bytes, dict)) or not isinstance(state, (tuple, list)):
        raise DTypeError(f"tg.compile: state must be a tuple of modules, optimisers or "
                         f"tensors, got {type(state).__name__}")
    if not (use_numexpr is None or isinstance(use_numexpr, bool)):
        raise DTypeError(f"tg.compile: use_numexpr must be None, True or False, got "
                         f"{use_numexpr!r:.40}")
    if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
        raise ArgumentError(f"tg.compile: cache_size must be an int >= 1, got "
                            f"{cache_size!r:.40}")


def build(program, slots, passes_on, use_numexpr):
    """Run the passes that are on and generate the program's function."""
    nodes = list(program.nodes)
    if "simplify" in passes_on:
        nodes = passes.gather_one_hot(passes.simplify(nodes, program), program)
    after_simplify = len(nodes)
    escaping = program.escaping_vars()
    if "dce" in passes_on:
        nodes = passes.eliminate_dead_code(nodes, escaping)
    before = list(nodes)
    if "fuse" in passes_on:
        schedule = passes.fuse_elementwise(nodes, escaping)
    else:
        schedule = nodes
    plan = passes.plan_memory(schedule, program, escaping) if "plan" in passes_on else None
    numexpr_kernels = {}
    if use_numexpr is not False:
        if use_numexpr and not kernels.available():
            raise ArgumentError("tg.compile: use_numexpr=True but numexpr is not installed "
                                "(pip install -e '.[compile]')")
        for item in schedule:
            if isinstance(item, passes.Kernel):
                found = kernels.numexpr_kernel(item, program.values, plan,
                                               force=bool(use_numexpr))
                if found is not None:
                    numexpr_kernels[item.var] = found
    code, namespace = generate(program, schedule, plan, slots, numexpr_kernels)
    exec(code, namespace)  # noqa: S102 - the text was generated above, from the trace
    compiled = CompiledProgram(program, schedule, plan, numexpr_kernels, code,
                               namespace["compiled_step"], before, 0.0)
    compiled.nodes_after_simplify = after_simplify
    return compiled

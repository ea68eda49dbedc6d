"""Time every benchmark workload on each implementation, interleaved, and print the ratios.

    python -m benchmarks.run                 all workloads, full timing (a few minutes)
    python -m benchmarks.run --quick         a smoke run (seconds; numbers are rough)
    python -m benchmarks.run mlp_b8 lstm     only these workloads (or bench_<module> names: mlp)
    python -m benchmarks.run --malloc keep   glibc keeps freed memory (see below) for ALL sides

The workload protocol (one ``benchmarks/bench_<name>.py`` per family):

    WORKLOADS = {"name": setup, ...}
    setup() -> {"tinygrad_course": step, "numpy": step, "torch": step, ...}

Each step is a zero-argument callable that runs ONE full training step (forward, backward,
parameter update) and returns the loss as a float, or None where an implementation has no
comparable loss (e.g. gensim's word2vec). Keys starting with "_" are options, not steps:

    "_work": (count, "words")   each step processes ``count`` units: the table adds units/s
    "_rtol": 1e-3               loss tolerance for this workload (default 1e-4, float32)
    "_compile": "autograd"      which step the "compiled" column compiles (default
                                "tinygrad_course"; word2vec's hand-fused step returns a float
                                computed outside the engine, so it compiles "autograd")

The "compiled" column (issue 23) is ``tg.compile`` of the eager tinygrad_course step, built
from a SECOND call of setup() so that it trains its own copy of the weights (the eager and
the compiled step must not update the same parameters between the loss checks). Its first
two calls trace (the first has no gradients or optimiser state yet); the table's "compile s"
is the time those traces took (tracing runs the step eagerly, then the passes and the code
generation). ``--no-compiled`` leaves the column out.

How it measures:
1. Correctness first. The losses of the first two calls must agree with NumPy's (relative
   tolerance rtol): the first checks the forward pass, the second that the backward and the
   update moved the weights the same way. A workload that disagrees is reported, not timed.
2. Warm-up calls, then a calibration: each implementation gets a repeat count n so that one
   block of n steps takes about ``--block-time`` seconds.
3. ``--blocks`` rounds; in each round every implementation runs one block, in a rotated
   order (so none always runs first, right after another's garbage). The time per step of an
   implementation is the MEDIAN over rounds of block_time / n, robust to a noisy neighbour.
4. Ratios are tinygrad_course / numpy and tinygrad_course / torch, PAIRED: in each round the
   two times are divided, and the table gives the median of those per-round ratios (the
   progress line adds their quartiles). Both were measured within one round, so a slow phase
   of a shared machine slows both and cancels out. The progress lines also give each
   implementation's minor page faults per step.

Threads and clock: BLAS and PyTorch get ``--threads`` threads (default 1: the Python overhead
is what we compare, and a shared 2-core machine gives noisy multi-thread numbers). With one
thread the clock is the process's CPU time (``--clock cpu``, time.process_time: kernel time
such as page faults included, time spent waiting for a core while other programs run
excluded); ``--clock wall`` uses time.perf_counter (and is forced when threads > 1, since
CPU time adds up over threads).

Memory: glibc's malloc serves big arrays with mmap and gives freed memory back to the OS, so
a step that allocates fresh multi-megabyte temporaries pays page faults on first touch every
time. ``--malloc keep`` calls mallopt(M_MMAP_THRESHOLD = 32 MiB, M_TRIM_THRESHOLD = 1 GiB)
for the whole process, so freed blocks are reused instead; it applies to every implementation
in the run alike. The default leaves malloc as a user's program would find it.
"""

import argparse
import gc
import importlib
import os
import pkgutil
import platform
import statistics
import sys
import time

try:
    import resource  # page-fault counts (Unix only)
except ImportError:
    resource = None

GOALS = {  # tinygrad_course / hand-written NumPy, same run (issue 10)
    "mlp_b128": 1.10,
    "mlp_b8": 1.5,
    "lstm": 1.0,
    "gru": 1.0,
    "encoder_block": 1.0,
    "clip_step": 1.10,
    "lenet_b64": 1.10,  # issue 21
}
COMPILED = "compiled"
COMPILED_GOALS = {  # tg.compile(step) / hand-written NumPy, same run (issue 23)
    "mlp_b8": 0.90,
    "mlp_b128": 1.00,
    "encoder_block": 0.95,
    "clip_step": 0.95,
    "lstm": 1.00,
    "gru": 1.00,
}
ORDER = ("tinygrad_course", COMPILED, "numpy", "torch")
DEFAULT_RTOL = 1e-4


class LossMismatch(Exception):
    pass


# ----- discovering workloads ----------------------------------------------------------------
def discover():
    """{workload name: (module name, setup)} from every benchmarks/bench_*.py, in file order."""
    import benchmarks

    found = {}
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                   if m.name.startswith("bench_"))
    for module_name in names:
        module = importlib.import_module(f"benchmarks.{module_name}")
        for name, setup in getattr(module, "WORKLOADS", {}).items():
            found[name] = (module_name[len("bench_"):], setup)
    return found


def select(found, names):
    """Workloads named exactly, or all of a module's (``mlp`` -> mlp_b128, mlp_b8)."""
    if not names:
        return list(found)
    chosen = []
    for name in names:
        matches = [w for w, (module, _) in found.items() if name in (w, module)]
        if not matches:
            raise SystemExit(f"benchmarks.run: no workload or module named {name!r}; "
                             f"known: {', '.join(found)}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


# ----- the process environment ------------------------------------------------------------
def set_threads(n):
    """BLAS and torch thread pools to ``n`` threads; returns a description of what was set."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
        how = "threadpoolctl"
    except ImportError:  # environment variables only work before numpy is imported
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)
        how = "environment"
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    return f"{n} ({how})"


def set_malloc(mode):
    """'keep': glibc reuses freed memory instead of returning it to the OS (see module doc)."""
    if mode == "default":
        return "glibc default"
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok = libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024) and \
        libc.mallopt(m_trim_threshold, 1024 * 1024 * 1024)
    if not ok:
        raise SystemExit("benchmarks.run: mallopt failed (not glibc?); use --malloc default")
    return "keep (mallopt: mmap threshold 32 MiB, trim threshold 1 GiB)"


def describe_machine():
    import numpy

    parts = [f"python {platform.python_version()}", f"numpy {numpy.__version__}"]
    try:
        import torch

        parts.append(f"torch {torch.__version__}")
    except ImportError:
        parts.append("torch not installed")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    load = ""
    if hasattr(os, "getloadavg"):  # other programs on the machine add noise: say how busy
        load = "; load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    return ", ".join(parts) + f"; {cpu}, {os.cpu_count()} cpus{load}"


# ----- measuring ----------------------------------------------------------------------------
def check_losses(losses, rtol):
    """Raise LossMismatch unless every comparable loss agrees with the reference (numpy).

    ``losses``: {implementation: [loss of call 1, loss of call 2, ...]}; None means "no
    comparable loss" and is skipped.
    """
    reference = "numpy" if "numpy" in losses else next(iter(losses))
    for name, values in losses.items():
        for call, (value, expected) in enumerate(zip(values, losses[reference]), start=1):
            if value is None or expected is None:
                continue
            if not abs(value - expected) <= rtol * abs(expected) + 1e-7:
                raise LossMismatch(f"{name} call {call}: loss {value!r}, {reference} gave "
                                   f"{expected!r} (rtol {rtol})")


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0


def time_block(step, n, clock=time.perf_counter):
    """(seconds per step, minor page faults per step) over n calls."""
    faults = _minor_faults()
    start = clock()
    for _ in range(n):
        step()
    return (clock() - start) / n, (_minor_faults() - faults) / n


def time_interleaved(steps, warmup, blocks, block_time, clock=time.perf_counter, faults=None,
                     rounds=None):
    """{name: median seconds per step} for zero-argument callables, timed in rotated rounds.

    ``faults``: a dict to receive {name: median minor page faults per step} (fresh memory
    that the kernel had to map: see --malloc). ``rounds``: a dict to receive {name: [seconds
    per step in each round]}, for paired_ratio.
    """
    names = list(steps)
    repeats = {}
    for name in names:
        for _ in range(warmup):
            steps[name]()
        one = time_block(steps[name], 1, time.perf_counter)[0]
        repeats[name] = max(1, int(block_time / max(one, 1e-9)))
    per_step = {name: [] for name in names}
    for r in range(blocks):
        gc.collect()
        for name in names[r % len(names):] + names[:r % len(names)]:
            per_step[name].append(time_block(steps[name], repeats[name], clock))
    if faults is not None:
        faults.update({name: statistics.median(f for _, f in runs)
                       for name, runs in per_step.items()})
    if rounds is not None:
        rounds.update({name: [t for t, _ in runs] for name, runs in per_step.items()})
    return {name: statistics.median(t for t, _ in runs) for name, runs in per_step.items()}


def paired_ratio(rounds, a, b):
    """(median, lower quartile, upper quartile) over rounds of a's time / b's time in the
    SAME round. Both ran within about one round's time of each other, so a slow phase of the
    machine (a neighbour's job, a frequency change) slows both and cancels in the ratio; the
    ratio of the two separate medians does not get that benefit."""
    if a not in rounds or b not in rounds:
        return None
    ratios = [x / y for x, y in zip(rounds[a], rounds[b])]
    if len(ratios) == 1:  # one round: no spread to speak of
        return ratios[0], ratios[0], ratios[0]
    lower, _, upper = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), lower, upper


def compiled_step(setup, options):
    """``tg.compile`` of the eager step (options["_compile"], default "tinygrad_course") of a
    fresh setup(), so that it trains its own weights; None when the workload has no such
    step."""
    import tinygrad_course as tg

    eager = setup().get(options.get("_compile", "tinygrad_course"))
    return None if eager is None else tg.compile(eager)


def first_two_losses(impl, step, result):
    """[loss of call 1, loss of call 2]; for the compiled step these two calls trace, and a
    step that tg.compile refuses is recorded in result["compile_error"] (None returned)."""
    if impl != COMPILED:
        return [step(), step()]
    from tinygrad_course.errors import TensorError

    try:
        losses = [step(), step()]
    except TensorError as err:  # e.g. a value the trace cannot follow: reported, not timed
        result["compile_error"] = f"{type(err).__name__}: {err}"
        return None
    result["compile_seconds"] = sum(p.trace_seconds for p in step.programs.values())
    result["compile_stats"] = step.stats
    return losses


def run_workload(name, setup, warmup, blocks, block_time, clock=time.perf_counter,
                 compiled=True):
    """Check losses, then time; returns a result dict (``error`` set when it was not timed).
    ``compiled``: add the tg.compile column (see the module docstring)."""
    made = setup()
    options = {k: v for k, v in made.items() if k.startswith("_")}
    steps = {k: v for k, v in made.items() if not k.startswith("_")}
    result = {"name": name, "times": {}, "work": options.get("_work"), "error": None}
    if compiled:
        step = compiled_step(setup, options)
        if step is not None:
            steps[COMPILED] = step
    steps = dict(sorted(steps.items(), key=lambda kv: (ORDER + (kv[0],)).index(kv[0])))
    losses = {}
    for impl, step in steps.items():
        values = first_two_losses(impl, step, result)
        if values is not None:
            losses[impl] = values
    steps = {impl: step for impl, step in steps.items() if impl in losses}
    result["losses"] = losses
    try:
        check_losses(losses, options.get("_rtol", DEFAULT_RTOL))
    except LossMismatch as err:
        result["error"] = f"losses disagree: {err}"
        return result
    result["faults"], result["rounds"] = {}, {}
    result["times"] = time_interleaved(steps, warmup, blocks, block_time, clock,
                                       result["faults"], result["rounds"])
    return result


# ----- the table ----------------------------------------------------------------------------
def ratio(result, a, b):
    """a's time / b's time: the median of the per-round ratios (see paired_ratio)."""
    paired = paired_ratio(result.get("rounds", {}), a, b)
    return None if paired is None else paired[0]


def format_table(results):
    impls = []
    for r in results:
        impls += [i for i in r["times"] if i not in impls]
    impls.sort(key=lambda i: (ORDER + (i,)).index(i))
    with_compiled = any(COMPILED in r["times"] or r.get("compile_error") for r in results)
    header = ["workload"] + [f"{i} ms" for i in impls] + ["tg/numpy", "goal", "tg/torch"]
    if with_compiled:
        header += ["compiled/numpy", "compiled goal", "compile s"]
    rows = []
    for r in results:
        if r["error"]:
            rows.append([r["name"], r["error"]])
            continue
        row = [r["name"]]
        for i in impls:
            t = r["times"].get(i)
            cell = "-" if t is None else f"{t * 1e3:.3f}"
            if t is not None and r["work"]:
                count, unit = r["work"]
                cell += f" ({count / t:,.0f} {unit}/s)"
            row.append(cell)
        vs_numpy, vs_torch = ratio(r, "tinygrad_course", "numpy"), \
            ratio(r, "tinygrad_course", "torch")
        goal = GOALS.get(r["name"])
        row.append("-" if vs_numpy is None else f"{vs_numpy:.2f}")
        if goal is None or vs_numpy is None:
            row.append("-")
        else:
            row.append(f"<= {goal:.2f} " + ("ok" if vs_numpy <= goal else "ABOVE"))
        row.append("-" if vs_torch is None else f"{vs_torch:.2f}")
        if with_compiled:
            row += compiled_cells(r)
        rows.append(row)
    widths = [max(len(str(row[c])) for row in [header] + rows if c < len(row))
              for c in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in rows:
        if len(row) == 2:  # an error spans the row
            lines.append(f"| {row[0].ljust(widths[0])} | {row[1]} |")
        else:
            lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
    return "\n".join(lines)


def compiled_cells(result):
    """[compiled / numpy (paired), its goal, compile seconds] for one result's row."""
    if result.get("compile_error"):
        return ["not compiled: " + result["compile_error"].splitlines()[0], "-", "-"]
    vs_numpy = ratio(result, COMPILED, "numpy")
    goal = COMPILED_GOALS.get(result["name"])
    cells = ["-" if vs_numpy is None else f"{vs_numpy:.2f}"]
    if goal is None or vs_numpy is None:
        cells.append("-")
    else:
        cells.append(f"<= {goal:.2f} " + ("ok" if vs_numpy <= goal else "ABOVE"))
    seconds = result.get("compile_seconds")
    cells.append("-" if seconds is None else f"{seconds:.2f}")
    return cells


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="workloads or bench modules (default: all)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 warm-up call, "
                        "3 short blocks (rough numbers)")
    parser.add_argument("--blocks", type=int, default=None, help="timed rounds (default 30)")
    parser.add_argument("--block-time", type=float, default=None,
                        help="seconds per block per implementation (default 0.15)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up calls (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads")
    parser.add_argument("--malloc", choices=("default", "keep"), default="default")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu",
                        help="cpu: process CPU time (default, one thread); wall: perf_counter")
    parser.add_argument("--no-compiled", dest="compiled", action="store_false",
                        help="leave out the tg.compile column")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    quick = args.quick
    args.blocks = args.blocks if args.blocks is not None else (3 if quick else 30)
    args.block_time = args.block_time if args.block_time is not None else \
        (0.02 if quick else 0.15)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 3)
    if args.threads > 1:
        args.clock = "wall"
    return args


def main(argv=None):
    args = parse_args(argv)
    found = discover()
    if args.list:
        for name, (module, _) in found.items():
            print(f"{name:20s} benchmarks/bench_{module}.py")
        return []
    chosen = select(found, args.names)
    threads = set_threads(args.threads)
    malloc = set_malloc(args.malloc)
    print(describe_machine())
    print(f"threads {threads}; malloc {malloc}; clock {args.clock}; {args.warmup} warm-up "
          f"calls, {args.blocks} interleaved blocks of ~{args.block_time:g} s, median per step; "
          "ratios: median over rounds of the two times in the same round")
    results = []
    for name in chosen:
        result = run_workload(name, found[name][1], args.warmup, args.blocks, args.block_time,
                              CLOCKS[args.clock], args.compiled)
        results.append(result)
        status = result["error"] or ", ".join(
            f"{i} {t * 1e3:.3f} ms ({result['faults'][i]:.0f} page faults)"
            for i, t in result["times"].items())
        paired = None if result["error"] else paired_ratio(result["rounds"], "tinygrad_course",
                                                           "numpy")
        if paired:
            status += (f"; tg/numpy per round: median {paired[0]:.3f}, quartiles "
                       f"{paired[1]:.3f}-{paired[2]:.3f}")
        paired = None if result["error"] else paired_ratio(result["rounds"], COMPILED, "numpy")
        if paired:
            status += (f"; compiled/numpy per round: median {paired[0]:.3f}, quartiles "
                       f"{paired[1]:.3f}-{paired[2]:.3f}, compile "
                       f"{result['compile_seconds']:.2f} s")
        if result.get("compile_error"):
            status += f"; not compiled: {result['compile_error']}"
        print(f"  {name}: {status}", flush=True)
    print()
    print(format_table(results))
    if any(r["error"] for r in results):
        sys.exit(1)
    return results


if __name__ == "__main__":
    main()

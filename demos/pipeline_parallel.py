"""Pipeline parallelism on MPI: the measured bubble against (p - 1) / (m + p - 1), and the
activations GPipe and 1F1B hold.

    OMP_NUM_THREADS=1 mpiexec -n 4 python -m demos.pipeline_parallel [--quick]

A stack of equal Linear + tanh layers is cut into p = 2 and p = 4 stages (ranks 0..p-1 of
the world; a world of 2 runs only p = 2). Each step pushes m micro-batches of the same size
through it, so the work per micro-batch per stage is fixed and the step's length is
(m + p - 1) slots of forward + backward work. Per stage, the demo measures the fraction of
the step spent waiting to receive an activation or a gradient (idle), for m = 1, 2, 4, 8,
(16), beside the GPipe bubble (p - 1) / (m + p - 1); then the most micro-batches' activations
a stage held at once under GPipe (m) and 1F1B (p - s on stage s).

With more ranks than cores (p = 4 on a 2-core laptop) the ranks share the cores: while all
four stages compute each runs at half speed, while some wait the others run faster, and the
measured idle fraction drifts from the formula. Rank 0 prints.
"""

import argparse
import json

import numpy as np

import tinygrad_course as tg
from tinygrad_course import distributed as dist
from tinygrad_course import functional as F
from tinygrad_course import nn
from tinygrad_course.distributed.pipeline import Pipeline, bubble_fraction


def build_stage(width, layers_per_stage, stage_index):
    rng = np.random.default_rng(stage_index)
    layers = []
    for _ in range(layers_per_stage):
        layers += [nn.Linear(width, width, generator=rng), nn.Tanh()]
    return nn.Sequential(*layers)


def measure(group, width, micro_batch, m, schedule, steps):
    """(idle fraction, peak activations) of this stage, the mean over ``steps`` steps after
    one warm-up step."""
    s, p = group.Get_rank(), group.Get_size()
    pipeline = Pipeline(build_stage(width, 2, s), group=group)
    rng = np.random.default_rng(s)
    inputs = [tg.tensor(rng.standard_normal((micro_batch, width))) for _ in range(m)]
    targets = [tg.tensor(rng.integers(0, width, micro_batch)) for _ in range(m)]
    fractions, peak = [], 0
    for step in range(steps + 1):
        pipeline.stage.zero_grad()
        group.Barrier()
        stats = pipeline.step(m, inputs=inputs if s == 0 else None,
                              targets=targets if s == p - 1 else None,
                              loss_fn=F.cross_entropy, schedule=schedule)
        if step:
            fractions.append(stats.idle_fraction)
        peak = max(peak, stats.peak_activations)
    return float(np.mean(fractions)), peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller layers, fewer steps")
    parser.add_argument("--json", help="rank 0 writes its results to this file")
    args = parser.parse_args(argv)
    world = dist.init()
    me = world.Get_rank()
    say = print if me == 0 else (lambda *a, **k: None)
    width, micro_batch, steps = (384, 64, 2) if args.quick else (512, 128, 4)
    counts = (1, 2, 4, 8) if args.quick else (1, 2, 4, 8, 16)
    results = {"ranks": world.Get_size()}
    for p in (2, 4):
        if p > world.Get_size():
            say(f"== p={p} stages needs {p} ranks (mpiexec -n {p}); skipped")
            continue
        group = dist.new_group(range(p), world)
        say(f"== p={p} stages, 2 x Linear({width}, {width}) + tanh per stage, micro-batches "
            f"of {micro_batch}: idle fraction per stage (GPipe)")
        say("    m   " + "  ".join(f"stage {s}" for s in range(p)) + "   mean   (p-1)/(m+p-1)")
        for m in counts:
            idle = None
            if group is not None:
                idle, _ = measure(group, width, micro_batch, m, "gpipe", steps)
                idle = group.gather(idle, root=0)
            world.Barrier()
            if me == 0:
                theory = bubble_fraction(p, m)
                say(f"   {m:2d}   " + "  ".join(f"{f:7.3f}" for f in idle) +
                    f"  {np.mean(idle):6.3f}   {theory:.3f}")
                results[f"p{p}_m{m}_idle"] = float(np.mean(idle))
                results[f"p{p}_m{m}_bubble"] = theory
        m = counts[-1]
        peaks = {}
        for schedule in ("gpipe", "1f1b"):
            peak = None
            if group is not None:
                _, peak = measure(group, width, micro_batch, m, schedule, 1)
                peak = group.gather(peak, root=0)
            world.Barrier()
            peaks[schedule] = peak
        if me == 0:
            say(f"   peak micro-batches of activations held, m={m}: GPipe {peaks['gpipe']}, "
                f"1F1B {peaks['1f1b']} (stages 0..{p - 1})")
            results[f"p{p}_peak_gpipe"], results[f"p{p}_peak_1f1b"] = (peaks["gpipe"],
                                                                       peaks["1f1b"])
    if me == 0 and args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    return results


if __name__ == "__main__":
    main()

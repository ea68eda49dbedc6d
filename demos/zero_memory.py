"""ZeRO stage 1 on MPI: the optimizer memory each rank holds for N = 1, 2, 4 ranks.

    mpiexec -n 4 python -m demos.zero_memory [--quick]

AdamW keeps two moments per weight: twice the parameters' memory on EVERY data-parallel
rank. ZeroRedundancyOptimizer gives each of N ranks the moments of 1/N of the weights and
all-gathers the updated parameters. For N = 1, 2, 4 (the first N ranks of the world; a world
of 2 runs N = 1, 2) a GPT-sized MLP trains a few steps both ways; the demo prints the
parameter bytes, the AdamW state bytes per rank with plain DDP and with ZeRO-1, their ratio
(theory: 1/N, plus padding), and the largest parameter difference between the two (they take
the same steps). Rank 0 prints.
"""

import argparse
import json

import numpy as np

import tinygrad_course as tg
from tinygrad_course import distributed as dist
from tinygrad_course import functional as F
from tinygrad_course.distributed.zero import ZeroRedundancyOptimizer, optimizer_state_bytes
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.optim import AdamW


def run(group, width, steps):
    """(parameter bytes, plain state bytes, ZeRO state bytes on this rank, max difference)."""
    rng = np.random.default_rng(group.Get_rank())
    x = tg.tensor(rng.standard_normal((32, width)))
    y = tg.tensor(rng.integers(0, 10, 32))
    plain = dist.DistributedDataParallel(MLP(width, [width, width], 10, seed=0), group=group)
    sharded = dist.DistributedDataParallel(MLP(width, [width, width], 10, seed=0), group=group)
    plain_opt = AdamW(plain.parameters(), lr=1e-3)
    zero_opt = ZeroRedundancyOptimizer(sharded.parameters(), AdamW, group=group, lr=1e-3)
    for _ in range(steps):
        for model, optimizer in ((plain, plain_opt), (sharded, zero_opt)):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    difference = max(float(np.max(np.abs(a.numpy() - b.numpy())))
                     for a, b in zip(plain.parameters(), sharded.parameters()))
    param_bytes = sum(p.data.nbytes for p in plain.parameters())
    return param_bytes, optimizer_state_bytes(plain_opt), zero_opt.state_bytes(), difference


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller model")
    parser.add_argument("--json", help="rank 0 writes its results to this file")
    args = parser.parse_args(argv)
    world = dist.init()
    me = world.Get_rank()
    say = print if me == 0 else (lambda *a, **k: None)
    width, steps = (64, 3) if args.quick else (256, 5)
    results = {"ranks": world.Get_size()}
    say(f"== MLP({width}, [{width}, {width}], 10), AdamW, {steps} steps")
    say("   N   parameters   AdamW state per rank: DDP     ZeRO-1   ratio   1/N   max |diff|")
    for N in (1, 2, 4):
        if N > world.Get_size():
            say(f"   N={N} needs {N} ranks (mpiexec -n {N}); skipped")
            continue
        group = dist.new_group(range(N), world)
        row = run(group, width, steps) if group is not None else None
        rows = world.gather(row, root=0)
        world.Barrier()
        if me == 0:
            rows = [r for r in rows if r is not None]
            params, plain = rows[0][0], rows[0][1]
            zero = max(r[2] for r in rows)
            difference = max(r[3] for r in rows)
            say(f"   {N}   {params:10d}   {plain:20d}   {zero:8d}   {zero / plain:5.3f}   "
                f"{1 / N:4.2f}   {difference:.2g}")
            results.update({f"N{N}_param_bytes": params, f"N{N}_plain_state_bytes": plain,
                            f"N{N}_zero_state_bytes": zero, f"N{N}_max_difference": difference})
    if me == 0 and args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    return results


if __name__ == "__main__":
    main()

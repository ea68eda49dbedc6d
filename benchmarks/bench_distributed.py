"""Distributed speed on this machine: DDP scaling and the cost of an all-reduce.

    python -m benchmarks.bench_distributed           (launches mpiexec itself)
    python -m benchmarks.bench_distributed --quick

Not a workload of benchmarks.run (that one times single-process steps side by side); this
module starts its own MPI jobs:

1. DDP scaling. The MLP of bench_mlp (784-256-256-10, float32) trains with
   DistributedDataParallel at a fixed per-rank batch of 128 on N = 1 and N = 2 ranks.
   Throughput = N x 128 x steps / wall time (the slowest rank's); efficiency =
   throughput(N) / (N x throughput(1)). BLAS runs one thread per rank, so N ranks use N
   cores; the goal is >= 1.7x at N = 2 on a 2-core machine.
2. all_reduce vs message size. MPI's Allreduce of 2^k float32 values on 2 ranks, the median
   of repeated calls, and a least-squares fit t = latency + bytes / bandwidth.

Shared machines give noisy numbers: the output states the load average at the start.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy

from benchmarks.bench_mlp import SIZES, batch

_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def ddp_worker(steps, out):
    """On every rank: time ``steps`` DDP steps at batch 128 per rank."""
    from tinygrad_course import distributed as dist
    from tinygrad_course import functional as F
    from tinygrad_course.models.perceptron import MLP
    from tinygrad_course.optim import SGD

    comm = dist.init()
    import tinygrad_course as tg

    x, y = batch(128, seed=1 + comm.Get_rank())
    x, y = tg.tensor(x), tg.tensor(y)
    model = dist.DistributedDataParallel(MLP(SIZES[0], list(SIZES[1:-1]), SIZES[-1], seed=0))
    optimizer = SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(5):
        step()
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    comm.Barrier()
    seconds = comm.allreduce(time.perf_counter() - start, op=dist.world.mpi().MAX)
    if comm.Get_rank() == 0:
        with open(out, "w") as f:
            json.dump({"ranks": comm.Get_size(), "seconds": seconds, "steps": steps}, f)


def allreduce_worker(repeats, out):
    """On every rank: the median time of Allreduce for 2^0 .. 2^22 float32 values."""
    from tinygrad_course import distributed as dist

    comm = dist.init()
    MPI = dist.world.mpi()
    rows = []
    for k in range(0, 23, 2):
        buffer = numpy.ones(2 ** k, dtype=numpy.float32)
        times = []
        for _ in range(repeats if k < 18 else max(3, repeats // 10)):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            times.append(comm.allreduce(time.perf_counter() - start, op=MPI.MAX))
        rows.append((buffer.nbytes, float(numpy.median(times))))
    if comm.Get_rank() == 0:
        with open(out, "w") as f:
            json.dump(rows, f)


def launch(n, worker_args, timeout=600):
    from tinygrad_course.distributed.launch import run_mpi

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        env = dict(os.environ, **_THREADS)
        result = run_mpi(n, ["-m", "benchmarks.bench_distributed", "--worker", *worker_args,
                             "--out", out], timeout=timeout, env=env)
        if result.returncode:
            sys.exit(f"mpiexec failed:\n{result.stdout}\n{result.stderr}")
        with open(out) as f:
            return json.load(f)


def fit_latency_bandwidth(rows):
    """Least squares t = a + b * bytes -> (a seconds, 1 / b bytes per second), on relative
    errors (each residual divided by its t): sizes span 4 B to 16 MB, and a plain fit would
    let the largest messages set the intercept (it came out negative)."""
    nbytes, seconds = numpy.array(rows).T
    b, a = numpy.polyfit(nbytes, seconds, 1, w=1.0 / seconds)
    return a, 1.0 / b


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", choices=["ddp", "allreduce"], help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    steps = args.steps or (20 if args.quick else 200)
    if args.worker == "ddp":
        return ddp_worker(steps, args.out)
    if args.worker == "allreduce":
        return allreduce_worker(10 if args.quick else 100, args.out)
    print(f"load average at start: {os.getloadavg()}, cores: {os.cpu_count()}")
    print(f"== DDP, MLP {SIZES}, batch 128 per rank, {steps} steps, 1 BLAS thread per rank")
    base = None
    results = {}
    for n in (1, 2):
        r = launch(n, ["ddp", "--steps", str(steps)])
        throughput = n * 128 * steps / r["seconds"]
        base = base or throughput
        results[n] = throughput
        print(f"   N={n}: {steps / r['seconds']:7.1f} steps/s  {throughput:9.0f} samples/s  "
              f"speed-up {throughput / base:4.2f}x  efficiency {throughput / (n * base):4.2f}")
    rows = launch(2, ["allreduce"])
    print("== MPI Allreduce on 2 ranks: median time vs message size")
    for nbytes, seconds in rows:
        print(f"   {nbytes:10d} bytes  {seconds * 1e6:10.1f} us")
    latency, bandwidth = fit_latency_bandwidth(rows)
    print(f"   fit t = latency + bytes / bandwidth: latency {latency * 1e6:.1f} us, "
          f"bandwidth {bandwidth / 1e9:.2f} GB/s")
    return {"throughput": results, "latency": latency, "bandwidth": bandwidth}


if __name__ == "__main__":
    main()

"""Data parallelism on MPI: N ranks with B / N examples each take the step of one process
with B, and what their gradient averaging sends.

    mpiexec -n 2 python -m demos.data_parallel [--quick]

1. Equivalence. An MLP on the digits trains for a few SGD steps under
   DistributedDataParallel (per-rank batch b, global batch N b) while every rank also trains
   the same MLP alone on the whole global batch: the largest parameter difference.
2. Communication. The gradient (n bytes) is summed over the ranks three ways: a parameter
   server (rank 0 gathers and sends back), a ring all-reduce written with send/recv, and
   MPI's Allreduce. Bytes each rank sends per step and the time per all-reduce, beside the
   ring's theory 2 (N - 1) / N n (a parameter server sends (N - 1) n from one link).
3. The linear scaling rule with the global batch growing with N. With k = 1, 2, 4 ranks
   (as many as the world has) and a fixed per-rank batch, the global batch is k b; training
   the same epochs with lr = k lr_0 ends near the 1-rank loss, while keeping lr_0 falls
   behind (k times fewer steps of the same length).

Each rank prints nothing but rank 0, which prints the table. Run with one process it is a
world of one (only k = 1).
"""

import argparse
import json
import time

import numpy as np

import tinygrad_course as tg
from tinygrad_course import distributed as dist
from tinygrad_course import functional as F
from tinygrad_course.data import DataLoader, TensorDataset, load_digits
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.optim import SGD


def digits(dtype):
    X, y = load_digits()
    return tg.tensor(X, dtype=dtype), tg.tensor(y)


def equivalence(comm, per_rank_batch, steps, dtype):
    """Max |DDP parameter - one-process parameter| after ``steps`` SGD steps."""
    X, y = digits(dtype)
    N = comm.Get_size()
    reference = MLP(64, 32, 10, seed=0, dtype=dtype)
    ddp = dist.DistributedDataParallel(MLP(64, 32, 10, seed=0, dtype=dtype), group=comm)
    ref_opt, opt = SGD(reference.parameters(), lr=0.1), SGD(ddp.parameters(), lr=0.1)
    sampler = dist.DistributedSampler(X, num_replicas=N, rank=comm.Get_rank(), seed=0)
    order = np.random.default_rng(0).permutation(len(X))
    loader = DataLoader(sampler.shard(TensorDataset(X, y)), batch_size=per_rank_batch)
    for step, (xb, yb) in zip(range(steps), loader):
        batch = order[step * N * per_rank_batch:(step + 1) * N * per_rank_batch]
        for model, optimizer, inputs, labels in ((reference, ref_opt, X[batch], y[batch]),
                                                 (ddp, opt, xb, yb)):
            optimizer.zero_grad()
            F.cross_entropy(model(inputs), labels).backward()
            optimizer.step()
    return max(float(np.max(np.abs(a.numpy() - b.numpy())))
               for a, b in zip(ddp.parameters(), reference.parameters()))


def communication(comm, repeats):
    """Bytes sent per rank and seconds per all-reduce of an MLP(64, 32, 10) gradient."""
    numel = sum(p.size for p in MLP(64, 32, 10, seed=0).parameters())
    gradient = np.random.default_rng(comm.Get_rank()).standard_normal(numel).astype(np.float32)
    methods = {"parameter server": lambda g: dist.parameter_server_all_reduce(g, comm),
               "ring (send/recv)": lambda g: dist.ring_all_reduce(g, comm),
               "MPI Allreduce": lambda g: (dist.mpi_all_reduce(g, comm), None)}
    rows = {}
    for name, method in methods.items():
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(repeats):
            _, sent = method(gradient)
        seconds = (time.perf_counter() - start) / repeats
        rows[name] = (sent, comm.allreduce(seconds, op=dist.world.mpi().MAX))
    return gradient.nbytes, rows


def scaling(world, per_rank_batch, epochs, lr0):
    """{(k, lr): final training loss} for k = 1, 2, 4 ranks (those the world has)."""
    X, y = digits("float32")
    results = {}
    for k in (1, 2, 4):
        if k > world.Get_size():
            continue
        group = dist.new_group(range(k), world)
        for lr in sorted({lr0, k * lr0}):
            if group is not None:
                model = dist.DistributedDataParallel(MLP(64, 32, 10, seed=0), group=group)
                optimizer = SGD(model.parameters(), lr=lr)
                sampler = dist.DistributedSampler(X, num_replicas=k, rank=group.Get_rank(),
                                                  seed=1, drop_last=True)
                loader = DataLoader(sampler.shard(TensorDataset(X, y)),
                                    batch_size=per_rank_batch, drop_last=True)
                for epoch in range(epochs):
                    sampler.set_epoch(epoch)
                    for xb, yb in loader:
                        optimizer.zero_grad()
                        F.cross_entropy(model(xb), yb).backward()
                        optimizer.step()
                with tg.no_grad():
                    loss = float(F.cross_entropy(model(X), y).item())
                results[(k, lr)] = loss
            world.Barrier()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    parser.add_argument("--json", help="rank 0 writes its results to this file")
    args = parser.parse_args(argv)
    world = dist.init()
    N, me = world.Get_size(), world.Get_rank()
    say = print if me == 0 else (lambda *a, **k: None)
    results = {"ranks": N}
    say(f"== 1. {N} ranks x batch 16 vs one process x batch {16 * N}, 8 SGD steps")
    for dtype in ("float64", "float32"):
        difference = world.allreduce(equivalence(world, 16, 8, dtype), op=dist.world.mpi().MAX)
        results[f"max_param_difference_{dtype}"] = difference
        say(f"   {dtype}: max |parameter difference| = {difference:.3g}")
    nbytes, rows = communication(world, 20 if args.quick else 200)
    results["gradient_bytes"] = nbytes
    ring_theory = 2 * (N - 1) / N * nbytes
    say(f"== 2. summing a gradient of {nbytes} bytes over {N} ranks (ring theory "
        f"2 (N - 1) / N n = {ring_theory:.0f} bytes per rank)")
    sent_by = {}
    for name, (sent, seconds) in rows.items():
        sent_by[name] = world.gather(sent, root=0)
        shown = ("not reported by MPI" if sent is None else
                 ", ".join(f"rank {r}: {b}" for r, b in enumerate(sent_by[name] or [])))
        say(f"   {name:<17} {seconds * 1e6:9.1f} us   bytes sent: {shown}")
        results[f"seconds_{name.split()[0].lower()}"] = seconds
    if me == 0:
        results["ring_bytes_per_rank"] = sent_by["ring (send/recv)"][0]
        results["ring_theory_bytes"] = ring_theory
        results["server_bytes"] = sent_by["parameter server"][0]
        results["worker_bytes"] = sent_by["parameter server"][-1]
    epochs = 4 if args.quick else 20
    losses = scaling(world, 16, epochs, lr0=0.05)
    say(f"== 3. linear scaling rule: per-rank batch 16, {epochs} epochs, global batch 16 k")
    for (k, lr), loss in sorted(losses.items()):
        rule = "lr0" if lr == 0.05 else "k lr0"
        say(f"   k={k}  global batch {16 * k:3d}  lr={lr:.2f} ({rule:>5})  final loss "
            f"{loss:.4f}")
        results[f"loss_k{k}_lr{lr:g}"] = loss
    if me == 0 and args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    return results


if __name__ == "__main__":
    main()

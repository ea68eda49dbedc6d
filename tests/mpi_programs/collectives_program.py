"""Per-rank program: every collective's forward and gradient across ranks, point to point,
and the parameter server and ring all-reduce against MPI's Allreduce (any world size)."""

import numpy as np
from checks import Checks, rank_array

import tinygrad_course as tg
from tinygrad_course import distributed as dist
from tinygrad_course.distributed.world import DistributedError

checks = Checks("collectives")
N, me = checks.size, checks.rank
shape = (2 * N, 3)
xs = [rank_array(r, shape, seed=1) for r in range(N)]  # every rank's input
ws = [rank_array(r, shape, seed=2) for r in range(N)]  # weights of every rank's loss


def run(op, weights_shape=None):
    """y = op(x_me); L_me = sum(w_me * y); backward. Returns (y, dL/dx_me) with the total
    objective L = sum_r L_r, whose gradient the collective's backward computes."""
    x = tg.tensor(xs[me], dtype="float64", requires_grad=True)
    y = op(x)
    w = rank_array(me, y.shape, seed=2)
    (y * tg.tensor(w, dtype="float64")).sum().backward()
    return y.numpy(), x.grad.numpy()


def weights(y_shape):
    return [rank_array(r, y_shape, seed=2) for r in range(N)]


total = sum(xs)
y, g = run(lambda x: dist.all_reduce(x))
checks.close("all_reduce sum forward", y, total, 1e-12)
checks.close("all_reduce sum backward = all_reduce of the gradients", g, sum(ws), 1e-12)
y, g = run(lambda x: dist.all_reduce(x, op="mean"))
checks.close("all_reduce mean forward", y, total / N, 1e-12)
checks.close("all_reduce mean backward", g, sum(ws) / N, 1e-12)

src = N - 1
y, g = run(lambda x: dist.broadcast(x, src=src))
checks.close("broadcast forward", y, xs[src], 0)
checks.close("broadcast backward = reduce to src", g, sum(ws) if me == src else 0 * ws[0],
             1e-12)

y, g = run(lambda x: dist.reduce(x, dst=0))
checks.close("reduce forward", y, total if me == 0 else 0 * total, 1e-12)
checks.close("reduce backward = broadcast from dst", g, ws[0], 0)

y, g = run(lambda x: dist.all_gather(x, axis=1))
checks.close("all_gather forward", y, np.concatenate(xs, axis=1), 0)
wg = weights((2 * N, 3 * N))
checks.close("all_gather backward = reduce_scatter", g,
             sum(w[:, 3 * me:3 * me + 3] for w in wg), 1e-12)

y, g = run(lambda x: dist.reduce_scatter(x, axis=0))
checks.close("reduce_scatter forward", y, total[2 * me:2 * me + 2], 1e-12)
wr = weights((2, 3))
checks.close("reduce_scatter backward = all_gather", g, np.concatenate(wr, axis=0), 0)

# second derivatives flow through the collectives: d/dx of sum((dL/dx)^2) with L = y . y
x = tg.tensor(xs[me], dtype="float64", requires_grad=True)
y = dist.all_reduce(x)
(gx,) = tg.grad((y * y).sum(), [x], create_graph=True)  # gx = 2 * all_reduce(y) = 2 N total
gx.sum().backward()  # d/dx_me sum_r gx_r summed over ranks = 2 N * N (all ones upstream)
checks.close("all_reduce first derivative", gx.numpy(), 2 * N * total, 1e-10)
checks.close("all_reduce second derivative", x.grad.numpy(), 2 * N * N * np.ones(shape), 1e-10)

# arguments that differ between ranks are refused on every rank, never a wrong number
if N > 1:
    try:
        dist.all_reduce(tg.zeros(me + 1, 2))
    except DistributedError as err:
        checks.true("all_reduce refuses shapes that differ between ranks",
                    "rank 0: (1, 2) float32" in str(err), str(err))
    else:
        raise AssertionError("all_reduce accepted different shapes on different ranks")

# point to point: every rank sends to its right neighbour around a ring
right, left = (me + 1) % N, (me - 1) % N
if N > 1:
    if me % 2 == 0:
        dist.send(tg.tensor(xs[me]), dest=right, tag=7)
        got = dist.recv(shape, source=left, dtype=np.float32, tag=7)
    else:
        got = dist.recv(shape, source=left, dtype=np.float32, tag=7)
        dist.send(tg.tensor(xs[me]), dest=right, tag=7)
    checks.close("send/recv around the ring", got.numpy(), xs[left].astype(np.float32), 0)

# the teaching all-reduces equal MPI's, and send what the lecture says they send
for n_values in (12 * N, 12 * N + 1, 1):  # divisible by N, not, and fewer values than ranks
    values = rank_array(me, (n_values,), seed=3)
    reference = dist.mpi_all_reduce(values)
    ring, ring_bytes = dist.ring_all_reduce(values)
    server, server_bytes = dist.parameter_server_all_reduce(values)
    checks.close(f"ring all-reduce = MPI Allreduce ({n_values} values)", ring, reference, 1e-12)
    checks.close(f"parameter server = MPI Allreduce ({n_values} values)", server, reference,
                 1e-12)
    chunks = np.array_split(np.arange(n_values), N)
    expected_ring = sum(chunks[(me - s) % N].size + chunks[(me + 1 - s) % N].size
                        for s in range(N - 1)) * 8
    checks.true(f"ring bytes sent = {expected_ring}", ring_bytes == expected_ring,
                f"got {ring_bytes}")
    expected_server = (N - 1) * values.nbytes if me == 0 else values.nbytes
    checks.true(f"parameter server bytes sent = {expected_server}",
                server_bytes == (expected_server if N > 1 else 0), f"got {server_bytes}")
    if n_values % N == 0:
        checks.true("ring sends 2 (N - 1) / N of the array",
                    ring_bytes * N == 2 * (N - 1) * values.nbytes)
checks.done()

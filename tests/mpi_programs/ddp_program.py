"""Per-rank program: DistributedDataParallel on N ranks with per-rank batch B / N gives, after
several SGD steps, the parameters of one process with batch B (which every rank also trains
itself, as the reference); the sampler's shards; accumulation; a missing gradient."""

import numpy as np
from checks import Checks

import tinygrad_course as tg
from tinygrad_course import distributed as dist
from tinygrad_course import functional as F
from tinygrad_course import nn
from tinygrad_course.data import DataLoader, TensorDataset
from tinygrad_course.distributed.world import DistributedError
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.optim import SGD

checks = Checks("ddp")
N, me = checks.size, checks.rank
n_examples, global_batch, epochs = 8 * N * 3, 8 * N, 2
data_rng = np.random.default_rng(5)
X_host = data_rng.standard_normal((n_examples, 6))
y_host = data_rng.integers(0, 3, n_examples)


def train(dtype, overlap, bucket_cap_mb):
    """Max |difference| between the DDP model and the one-process model after training."""
    X, y = tg.tensor(X_host, dtype=dtype), tg.tensor(y_host)
    reference = MLP(6, [16, 16], 3, activation="tanh", seed=0, dtype=dtype)
    model = MLP(6, [16, 16], 3, activation="tanh", seed=me, dtype=dtype)  # rank 0's wins
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb, overlap=overlap)
    ref_opt = SGD(reference.parameters(), lr=0.1, momentum=0.9)
    opt = SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    sampler = dist.DistributedSampler(X_host, seed=3)
    loader = DataLoader(sampler.shard(TensorDataset(X, y)), batch_size=global_batch // N)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        order = np.random.default_rng(3 + epoch).permutation(n_examples)
        for step, (xb, yb) in enumerate(loader):
            batch = order[step * global_batch:(step + 1) * global_batch]
            ref_opt.zero_grad()
            F.cross_entropy(reference(X[batch]), y[batch]).backward()
            ref_opt.step()
            opt.zero_grad()
            F.cross_entropy(ddp(xb), yb).backward()
            opt.step()
    return max(float(np.max(np.abs(a.numpy() - b.numpy())))
               for a, b in zip(model.parameters(), reference.parameters()))


buckets = dist.DistributedDataParallel(MLP(6, [16, 16], 3, seed=0), bucket_cap_mb=1e-4).buckets
checks.true(f"small buckets: {len(buckets)} buckets, last layer first",
            len(buckets) > 2 and buckets[0][0].shape == (3,))
for dtype, overlap, cap, tolerance in [("float64", True, 1e-4, 1e-12),
                                       ("float64", False, 25.0, 1e-12),
                                       ("float32", True, 1e-3, 1e-6)]:
    difference = train(dtype, overlap, cap)
    checks.true(f"DDP {dtype} overlap={overlap} bucket_cap_mb={cap} = one process with the "
                f"whole batch (max |difference| {difference:.2g} <= {tolerance})",
                difference <= tolerance, f"difference {difference}")

# the sampler's shards are disjoint and cover the data (padded when N does not divide it)
for length, drop_last in [(10 * N, False), (10 * N + 1, False), (10 * N + 1, True)]:
    sampler = dist.DistributedSampler(range(length), seed=1, drop_last=drop_last)
    sampler.set_epoch(4)
    shards = checks.comm.allgather(sampler.indices().tolist())
    flat = [i for shard in shards for i in shard]
    expected = sorted(flat) if not drop_last else flat
    covers = set(flat) == set(range(length)) if not drop_last else len(set(flat)) == len(flat)
    checks.true(f"DistributedSampler(n={length}, drop_last={drop_last}): equal shards that "
                "cover the data", covers and len({len(s) for s in shards}) == 1
                and len(expected) == N * len(sampler))
sampler.set_epoch(5)
other_epoch = checks.comm.allgather(sampler.indices().tolist())
checks.true("DistributedSampler: a new order every epoch", other_epoch != shards)

# two backward passes before a step add up their averaged gradients
model = dist.DistributedDataParallel(nn.Linear(6, 3, dtype="float64", seed=0))
x = tg.tensor(X_host[me::N][:4], dtype="float64")
model(x).sum().backward()
once = model.module.weight.grad.numpy().copy()
model(x).sum().backward()
checks.close("gradient accumulation over two backward passes", model.module.weight.grad.numpy(),
             2 * once, 1e-12)
x_all = tg.tensor(np.concatenate([X_host[r::N][:4] for r in range(N)]), dtype="float64")
# L_r = sum(W x_r + b) on rank r: dL_r/dW = ones^T x_r, and DDP gives their mean over ranks
checks.close("the averaged gradient is the gradient of the mean of the ranks' losses", once,
             np.ones((3, 4 * N)) / N @ x_all.numpy(), 1e-12)


class HalfUsed(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.unused = nn.Linear(6, 3, seed=0), nn.Linear(6, 3, seed=1)

    def forward(self, x):
        return self.used(x)


model = dist.DistributedDataParallel(HalfUsed())
model(tg.tensor(X_host[:4])).sum().backward()
try:
    model(tg.tensor(X_host[:4]))
except DistributedError as err:
    checks.true("a parameter without a gradient is reported at the next forward",
                "gave no gradient to 2 parameter(s)" in str(err), str(err))
else:
    raise AssertionError("DDP trained on with a parameter that got no gradient")
checks.done()

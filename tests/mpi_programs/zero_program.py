"""Per-rank program: ZeRO-1 (Adam and SGD with momentum on a shard per rank) gives the
parameters of plain DDP with the whole optimizer on every rank, with 1/N of its state."""

import numpy as np
from checks import Checks

import tinygrad_course as tg
from tinygrad_course import distributed as dist
from tinygrad_course import functional as F
from tinygrad_course.distributed.zero import ZeroRedundancyOptimizer, optimizer_state_bytes
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.optim import SGD, AdamW

checks = Checks("zero")
N, me = checks.size, checks.rank
rng = np.random.default_rng(me)  # each rank its own data
x = tg.tensor(rng.standard_normal((8, 5)), dtype="float64")
y = tg.tensor(rng.integers(0, 3, 8))

for optimizer_class, settings in [(AdamW, dict(lr=0.01)), (SGD, dict(lr=0.1, momentum=0.9))]:
    plain = dist.DistributedDataParallel(MLP(5, 7, 3, seed=0, dtype="float64"))
    sharded = dist.DistributedDataParallel(MLP(5, 7, 3, seed=0, dtype="float64"))
    plain_opt = optimizer_class(plain.parameters(), **settings)
    zero_opt = ZeroRedundancyOptimizer(sharded.parameters(), optimizer_class, **settings)
    for _ in range(5):
        for model, opt in ((plain, plain_opt), (sharded, zero_opt)):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    worst = max(float(np.max(np.abs(a.numpy() - b.numpy())))
                for a, b in zip(plain.parameters(), sharded.parameters()))
    name = optimizer_class.__name__
    checks.true(f"ZeRO-1 {name} = plain DDP {name} after 5 steps (max |difference| "
                f"{worst:.2g})", worst < 1e-12)
    full, mine = optimizer_state_bytes(plain_opt), zero_opt.state_bytes()
    numel = sum(p.size for p in plain.parameters())
    per_weight = full // (numel * 8)  # AdamW: 2 moments (+ a step count), SGD: 1 buffer
    checks.true(f"{name} state on this rank {mine} bytes = {per_weight} x 8 x ceil({numel} / "
                f"{N}) (plain: {full})", mine == per_weight * 8 * -(-numel // N))
checks.done()

"""What every per-rank program reports: one line per passed check, and a last line that
tests/test_distributed.py looks for on every rank. A failed check raises, and the abort hook
of tinygrad_course.distributed.init makes the whole job fail with this rank's traceback."""

import numpy as np

from tinygrad_course import distributed as dist


class Checks:
    def __init__(self, program):
        self.comm = dist.init()
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.program, self.count = program, 0

    def close(self, name, got, expected, atol, rtol=0.0):
        got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if got.shape != expected.shape:
            raise AssertionError(f"{name}: shape {got.shape}, expected {expected.shape}")
        error = float(np.max(np.abs(got - expected))) if got.size else 0.0
        if not np.allclose(got, expected, atol=atol, rtol=rtol):
            raise AssertionError(f"{name}: max |difference| {error:.3g} > atol {atol}")
        self.passed(f"{name} (max |difference| {error:.3g})")

    def true(self, name, condition, detail=""):
        if not condition:
            raise AssertionError(f"{name} failed {detail}")
        self.passed(name)

    def passed(self, name):
        self.count += 1
        print(f"rank {self.rank}: ok {name}", flush=True)

    def done(self):
        self.comm.Barrier()
        print(f"rank {self.rank} of {self.size}: {self.program} passed {self.count} checks",
              flush=True)


def rank_array(r, shape, seed=0, dtype=np.float64):
    """The array rank ``r`` uses (any rank can rebuild any other rank's)."""
    return np.random.default_rng(1000 * seed + r).standard_normal(shape).astype(dtype)

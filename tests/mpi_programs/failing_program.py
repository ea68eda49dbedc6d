"""Per-rank program: rank 1 raises while rank 0 waits for it in a collective. The abort hook
installed by init() must end the whole job with rank 1's traceback instead of a hang."""

from tinygrad_course import distributed as dist

comm = dist.init()
if comm.Get_rank() == 1:
    raise ValueError("planted failure on rank 1")
comm.Barrier()  # rank 0 would wait here forever without MPI_Abort
print("rank 0 passed the barrier: the failure was not propagated", flush=True)

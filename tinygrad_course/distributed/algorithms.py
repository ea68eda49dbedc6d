"""Two all-reduce algorithms written out with send/recv, beside MPI's own ``Allreduce``.

Both compute y = sum_r x_r on every rank and return how many bytes this rank sent, so the
lecture's communication costs can be measured (n = bytes of x, N = ranks):

Parameter server (rank 0 is the server)
    every worker sends x_r to the server (n bytes each); the server adds them and sends the
    sum back to every worker: it sends (N - 1) n bytes, a load that grows with N on one link.

Ring all-reduce (each rank talks only to its neighbours r - 1 and r + 1 around a ring)
    x is cut into N chunks. Reduce-scatter: in step s = 0..N-2, rank r sends chunk
    (r - s) mod N to r + 1 and adds the chunk (r - s - 1) mod N that arrives from r - 1;
    after N - 1 steps rank r holds the finished sum of chunk (r + 1) mod N. All-gather:
    N - 1 more steps pass the finished chunks around the ring. Every rank sends
    2 (N - 1) chunks = 2 (N - 1) / N * n bytes, nearly 2n whatever N is, and all links
    are busy at once.

These are teaching implementations (one Python loop step per ring step); DDP uses MPI's
Allreduce, which picks a comparable algorithm for the message size.
"""

import numpy

from .world import group_or_world, mpi


def parameter_server_all_reduce(host, group=None, server=0):
    """sum over ranks of the NumPy array ``host`` through rank ``server``.

    Returns (the sum, bytes this rank sent)."""
    comm = group_or_world(group)
    size, me = comm.Get_size(), comm.Get_rank()
    x = numpy.ascontiguousarray(host)
    if size == 1:
        return x.copy(), 0
    if me != server:
        comm.Send(x, dest=server, tag=1)
        total = numpy.empty_like(x)
        comm.Recv(total, source=server, tag=2)
        return total, x.nbytes
    total, incoming = x.copy(), numpy.empty_like(x)
    for worker in range(size):
        if worker != server:
            comm.Recv(incoming, source=worker, tag=1)
            total += incoming
    sent = 0
    for worker in range(size):
        if worker != server:
            comm.Send(total, dest=worker, tag=2)
            sent += total.nbytes
    return total, sent


def ring_all_reduce(host, group=None):
    """sum over ranks of the NumPy array ``host`` around a ring: reduce-scatter, then
    all-gather (see the module docstring). Returns (the sum, bytes this rank sent)."""
    comm = group_or_world(group)
    size, me = comm.Get_size(), comm.Get_rank()
    flat = numpy.array(host, order="C").reshape(-1)  # a copy: the chunks are updated in place
    if size == 1:
        return flat.reshape(numpy.shape(host)), 0
    chunks = numpy.array_split(flat, size)  # views into flat; sizes differ by at most one
    right, left = (me + 1) % size, (me - 1) % size
    incoming = numpy.empty(chunks[0].size, dtype=flat.dtype)
    sent = 0
    for step in range(size - 1):  # reduce-scatter
        out_chunk, in_chunk = chunks[(me - step) % size], chunks[(me - step - 1) % size]
        received = incoming[:in_chunk.size]
        comm.Sendrecv(out_chunk, dest=right, sendtag=3, recvbuf=received, source=left,
                      recvtag=3)
        in_chunk += received
        sent += out_chunk.nbytes
    for step in range(size - 1):  # all-gather: pass the finished chunks around
        out_chunk, in_chunk = chunks[(me + 1 - step) % size], chunks[(me - step) % size]
        comm.Sendrecv(out_chunk, dest=right, sendtag=4, recvbuf=in_chunk, source=left,
                      recvtag=4)
        sent += out_chunk.nbytes
    return flat.reshape(numpy.shape(host)), sent


def mpi_all_reduce(host, group=None):
    """MPI's own Allreduce (sum) of the NumPy array ``host``: the reference the two above are
    tested against. Returns the sum (MPI does not report the bytes it sends)."""
    total = numpy.array(host, order="C")
    group_or_world(group).Allreduce(mpi().IN_PLACE, total, op=mpi().SUM)
    return total

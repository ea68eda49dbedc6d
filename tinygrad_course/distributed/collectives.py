"""Collectives on Tensors, each a differentiable op (forward and backward side by side).

Every rank calls the same collective with a tensor of the same shape and dtype (checked:
a mismatch raises DistributedError on every rank, never a silent wrong number). With N ranks
and x_r the tensor of rank r:

    all_reduce      y = sum_r x_r (op="sum") or (1/N) sum_r x_r (op="mean"), on every rank
    broadcast       y = x_src on every rank
    reduce          y = sum_r x_r on rank dst (zeros elsewhere)
    all_gather      y = concat(x_0, ..., x_{N-1}) along ``axis``, on every rank
    reduce_scatter  y_r = the r-th of N equal slices (along ``axis``) of sum_s x_s

Gradients. Each rank has its own loss L_r and the objective is their sum L = sum_r L_r
(in data parallelism each rank's loss is its part of the batch). With g_r = dL_r/dy on rank r:

    all_reduce      dL/dx_r = sum_s g_s           backward is all_reduce (same op)
    broadcast       dL/dx_src = sum_s g_s         backward is reduce to src (others get 0)
    reduce          dL/dx_r = g_dst               backward is broadcast from dst
    all_gather      dL/dx_r = sum_s g_s[slice r]  backward is reduce_scatter
    reduce_scatter  dL/dx_r = concat_s g_s        backward is all_gather

Each backward is itself one of these ops, so gradients of gradients work too. With one rank
every collective is the identity (gradchecked in tests/test_distributed.py).

Tensor parallelism uses the other convention: every rank computes the SAME loss from
replicated activations, so the objective is that one L, not N copies of it summed; see
tensor_parallel.py for its pair of ops (identity forward / all-reduce backward and the
reverse).

MPI moves host memory: each op copies its array to a contiguous NumPy array
(``backend.to_numpy``; a CuPy or strict-device array is copied to the host), calls mpi4py's
buffer methods (the uppercase ``Allreduce``, ``Bcast``, ... which send the raw bytes without
pickling), and copies the result back to the tensor's device (``backend.from_numpy``).
``send``/``recv`` move a tensor between two ranks; they are not recorded in the graph (the
pipeline schedule in pipeline.py sends gradients back explicitly).
"""

import numpy

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, as_tensor
from .world import DistributedError, group_or_world, mpi

_REDUCE_OPS = ("sum", "mean")
_MAX_DIMS = 8  # the shape check sends shapes of up to this many axes


# ----- host buffers and the agreement check ----------------------------------------------------
def host_copy(array):
    """A C-contiguous NumPy copy of ``array`` (any device): MPI reads and writes it."""
    return numpy.array(backend.to_numpy(array), order="C")


def check_same_shape(comm, op, shape, dtype):
    """Raise DistributedError on every rank unless all ranks of ``comm`` hold ``shape`` and
    ``dtype`` (one small all-gather of (ndim, dtype, shape))."""
    size = comm.Get_size()
    if size == 1:
        return
    if len(shape) > _MAX_DIMS:
        raise ShapeError(f"{op}: at most {_MAX_DIMS} axes, got shape {shape}")
    mine = numpy.full(_MAX_DIMS + 2, -1, dtype=numpy.int64)
    mine[0], mine[1] = len(shape), ord(numpy.dtype(dtype).char)
    mine[2:2 + len(shape)] = shape
    everyone = numpy.empty((size, _MAX_DIMS + 2), dtype=numpy.int64)
    comm.Allgather(mine, everyone)
    if (everyone == everyone[0]).all():
        return
    described = []
    for r, row in enumerate(everyone):
        ndim = int(row[0])
        described.append(f"rank {r}: {tuple(int(d) for d in row[2:2 + ndim])} "
                         f"{numpy.dtype(chr(row[1])).name}")
    raise DistributedError(f"{op}: every rank must pass a tensor of the same shape and dtype, "
                           f"got {'; '.join(described)}")


def _reduce_op(op, name):
    if op not in _REDUCE_OPS:
        raise ValueError(f"{name}: op must be one of {_REDUCE_OPS}, got {op!r}")


def _check_rank(name, which, value, size):
    if int(value) != value or not 0 <= value < size:
        raise DistributedError(f"{name}: {which}={value!r} is not a rank of a group of {size}")


def _check_axis(name, axis, ndim):
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{name}: axis {axis} out of range for a tensor with {ndim} axes")
    return axis % ndim


# ----- array-level collectives (host NumPy in, host NumPy out) ---------------------------------
def all_reduce_array(comm, host, op="sum"):
    """sum (or mean) over ranks of ``host``, written into ``host`` and returned."""
    comm.Allreduce(mpi().IN_PLACE, host, op=mpi().SUM)
    if op == "mean":
        host /= comm.Get_size()
    return host


def all_gather_array(comm, host, axis):
    """concat over ranks of ``host`` along ``axis``."""
    gathered = numpy.empty((comm.Get_size(),) + host.shape, dtype=host.dtype)
    comm.Allgather(host, gathered)
    return numpy.concatenate(list(gathered), axis=axis)


def reduce_scatter_array(comm, host, axis):
    """This rank's slice (along ``axis``, N equal slices) of the sum over ranks of ``host``."""
    size = comm.Get_size()
    blocks = numpy.ascontiguousarray(numpy.stack(numpy.split(host, size, axis=axis)))
    mine = numpy.empty(blocks.shape[1:], dtype=host.dtype)
    comm.Reduce_scatter_block(blocks, mine, op=mpi().SUM)
    return mine


# ----- the differentiable ops ------------------------------------------------------------------
class AllReduce(Function):
    """y = sum_r x_r (or the mean) on every rank; backward: the same all-reduce of the
    gradients (dL/dx_r = sum_s dL_s/dy, or its mean)."""

    def forward(self, x, op, group):
        self.op, self.group = op, group
        return backend.from_numpy(all_reduce_array(group, host_copy(x), op), self.output_device)

    def backward(self, grad):
        return AllReduce.apply(grad, op=self.op, group=self.group)


class Broadcast(Function):
    """y = x_src on every rank; backward: reduce the gradients to src (the others' inputs
    did not reach y: gradient 0)."""

    def forward(self, x, src, group):
        self.src, self.group = src, group
        host = host_copy(x)
        group.Bcast(host, root=src)
        return backend.from_numpy(host, self.output_device)

    def backward(self, grad):
        return Reduce.apply(grad, dst=self.src, group=self.group)


class Reduce(Function):
    """y = sum_r x_r on rank dst, zeros on the others; backward: broadcast dst's gradient."""

    def forward(self, x, dst, group):
        self.dst, self.group = dst, group
        host = host_copy(x)
        total = numpy.empty_like(host)
        group.Reduce(host, total, op=mpi().SUM, root=dst)
        if group.Get_rank() != dst:
            total[...] = 0
        return backend.from_numpy(total, self.output_device)

    def backward(self, grad):
        return Broadcast.apply(grad, src=self.dst, group=self.group)


class AllGather(Function):
    """y = concat_r x_r along ``axis``; backward: reduce_scatter of the gradients
    (dL/dx_r = sum_s g_s[slice r])."""

    def forward(self, x, axis, group):
        self.axis, self.group = axis, group
        return backend.from_numpy(all_gather_array(group, host_copy(x), axis),
                                  self.output_device)

    def backward(self, grad):
        return ReduceScatter.apply(grad, axis=self.axis, group=self.group)


class ReduceScatter(Function):
    """y_r = slice r (of N along ``axis``) of sum_s x_s; backward: all_gather of the
    gradients (dL/dx_r = concat_s g_s)."""

    def forward(self, x, axis, group):
        self.axis, self.group = axis, group
        return backend.from_numpy(reduce_scatter_array(group, host_copy(x), axis),
                                  self.output_device)

    def backward(self, grad):
        return AllGather.apply(grad, axis=self.axis, group=self.group)


# ----- the functions users call ----------------------------------------------------------------
def _prepare(name, tensor, group):
    tensor = as_tensor(tensor, name)
    comm = group_or_world(group)
    check_same_shape(comm, name, tensor.shape, tensor.dtype)
    return tensor, comm


def all_reduce(tensor, op="sum", group=None):
    """sum_r x_r (op="sum") or its mean (op="mean") over the ranks of ``group``, returned as a
    new tensor (differentiable; see the module docstring)."""
    _reduce_op(op, "all_reduce")
    tensor, comm = _prepare("all_reduce", tensor, group)
    if op == "mean" and tensor.dtype.kind != "f":
        raise DistributedError(f"all_reduce: op='mean' needs a floating tensor, got "
                               f"{tensor.dtype}")
    return AllReduce.apply(tensor, op=op, group=comm)


def broadcast(tensor, src=0, group=None):
    """Rank ``src``'s tensor on every rank (every rank passes a tensor of that shape)."""
    tensor, comm = _prepare("broadcast", tensor, group)
    _check_rank("broadcast", "src", src, comm.Get_size())
    return Broadcast.apply(tensor, src=int(src), group=comm)


def reduce(tensor, dst=0, group=None):
    """sum_r x_r on rank ``dst``; the other ranks get zeros of the same shape."""
    tensor, comm = _prepare("reduce", tensor, group)
    _check_rank("reduce", "dst", dst, comm.Get_size())
    return Reduce.apply(tensor, dst=int(dst), group=comm)


def all_gather(tensor, axis=0, group=None):
    """The tensors of all ranks, concatenated along ``axis`` in rank order."""
    tensor, comm = _prepare("all_gather", tensor, group)
    axis = _check_axis("all_gather", axis, tensor.ndim)
    return AllGather.apply(tensor, axis=axis, group=comm)


def reduce_scatter(tensor, axis=0, group=None):
    """Slice ``rank`` (of world_size equal slices along ``axis``) of the sum over ranks."""
    tensor, comm = _prepare("reduce_scatter", tensor, group)
    axis = _check_axis("reduce_scatter", axis, tensor.ndim)
    size = comm.Get_size()
    if tensor.shape[axis] % size:
        raise ShapeError(f"reduce_scatter: axis {axis} of shape {tensor.shape} has "
                         f"{tensor.shape[axis]} entries, not a multiple of the {size} ranks")
    return ReduceScatter.apply(tensor, axis=axis, group=comm)


# ----- point to point --------------------------------------------------------------------------
def send(tensor, dest, tag=0, group=None):
    """Send ``tensor``'s values to rank ``dest`` (blocking; pair it with recv there). Not
    recorded in the graph."""
    comm = group_or_world(group)
    _check_rank("send", "dest", dest, comm.Get_size())
    comm.Send(host_copy(as_tensor(tensor, "send").data), dest=int(dest), tag=tag)


def recv(shape, source, dtype=numpy.float32, tag=0, device=None, group=None):
    """A tensor of ``shape`` and ``dtype`` received from rank ``source`` (blocking)."""
    from mpi4py.util import dtlib  # MPI datatype of a NumPy dtype (mpi4py is imported by now)

    comm = group_or_world(group)
    _check_rank("recv", "source", source, comm.Get_size())
    host = numpy.empty(tuple(shape), dtype=dtype)
    status = mpi().Status()
    comm.Recv(host, source=int(source), tag=tag, status=status)
    got = status.Get_count(dtlib.from_numpy_dtype(host.dtype))
    if got != host.size:
        raise DistributedError(f"recv: expected {host.size} values of {host.dtype} from rank "
                               f"{source}, got {got}")
    return Tensor(host, dtype=dtype, device=device)

"""Tensor (model) parallelism: one layer's weight matrix split over the ranks (Megatron-LM).

A linear layer y = x W^T (W: out x in) can be cut two ways over N ranks:

    column parallel   W split by output features, W_r: (out/N, in).  Every rank needs the
                      whole x and computes its slice y_r = x W_r^T of the output features.
    row parallel      W split by input features, W_r: (out, in/N).   Rank r needs only its
                      slice x_r of the input features; y = sum_r x_r W_r^T (an all-reduce).

An MLP block y = gelu(x A^T) B^T takes column then row: the column layer's output slices are
exactly the row layer's input slices (gelu is elementwise), so the block needs ONE
all-reduce in forward (after B) and ONE in backward (the gradient of x, summed over the
ranks' column slices). Attention splits the same way by heads: each rank projects Q, K, V
for its H/N heads (column parallel), attends within them, and the output projection is row
parallel.

The loss here is computed identically on every rank from the replicated output, so the
objective is that one L (not a sum over ranks as in collectives.py). That gives Megatron's
two conjugate ops:

    copy_to_parallel_region        forward y = x           backward dL/dx = sum_r g_r
    reduce_from_parallel_region    forward y = sum_r x_r   backward dL/dx_r = g
    scatter_to_parallel_region     forward y = x[..., slice r]   backward all-gather of g_r
    gather_from_parallel_region    forward all-gather of x_r     backward g[..., slice r]

Weights are built as the unsplit layer would be (same seed, same values) and then sliced, so
a tensor-parallel layer computes the same function as the nn layer it mirrors
(``from_linear`` / ``from_module`` take an existing one).
"""

import contextlib

import numpy

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..nn import GELU, Linear, Module, MultiheadAttention, Parameter
from ..ops.attention import causal_mask, packed_self_attention
from ..ops.linear import linear
from ..tensor import Tensor
from .collectives import all_gather_array, all_reduce_array, host_copy
from .world import group_or_world

_records = []  # the open record_communication() lists


@contextlib.contextmanager
def record_communication():
    """``with record_communication() as log:`` appends (collective, bytes of the tensor)
    for every all-reduce and all-gather the layers run inside the block, forward and
    backward (what the demo counts per layer)."""
    log = []
    _records.append(log)
    try:
        yield log
    finally:
        _records.remove(log)


def _record(what, array):
    for log in _records:
        log.append((what, int(array.nbytes)))


class CopyToParallelRegion(Function):
    """y = x on every rank; backward: dL/dx = sum over ranks of their gradients (each rank's
    slice of the layer used x)."""

    def forward(self, x, group):
        self.group = group
        return x

    def backward(self, grad):
        return ReduceFromParallelRegion.apply(grad, group=self.group)


class ReduceFromParallelRegion(Function):
    """y = sum_r x_r; backward: every rank's x_r gets the gradient of the replicated y."""

    def forward(self, x, group):
        self.group = group
        _record("all_reduce", x)
        return backend.from_numpy(all_reduce_array(group, host_copy(x)), self.output_device)

    def backward(self, grad):
        return CopyToParallelRegion.apply(grad, group=self.group)


class ScatterToParallelRegion(Function):
    """y = this rank's slice of the last axis of x; backward: all-gather the slices."""

    def forward(self, x, group):
        self.group = group
        size, me = group.Get_size(), group.Get_rank()
        width = x.shape[-1] // size
        return x[..., me * width:(me + 1) * width]

    def backward(self, grad):
        return GatherFromParallelRegion.apply(grad, group=self.group)


class GatherFromParallelRegion(Function):
    """y = concat of the ranks' x_r along the last axis; backward: this rank's slice."""

    def forward(self, x, group):
        self.group = group
        _record("all_gather", x)
        return backend.from_numpy(all_gather_array(group, host_copy(x), axis=x.ndim - 1),
                                  self.output_device)

    def backward(self, grad):
        return ScatterToParallelRegion.apply(grad, group=self.group)


def _shard(name, features, size):
    if features % size:
        raise ShapeError(f"{name}: {features} features do not split over {size} ranks")
    return features // size


def _parameter_slice(tensor, index):
    """A new Parameter holding a copy of tensor[index] (on the tensor's device)."""
    host = backend.to_numpy(tensor.data)[index].copy()
    return Parameter(Tensor(backend.from_numpy(host, tensor.device), dtype=host.dtype))


class ColumnParallelLinear(Module):
    """y = x W^T + b with W split by rows (output features) over the ranks.

    x: (..., in_features) (the same on every rank) -> y_r: (..., out_features / N), or the
    whole y (..., out_features) with gather_output=True.
    """

    def __init__(self, in_features, out_features, bias=True, gather_output=False, group=None,
                 seed=None, generator=None, dtype=None, device=None):
        full = Linear(in_features, out_features, bias, seed=seed, generator=generator,
                      dtype=dtype, device=device)
        self._init_from(full, gather_output, group)

    @classmethod
    def from_linear(cls, linear_layer, gather_output=False, group=None):
        """This rank's part of an existing nn.Linear (the same on every rank)."""
        layer = cls.__new__(cls)
        layer._init_from(linear_layer, gather_output, group)
        return layer

    def _init_from(self, full, gather_output, group):
        super().__init__()
        comm = group_or_world(group)
        object.__setattr__(self, "group", comm)
        self.in_features, self.out_features = full.in_features, full.out_features
        self.gather_output = gather_output
        width = _shard("ColumnParallelLinear", full.out_features, comm.Get_size())
        rows = slice(comm.Get_rank() * width, (comm.Get_rank() + 1) * width)
        self.weight = _parameter_slice(full.weight, rows)
        if full.bias is not None:
            self.bias = _parameter_slice(full.bias, rows)
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        y = linear(CopyToParallelRegion.apply(x, group=self.group), self.weight, self.bias)
        return GatherFromParallelRegion.apply(y, group=self.group) if self.gather_output else y


class RowParallelLinear(Module):
    """y = sum_r x_r W_r^T + b with W split by columns (input features) over the ranks.

    x: (..., in_features / N), this rank's slice (input_is_parallel=True, what a
    ColumnParallelLinear gives), or the whole (..., in_features) to be sliced here ->
    y: (..., out_features), the same on every rank. b is added once, after the sum.
    """

    def __init__(self, in_features, out_features, bias=True, input_is_parallel=True,
                 group=None, seed=None, generator=None, dtype=None, device=None):
        full = Linear(in_features, out_features, bias, seed=seed, generator=generator,
                      dtype=dtype, device=device)
        self._init_from(full, input_is_parallel, group)

    @classmethod
    def from_linear(cls, linear_layer, input_is_parallel=True, group=None):
        layer = cls.__new__(cls)
        layer._init_from(linear_layer, input_is_parallel, group)
        return layer

    def _init_from(self, full, input_is_parallel, group):
        super().__init__()
        comm = group_or_world(group)
        object.__setattr__(self, "group", comm)
        self.in_features, self.out_features = full.in_features, full.out_features
        self.input_is_parallel = input_is_parallel
        width = _shard("RowParallelLinear", full.in_features, comm.Get_size())
        columns = slice(comm.Get_rank() * width, (comm.Get_rank() + 1) * width)
        self.weight = _parameter_slice(full.weight, (slice(None), columns))
        if full.bias is not None:
            self.bias = _parameter_slice(full.bias, slice(None))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        if not self.input_is_parallel:
            x = ScatterToParallelRegion.apply(x, group=self.group)
        y = ReduceFromParallelRegion.apply(linear(x, self.weight), group=self.group)
        return y if self.bias is None else y + self.bias


class TensorParallelMLP(Module):
    """y = gelu(x A^T + a) B^T + b, A column parallel and B row parallel: one all-reduce in
    forward and one in backward. x, y: (..., embed_dim) on every rank."""

    def __init__(self, embed_dim, hidden_dim, group=None, seed=None, dtype=None, device=None):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.fc1 = ColumnParallelLinear(embed_dim, hidden_dim, group=group, generator=rng,
                                        dtype=dtype, device=device)
        self.activation = GELU()
        self.fc2 = RowParallelLinear(hidden_dim, embed_dim, group=group, generator=rng,
                                     dtype=dtype, device=device)

    def forward(self, x):
        return self.fc2(self.activation(self.fc1(x)))


class TensorParallelMultiheadAttention(Module):
    """Multi-head self-attention with the heads split over the ranks.

    Rank r keeps the Q, K and V projection rows of its H / N heads (column parallel, packed
    as [W_q,r; W_k,r; W_v,r]: (3E / N, E)) and the matching E / N columns of the output
    projection (row parallel). x: (N_batch, L, E), batch first -> (N_batch, L, E), the same
    on every rank as nn.MultiheadAttention(E, H, batch_first=True)(x, x, x).
    """

    def __init__(self, embed_dim, num_heads, bias=True, group=None, seed=None, dtype=None,
                 device=None):
        full = MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True, seed=seed,
                                  dtype=dtype, device=device)
        self._init_from(full, group)

    @classmethod
    def from_module(cls, attention, group=None):
        """This rank's heads of an existing nn.MultiheadAttention (packed, batch_first)."""
        if not (attention.packed and attention.batch_first):
            raise ShapeError("TensorParallelMultiheadAttention.from_module: expects "
                             "a MultiheadAttention with kdim = vdim = embed_dim and "
                             "batch_first=True")
        layer = cls.__new__(cls)
        layer._init_from(attention, group)
        return layer

    def _init_from(self, full, group):
        super().__init__()
        comm = group_or_world(group)
        object.__setattr__(self, "group", comm)
        E, size, me = full.embed_dim, comm.Get_size(), comm.Get_rank()
        self.embed_dim = E
        self.num_heads = _shard("TensorParallelMultiheadAttention", full.num_heads, size)
        width = self.num_heads * full.head_dim  # E / N: this rank's heads, side by side
        mine = numpy.concatenate([numpy.arange(part * E + me * width, part * E + (me + 1) *
                                               width) for part in range(3)])  # its q, k, v
        self.in_proj_weight = _parameter_slice(full.in_proj_weight, mine)
        if full.in_proj_bias is not None:
            self.in_proj_bias = _parameter_slice(full.in_proj_bias, mine)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = RowParallelLinear.from_linear(full.out_proj, group=comm)

    def forward(self, x, is_causal=False):
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ShapeError(f"TensorParallelMultiheadAttention: expected x of shape (N, L, "
                             f"{self.embed_dim}), got {x.shape}")
        x = CopyToParallelRegion.apply(x, group=self.group)
        qkv = linear(x, self.in_proj_weight, self.in_proj_bias)  # (N, L, 3E / ranks)
        length = x.shape[1]
        allowed = (causal_mask(length, length, x.xp).reshape(1, 1, length, length)
                   if is_causal else None)
        heads = packed_self_attention(qkv, self.num_heads, allowed=allowed)  # (N, L, E / ranks)
        return self.out_proj(heads)

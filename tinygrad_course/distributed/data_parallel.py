"""Data parallelism: every rank holds the whole model and trains on its own part of the batch.

With a global batch of B examples split over N ranks (B / N each), the gradient of the mean
loss over the batch is the mean of the ranks' gradients:

    dL/dw = (1/B) sum_{i in batch} dl_i/dw = (1/N) sum_r [(N/B) sum_{i in shard r} dl_i/dw]

so if every rank starts from the same weights, computes the gradient of its shard's mean
loss and then all ranks average their gradients (one all-reduce), every rank takes the same
step as one process with batch B would. ``DistributedDataParallel`` does exactly that:

1. At construction it broadcasts rank 0's parameters and buffers to every rank.
2. Gradients are averaged in *buckets*: the parameters, in reverse order of registration
   (the last layers' gradients are ready first in backward), are grouped into flat buffers
   of about ``bucket_cap_mb`` megabytes; one all-reduce per bucket instead of one per
   tensor saves the per-message latency.
3. With ``overlap=True`` a bucket's non-blocking all-reduce (``Iallreduce``) starts as soon
   as all its gradients are ready, while backward goes on computing earlier layers'
   gradients; the last gradient waits for all of them. Buckets start in the same order on
   every rank (MPI requires that collectives are called in one order everywhere).

How "ready" is seen: during forward every parameter w is replaced, for the layers that read
it, by y = GradientReady(w), an identity op. The engine hands an op's output its gradient
only after adding up every use of it, so GradientReady's backward runs exactly once, with the
complete dL/dw. It copies that into its bucket and returns no gradient to w: the averaged
gradient is written to ``w.grad`` (added, so gradient accumulation over several backward
passes works) when every bucket is done, before ``loss.backward()`` returns.

Every parameter must receive a gradient in every backward pass (as PyTorch's default): if
some did not, the next forward raises DistributedError naming them, instead of training on
a half-synchronised model. Second derivatives through DDP are not supported.

``DistributedSampler`` gives each rank a disjoint shard of the dataset every epoch (the same
seeded permutation on every rank, rank r taking positions r, r + N, r + 2N, ...).
"""

import math
from collections import OrderedDict

import numpy

from .. import backend
from ..autograd import Function, is_grad_enabled
from ..nn.module import Module
from ..tensor import Tensor, constant
from .collectives import check_same_shape, host_copy
from .world import DistributedError, group_or_world, mpi


class GradientReady(Function):
    """y = w (identity). Backward runs once per backward pass with the complete dL/dw (every
    use of y added up) and hands it to the reducer instead of to w."""

    def forward(self, w, reducer, index):
        self.reducer, self.index = reducer, index
        return w

    def backward(self, grad):
        if is_grad_enabled():
            raise DistributedError("DistributedDataParallel: backward(create_graph=True) is not "
                                   "supported (gradients are averaged outside the graph)")
        self.reducer.gradient_ready(self.index, grad)
        return None


class _Bucket:
    """Parameters whose gradients travel together as one flat array."""

    def __init__(self, params, dtype):
        self.params, self.dtype = params, dtype
        self.offsets = numpy.cumsum([0] + [p.size for p in params])
        self.size = int(self.offsets[-1])


class _Reducer:
    """Collects gradients into buckets during backward and all-reduces them (see the module
    docstring). One round per forward pass."""

    def __init__(self, params, bucket_cap_mb, overlap, comm):
        self.params, self.overlap, self.comm = params, overlap, comm
        self.buckets, self.where = [], {}  # where[i] = (bucket index, position in bucket)
        cap = bucket_cap_mb * 2 ** 20
        current, nbytes = [], 0
        for i in reversed(range(len(params))):
            p = params[i]
            if current and (nbytes >= cap or p.dtype != current[0].dtype):
                self.buckets.append(_Bucket(current, current[0].dtype))
                current, nbytes = [], 0
            self.where[i] = (len(self.buckets), len(current))
            current.append(p)
            nbytes += p.size * p.dtype.itemsize
        self.buckets.append(_Bucket(current, current[0].dtype))
        self.active = False
        self.arrived = [False] * len(params)

    def start_round(self):
        if self.active and any(self.arrived):
            mpi().Request.Waitall(self.requests)  # the same buckets started on every rank
            missing = [i for i, got in enumerate(self.arrived) if not got]
            raise DistributedError(
                f"DistributedDataParallel: the last backward pass gave no gradient to "
                f"{len(missing)} parameter(s) (positions {missing[:10]} in "
                "module.parameters()); every parameter must take part in the loss, or the "
                "ranks' gradients cannot be averaged")
        self.active = True
        self.arrived = [False] * len(self.params)
        self.buffers = [numpy.zeros(b.size, dtype=b.dtype) for b in self.buckets]
        self.missing = [len(b.params) for b in self.buckets]
        self.next_bucket, self.requests = 0, []

    def gradient_ready(self, index, grad):
        if not self.active:
            raise DistributedError("DistributedDataParallel: a second backward pass through "
                                   "one forward; run forward again for every backward")
        b, k = self.where[index]
        bucket = self.buckets[b]
        self.buffers[b][bucket.offsets[k]:bucket.offsets[k + 1]] = \
            backend.to_numpy(grad.data).reshape(-1)
        self.arrived[index] = True
        self.missing[b] -= 1
        while self.next_bucket < len(self.buckets) and self.missing[self.next_bucket] == 0:
            if self.overlap:
                self.requests.append(self.comm.Iallreduce(mpi().IN_PLACE,
                                                          self.buffers[self.next_bucket],
                                                          op=mpi().SUM))
                mpi().Request.Testall(self.requests)  # lets MPI progress the earlier ones
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self._finish()

    def _finish(self):
        if self.overlap:
            mpi().Request.Waitall(self.requests)
        else:
            for buffer in self.buffers:
                self.comm.Allreduce(mpi().IN_PLACE, buffer, op=mpi().SUM)
        size = self.comm.Get_size()
        for bucket, buffer in zip(self.buckets, self.buffers):
            buffer /= size
            for k, p in enumerate(bucket.params):
                mean = buffer[bucket.offsets[k]:bucket.offsets[k + 1]].reshape(p.shape)
                mean = backend.from_numpy(mean, p.device)
                p.grad = (constant(mean, like=p) if p.grad is None else
                          constant(p.grad.data + mean, like=p))
        self.active = False
        self.requests = []


class DistributedDataParallel(Module):
    """Wrap ``module`` so that backward averages its gradients over the ranks of ``group``.

    module         the model (same architecture on every rank)
    bucket_cap_mb  bucket size in megabytes (PyTorch's name and default, 25)
    overlap        start each bucket's all-reduce during backward (True) or all of them
                   after the last gradient (False); the result is the same
    group          an mpi4py communicator (default COMM_WORLD)

    Use it as the model: ``loss = F.cross_entropy(ddp(x_shard), y_shard); loss.backward();
    optimizer.step()`` with an optimiser over ``ddp.parameters()``.
    """

    def __init__(self, module, bucket_cap_mb=25.0, overlap=True, group=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb}")
        self.module = module
        comm = group_or_world(group)
        object.__setattr__(self, "comm", comm)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise ValueError("DistributedDataParallel: the module has no parameter that "
                             "requires grad")
        self._broadcast_from_rank0(params + list(module.buffers()))
        object.__setattr__(self, "reducer", _Reducer(params, bucket_cap_mb, overlap, comm))
        object.__setattr__(self, "_index", {id(p): i for i, p in enumerate(params)})

    def _broadcast_from_rank0(self, tensors):
        """Every rank starts from rank 0's values (one broadcast per dtype)."""
        by_dtype = OrderedDict()
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            flat = numpy.concatenate([host_copy(t.data).reshape(-1) for t in group])
            check_same_shape(self.comm, "DistributedDataParallel (the model's parameters)",
                             flat.shape, dtype)
            self.comm.Bcast(flat, root=0)
            start = 0
            for t in group:
                t.data = backend.from_numpy(flat[start:start + t.size].reshape(t.shape).copy(),
                                            t.device)
                start += t.size

    @property
    def buckets(self):
        """The parameters of each bucket, in the order their all-reduces start."""
        return [b.params for b in self.reducer.buckets]

    def forward(self, *args, **kwargs):
        if not is_grad_enabled():
            return self.module(*args, **kwargs)
        self.reducer.start_round()
        swapped = []
        markers = {}
        for module in self.module.modules():
            for name, p in module._parameters.items():
                i = None if p is None else self._index.get(id(p))
                if i is None:
                    continue
                if i not in markers:
                    markers[i] = GradientReady.apply(p, reducer=self.reducer, index=i)
                object.__setattr__(module, name, markers[i])
                swapped.append((module, name, p))
        try:
            return self.module(*args, **kwargs)
        finally:
            for module, name, p in swapped:
                object.__setattr__(module, name, p)


class DistributedSampler:
    """Which examples rank ``rank`` of ``num_replicas`` uses in an epoch (PyTorch's names).

    Every rank draws the same permutation of 0..n-1 (seeded by ``seed + epoch``; call
    ``set_epoch`` before each epoch) and takes every N-th position starting at its rank, so
    the shards are disjoint and together cover the dataset. When N does not divide n the
    permutation is padded with its first entries (every rank gets ceil(n / N) examples), or
    with ``drop_last=True`` cut to floor(n / N) N.

    Taking positions r, r + N, ... also means that a rank's k-th batch of b examples and the
    other ranks' k-th batches together are positions k N b .. (k + 1) N b - 1 of the
    permutation: exactly the k-th batch of N b examples that one process would take.

    ``shard(dataset)`` is this rank's part as a dataset for DataLoader (without shuffle:
    the sampler already shuffled).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            comm = group_or_world(None)
            num_replicas = comm.Get_size() if num_replicas is None else num_replicas
            rank = comm.Get_rank() if rank is None else rank
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank {rank} is not in 0..{num_replicas - 1}")
        self.length = len(dataset)
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.epoch, self._cached = 0, (None, None)  # (epoch, its indices)
        if drop_last:
            self.num_samples = self.length // self.num_replicas
        else:
            self.num_samples = math.ceil(self.length / self.num_replicas)
        if self.num_samples == 0:
            raise ValueError(f"DistributedSampler: {self.length} examples cannot give each of "
                             f"{self.num_replicas} ranks one (drop_last={drop_last})")

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def indices(self):
        """This rank's example indices for the current epoch (a NumPy integer array)."""
        if self._cached[0] == self.epoch:
            return self._cached[1]
        n, total = self.length, self.num_samples * self.num_replicas
        if self.shuffle:
            order = numpy.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = numpy.arange(n)
        if total > n:
            order = numpy.resize(order, total)  # repeats the permutation from its start
        mine = order[self.rank:total:self.num_replicas]
        self._cached = (self.epoch, mine)
        return mine

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples

    def shard(self, dataset):
        """This rank's examples of ``dataset`` as a dataset (follows ``set_epoch``)."""
        return _Shard(dataset, self)


class _Shard:
    """dataset[sampler.indices()[i]], the indices of the sampler's current epoch."""

    def __init__(self, dataset, sampler):
        self.dataset, self.sampler = dataset, sampler

    def __len__(self):
        return len(self.sampler)

    def __getitem__(self, index):
        batch = self.dataset[self.sampler.indices()[index]]
        return Tensor(batch) if isinstance(batch, numpy.ndarray) else batch

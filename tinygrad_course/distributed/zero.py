"""ZeRO stage 1: the optimizer's state split over the data-parallel ranks.

In data parallelism every rank holds the same parameters, gradients and optimizer state. The
state is the big one for Adam: two moments per weight, 2x the parameters' memory. Since
every rank computes the same update anyway, ZeRO-1 lets each rank keep the state of only
1/N of the weights:

    1. gradients are averaged over the ranks as in DDP (every rank has the mean gradient);
    2. all parameters are laid end to end in one flat vector of n numbers, padded to a
       multiple of N and cut into N equal shards; rank r runs the optimizer on shard r
       only (its moments exist only there);
    3. an all-gather of the updated shards gives every rank all the new parameters.

Optimizer memory per rank falls from S to S / N (plus padding); the step is the same for
optimizers that work weight by weight (SGD, Adam, AdamW: every formula in optim/ is
elementwise), so the parameters equal plain DDP's. The cost is one all-gather of the
parameters per step.
"""

import numpy

from .. import backend
from ..nn.module import Parameter
from ..tensor import Tensor
from .collectives import host_copy
from .world import DistributedError, group_or_world


class ZeroRedundancyOptimizer:
    """``optimizer_class(shard, **defaults)`` on this rank's shard of ``params`` (PyTorch's
    name and arguments). Use after the gradients are averaged (DistributedDataParallel).

    step()          update this rank's shard, then all-gather every rank's parameters
    zero_grad()     clear the parameters' gradients
    state_bytes()   bytes of optimizer state this rank holds
    """

    def __init__(self, params, optimizer_class, group=None, **defaults):
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("ZeroRedundancyOptimizer: got an empty parameter list")
        dtypes = {p.dtype for p in self.params}
        devices = {p.device for p in self.params}
        if len(dtypes) != 1 or len(devices) != 1:
            raise DistributedError(f"ZeroRedundancyOptimizer: the parameters must share one "
                                   f"dtype and device, got {sorted(map(str, dtypes))} on "
                                   f"{sorted(devices)}")
        self.comm = group_or_world(group)
        size, me = self.comm.Get_size(), self.comm.Get_rank()
        self.dtype, self.device = dtypes.pop(), devices.pop()
        self.offsets = numpy.cumsum([0] + [p.size for p in self.params])
        self.numel = int(self.offsets[-1])
        self.shard_size = -(-self.numel // size)  # ceil(n / N)
        self.start = me * self.shard_size
        flat = self._flat([p.data for p in self.params])
        self.shard = Parameter(Tensor(backend.from_numpy(
            flat[self.start:self.start + self.shard_size].copy(), self.device), dtype=self.dtype))
        self.optimizer = optimizer_class([self.shard], **defaults)

    def _flat(self, arrays):
        """The arrays end to end on the host, zero-padded to N shards."""
        flat = numpy.zeros(self.shard_size * self.comm.Get_size(), dtype=self.dtype)
        for k, array in enumerate(arrays):
            flat[self.offsets[k]:self.offsets[k + 1]] = host_copy(array).reshape(-1)
        return flat

    @property
    def param_groups(self):
        """The shard optimizer's groups (a scheduler changes lr here)."""
        return self.optimizer.param_groups

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        missing = [k for k, p in enumerate(self.params) if p.grad is None]
        if missing:
            raise DistributedError(f"ZeroRedundancyOptimizer.step: parameters {missing[:10]} "
                                   "have no gradient; every rank must update every shard")
        flat_grad = self._flat([p.grad.data for p in self.params])
        shard_grad = flat_grad[self.start:self.start + self.shard_size].copy()
        self.shard.grad = Tensor(backend.from_numpy(shard_grad, self.device), dtype=self.dtype)
        self.optimizer.step()
        gathered = numpy.empty(self.shard_size * self.comm.Get_size(), dtype=self.dtype)
        self.comm.Allgather(host_copy(self.shard.data), gathered)
        for k, p in enumerate(self.params):
            new = gathered[self.offsets[k]:self.offsets[k + 1]].reshape(p.shape).copy()
            p.data = backend.from_numpy(new, self.device)

    def state_bytes(self):
        """Bytes of the optimizer state on this rank (its shard's moments and buffers)."""
        return optimizer_state_bytes(self.optimizer)


def optimizer_state_bytes(optimizer):
    """Bytes of every array an optimizer keeps in its state (momentum, Adam's moments)."""
    return sum(int(value.nbytes) for state in optimizer.state.values()
               for value in state.values() if backend.is_device_array(value))

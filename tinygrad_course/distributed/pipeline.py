"""Pipeline parallelism: a model cut into p consecutive stages, one per rank.

Stage s computes h_s = f_s(h_{s-1}) and sends h_s to stage s + 1; in backward it receives
dL/dh_s from stage s + 1, backpropagates through f_s and sends dL/dh_{s-1} back to stage
s - 1. Only activations and their gradients cross the ranks (``send``/``recv`` on host
buffers; sends are non-blocking so two neighbours sending to each other never deadlock).

A batch of one piece would keep all but one stage idle. Cut into m micro-batches, the
stages work on different micro-batches at once. The loss is the mean of the micro-batches'
mean losses (the whole batch's mean loss for equal micro-batches), and the parameters'
gradients add up over the micro-batches, so one step gives the gradient of the unsplit
model on the whole batch.

Schedules (F_i / B_i = forward / backward of micro-batch i on one stage):

    gpipe   all m forwards, then all m backwards. With equal work per stage, each stage is
            idle for p - 1 of the m + p - 1 slots of each phase: the bubble fraction
            (p - 1) / (m + p - 1). A stage holds the activations of all m micro-batches.
    1f1b    stage s first runs p - s - 1 forwards (warm-up), then alternates one forward
            and one backward, then drains the backwards. The same bubble, but stage s
            never holds more than p - s micro-batches' activations (the memory saving).

``Pipeline.step`` measures, per stage, the time spent waiting to receive (idle) against
the step's wall time, and the most micro-batches whose activations were held at once.
"""

import time
from dataclasses import dataclass

import numpy

from .. import backend
from ..nn.module import Module
from ..tensor import Tensor
from .collectives import host_copy
from .world import DistributedError, group_or_world

SCHEDULES = ("gpipe", "1f1b")
_HEADER, _ACTIVATION, _GRADIENT = 20, 21, 22  # message tags
_HEADER_SIZE = 10  # ndim, dtype, up to 8 axes
_POLL_SECONDS = 2e-4  # how often a waiting stage checks for its message


@dataclass
class PipelineStats:
    """One step of one stage: the loss (last stage only, else None), seconds spent waiting
    for messages, the step's wall time, and the most micro-batches held at once."""

    loss: float
    idle_seconds: float
    total_seconds: float
    peak_activations: int

    @property
    def idle_fraction(self):
        return self.idle_seconds / self.total_seconds if self.total_seconds else 0.0


class Pipeline:
    """Run ``stage`` (this rank's consecutive part of the model) in a pipeline over the ranks
    of ``group``: rank s of the group is stage s.

    step(num_micro_batches, inputs=None, targets=None, loss_fn=None, schedule="gpipe")
        inputs   the m micro-batches (first stage only)
        targets  the m targets, and loss_fn(output, target) -> scalar (last stage only)
    Gradients are added into the stage's parameters' .grad (zero them between steps).
    """

    def __init__(self, stage, group=None):
        if not isinstance(stage, Module):
            raise TypeError(f"Pipeline: a stage must be a Module, got {type(stage).__name__}")
        self.stage = stage
        self.comm = group_or_world(group)
        self.index, self.num_stages = self.comm.Get_rank(), self.comm.Get_size()
        self.is_first, self.is_last = self.index == 0, self.index == self.num_stages - 1

    # ----- messages ---------------------------------------------------------------------------
    def _wait(self, request):
        """Wait for ``request`` without spinning a core (polling with short sleeps), so that
        more ranks than cores still leave the computing ranks their CPU; returns the seconds
        waited."""
        start = time.perf_counter()
        while not request.Test():
            time.sleep(_POLL_SECONDS)
        return time.perf_counter() - start

    def _send(self, array, dest, tag, with_header):
        host = host_copy(array)
        if with_header:
            header = numpy.zeros(_HEADER_SIZE, dtype=numpy.int64)
            header[0], header[1] = host.ndim, ord(host.dtype.char)
            header[2:2 + host.ndim] = host.shape
            self._pending.append((self.comm.Isend(header, dest=dest, tag=_HEADER), header))
        self._pending.append((self.comm.Isend(host, dest=dest, tag=tag), host))

    def _recv(self, source, tag, shape=None, dtype=None):
        if shape is None:
            header = numpy.empty(_HEADER_SIZE, dtype=numpy.int64)
            self.idle += self._wait(self.comm.Irecv(header, source=source, tag=_HEADER))
            shape, dtype = tuple(int(d) for d in header[2:2 + header[0]]), chr(header[1])
        host = numpy.empty(shape, dtype=dtype)
        self.idle += self._wait(self.comm.Irecv(host, source=source, tag=tag))
        return host

    # ----- one micro-batch ------------------------------------------------------------------
    def _forward(self, i):
        if self.is_first:
            x = self._inputs[i]
        else:
            host = self._recv(self.index - 1, _ACTIVATION)
            x = Tensor(backend.from_numpy(host, self._device), requires_grad=True,
                       dtype=host.dtype)
        out = self.stage(x)
        if self.is_last:
            out = self._loss_fn(out, self._targets[i]) / self._m
            self._loss += float(out.item())
        else:
            self._send(out.data, self.index + 1, _ACTIVATION, with_header=True)
        self._held[i] = (x, out)
        self.peak = max(self.peak, len(self._held))

    def _backward(self, i):
        x, out = self._held.pop(i)
        if self.is_last:
            out.backward()
        else:
            grad = self._recv(self.index + 1, _GRADIENT, out.shape, out.dtype)
            out.backward(Tensor(backend.from_numpy(grad, out.device), dtype=grad.dtype))
        if not self.is_first:
            self._send(x.grad.data, self.index - 1, _GRADIENT, with_header=False)

    # ----- a step ---------------------------------------------------------------------------
    def step(self, num_micro_batches, inputs=None, targets=None, loss_fn=None,
             schedule="gpipe"):
        m = int(num_micro_batches)
        if schedule not in SCHEDULES:
            raise ValueError(f"Pipeline.step: schedule must be one of {SCHEDULES}, got "
                             f"{schedule!r}")
        if m < 1:
            raise ValueError(f"Pipeline.step: num_micro_batches must be >= 1, got {m}")
        if self.is_first and (inputs is None or len(inputs) != m):
            raise DistributedError(f"Pipeline.step: the first stage needs {m} input "
                                   "micro-batches")
        if self.is_last and (targets is None or len(targets) != m or loss_fn is None):
            raise DistributedError(f"Pipeline.step: the last stage needs {m} targets and a "
                                   "loss_fn")
        self._inputs, self._targets, self._loss_fn, self._m = inputs, targets, loss_fn, m
        self._device = next(iter(self.stage.parameters())).device
        self._held, self._pending = {}, []
        self._loss, self.idle, self.peak = 0.0, 0.0, 0
        start = time.perf_counter()
        if schedule == "gpipe":
            for i in range(m):
                self._forward(i)
            for i in range(m):
                self._backward(i)
        else:
            warmup = min(self.num_stages - self.index - 1, m)
            for i in range(warmup):
                self._forward(i)
            for i in range(m - warmup):
                self._forward(warmup + i)
                self._backward(i)
            for i in range(m - warmup, m):
                self._backward(i)
        for request, _ in self._pending:
            self.idle += self._wait(request)
        total = time.perf_counter() - start
        self._inputs = self._targets = self._loss_fn = None
        self._pending = []
        return PipelineStats(self._loss if self.is_last else None, self.idle, total, self.peak)


def bubble_fraction(num_stages, num_micro_batches):
    """The idle fraction of the GPipe schedule with equal stages: (p - 1) / (m + p - 1)."""
    return (num_stages - 1) / (num_micro_batches + num_stages - 1)


def split_stages(layers, num_stages):
    """Cut a list of layers into ``num_stages`` consecutive runs of nearly equal length."""
    layers = list(layers)
    if not 1 <= num_stages <= len(layers):
        raise ValueError(f"split_stages: cannot cut {len(layers)} layers into {num_stages} "
                         "stages")
    bounds = numpy.linspace(0, len(layers), num_stages + 1).round().astype(int)
    return [layers[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

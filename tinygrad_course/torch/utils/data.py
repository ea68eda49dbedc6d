"""torch.utils.data: PyTorch's map-style datasets and its DataLoader.

A Dataset gives one example per index (``dataset[i]``); the DataLoader takes
``batch_size`` indices at a time (shuffled each epoch when asked, from the default
generator that torch.manual_seed seeds) and collates the examples as PyTorch's
default_collate does: tensors and arrays stacked along a new first axis, Python ints and
floats made int64 and float64 tensors, tuples, lists and dicts collated item by item. A
TensorDataset is cut with one fancy index per tensor instead of a Python loop.
"""

import math
import numbers

import numpy

from ... import random as core_random
from ...errors import ArgumentError, DTypeError, ShapeError
from ...ops import movement
from ...tensor import Tensor as CoreTensor
from .._tensor import Tensor, core_of, unwrap, wrap


class Dataset:
    """Subclass it with __len__ and __getitem__(i) -> one example."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Tensors sharing their first axis: example i is (t[i] for t in tensors)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ArgumentError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(wrap(core_of(t, "TensorDataset")) for t in tensors)
        lengths = {t.shape[0] if t.dim() else None for t in self.tensors}
        if None in lengths or len(lengths) != 1:
            raise ShapeError(f"TensorDataset: every tensor needs the same first axis, got "
                             f"shapes {[tuple(t.shape) for t in self.tensors]}")

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (list, numpy.ndarray)):
            return self.dataset[numpy.asarray(self.indices)[index]]
        return self.dataset[self.indices[index]]


def random_split(dataset, lengths, generator=None):
    """Disjoint random Subsets of the given lengths (or fractions adding up to 1, the
    remainder handed out one by one from the first), as PyTorch's random_split."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(f, float) and 0 <= f <= 1 for f in lengths) and \
            math.isclose(sum(lengths), 1.0):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ArgumentError(f"random_split: the lengths {lengths} do not add up to the "
                            f"dataset's length {n}")
    rng = generator if generator is not None else core_random.default_generator()
    order = rng.permutation(n).tolist()
    bounds = numpy.cumsum([0] + lengths)
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]


def default_collate(batch):
    """A list of examples -> one batch (see the module docstring)."""
    first = batch[0]
    if isinstance(first, (Tensor, CoreTensor)):
        return wrap(movement.stack(unwrap(list(batch)), axis=0))
    if isinstance(first, numpy.ndarray):
        stacked = numpy.stack(batch)
        return wrap(CoreTensor(stacked, dtype=stacked.dtype))
    if isinstance(first, (bool, numpy.bool_)):
        return wrap(CoreTensor(numpy.array(batch, dtype=numpy.bool_)))
    if isinstance(first, numbers.Integral):
        return wrap(CoreTensor(numpy.array(batch, dtype=numpy.int64)))
    if isinstance(first, numbers.Real):
        return wrap(CoreTensor(numpy.array(batch, dtype=numpy.float64), dtype=numpy.float64))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([example[key] for example in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if len({len(example) for example in batch}) != 1:
            raise ShapeError("DataLoader: examples have different numbers of items")
        return [default_collate(list(items)) for items in zip(*batch)] if isinstance(
            first, list) else tuple(default_collate(list(items)) for items in zip(*batch))
    raise DTypeError(f"DataLoader: cannot collate examples of type {type(first).__name__}; "
                     "pass collate_fn=")


class DataLoader:
    """Batches of ``dataset``: DataLoader(dataset, batch_size=1, shuffle=False,
    drop_last=False, collate_fn=None, generator=None). ``num_workers`` and ``pin_memory``
    are accepted and ignored (one process)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, num_workers=0, pin_memory=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or \
                batch_size < 1:
            raise ArgumentError(f"DataLoader: batch_size must be a positive int, got "
                                f"{batch_size!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise DTypeError(f"DataLoader: the dataset needs __len__ and __getitem__, got "
                             f"{type(dataset).__name__}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator = generator

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        rng = self.generator if self.generator is not None else core_random.default_generator()
        order = rng.permutation(n) if self.shuffle else numpy.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
                yield self.dataset[wrap(CoreTensor(indices))]
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])


__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split",
           "default_collate"]

"""Feeding data to a training loop: minibatches, and a seeded train/test split.

One pass over the training set is an epoch; it is cut into minibatches of B examples, and
each step of minibatch SGD uses the gradient averaged over one of them. Shuffling the order
every epoch keeps the batches from being the same every time; a seed keeps runs repeatable.

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for epoch in range(epochs):
        for xb, yb in loader:          # Tensors on the default device
            ...

A batch is taken with one fancy-indexing operation (``X[indices]``), never a Python loop
over its examples.
"""

import numbers

import numpy

from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor, host_array


class TensorDataset:
    """Arrays (or Tensors) that share their first axis: example i is (a[i] for a in arrays).

    Stored once as Tensors on ``device`` (floats as float32, integers kept), so batches are
    cut on the device without copying the whole set again.
    """

    def __init__(self, *arrays, device=None):
        if not arrays:
            raise ArgumentError("TensorDataset: needs at least one array")
        self.tensors = tuple(a if isinstance(a, Tensor)
                             else Tensor(host_array(a, "TensorDataset"), device=device)
                             for a in arrays)
        lengths = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in lengths or len(set(lengths)) != 1:
            raise ShapeError(f"TensorDataset: every array needs the same first axis, got shapes "
                             f"{[t.shape for t in self.tensors]}")

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        """Examples at ``index`` (an int, a slice or an integer array), one Tensor per array."""
        return tuple(t[index].detach() for t in self.tensors)


def _is_dataset(dataset):
    """Whether batches can be cut from ``dataset`` with one fancy index (a list cannot:
    list[array] raises, and a list of examples would need a Python loop per batch)."""
    if isinstance(dataset, (TensorDataset, Tensor, numpy.ndarray)):
        return True
    return (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")
            and not isinstance(dataset, (list, tuple, str, bytes, dict)))


class DataLoader:
    """Minibatches of a dataset, in order or shuffled.

    dataset     anything with len() and dataset[integer array] -> batch (TensorDataset, a
                Tensor or a NumPy array)
    batch_size  examples per batch; the last batch is smaller unless drop_last=True
    shuffle     a new random order every epoch (every ``for`` over the loader)
    seed / generator   where the random order comes from (numpy.random.Generator); the
                sequence of epochs is the same for the same seed
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 generator=None):
        if not _is_dataset(dataset):
            raise DTypeError(f"DataLoader: dataset must be a TensorDataset, a Tensor or a NumPy "
                             f"array (anything with len() and dataset[integer array]), got "
                             f"{type(dataset).__name__}; wrap lists as TensorDataset(X, y)")
        whole = isinstance(batch_size, numbers.Integral) or (isinstance(batch_size, float)
                                                             and batch_size.is_integer())
        if isinstance(batch_size, bool) or not whole or batch_size < 1:
            raise ArgumentError(f"DataLoader: batch_size must be a positive integer, got "
                                f"{batch_size!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.generator = generator if generator is not None else numpy.random.default_rng(seed)

    def __len__(self):
        """Batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else numpy.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            batch = self.dataset[indices]
            if isinstance(self.dataset, numpy.ndarray):
                batch = Tensor(batch)
            yield batch


def train_test_split(*arrays, test_fraction=0.25, seed=0):
    """Shuffle the examples (seeded) and split every array the same way.

    Returns train_a, test_a, train_b, test_b, ... (the order of scikit-learn's function).
    The test part has round(test_fraction * n) examples.
    """
    if not arrays:
        raise ArgumentError("train_test_split: needs at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ShapeError(f"train_test_split: arrays of different lengths "
                         f"{[len(a) for a in arrays]}")
    if not 0.0 < test_fraction < 1.0:
        raise ArgumentError(f"train_test_split: test_fraction must be in (0, 1), got "
                         f"{test_fraction}")
    n_test = int(round(test_fraction * n))
    order = numpy.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    out = []
    for a in arrays:
        out.extend([a[train], a[test]])
    return out

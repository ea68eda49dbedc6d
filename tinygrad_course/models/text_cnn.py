"""Text classification two ways: a convolutional network over word vectors, and a bag of words.

TextCNN (Kim, 2014): every filter of width K is a detector of one K-word pattern ("not
good"), slid over the sentence; max-over-time pooling keeps the strongest match anywhere in
the sentence, so the features say WHICH patterns occur, in any position:

    E = embed(ids)                              (N, L, D) -> transposed to (N, D, L)
    F_K = relu(Conv1d_K(E))                     (N, filters, L - K + 1)  for each width K
    f = [max_over_time(F_K) for each K]         (N, filters * number of widths)
    logits = W dropout(f) + b

It uses word order inside each window of K words, and nothing beyond it.

BagOfWords: the count of every vocabulary word (order thrown away), then an MLP. Whatever
depends only on which words occur, and how often, it can learn; word order it cannot see.

ids: (N, L) integers, 0 = padding; lengths: (N,) real words per sentence (None: no padding).
"""

import numpy

from ..errors import ShapeError
from ..nn import Conv1d, Dropout, Embedding, Linear, Module, ModuleList, ReLU, Sequential
from ..ops.conv import max_over_time
from ..ops.movement import concatenate
from ..tensor import Tensor, tensor


def _ids_and_lengths(ids, lengths, device, name):
    ids = ids if isinstance(ids, Tensor) else tensor(numpy.asarray(ids), device=device)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ShapeError(f"{name}: expected integer ids of shape (N, L), got {ids.dtype} of "
                         f"shape {ids.shape}")
    if lengths is None:
        lengths = numpy.full(ids.shape[0], ids.shape[1])
    lengths = lengths.numpy() if isinstance(lengths, Tensor) else numpy.asarray(lengths)
    return ids, lengths


class TextCNN(Module):
    """TextCNN(vocab_size, num_classes, embed_dim=32, num_filters=16, kernel_sizes=(2, 3),
    dropout=0.0, padding_idx=0, seed=0); forward(ids, lengths=None) -> logits (N, classes)."""

    def __init__(self, vocab_size, num_classes, embed_dim=32, num_filters=16,
                 kernel_sizes=(2, 3), dropout=0.0, padding_idx=0, seed=0):
        super().__init__()
        self.kernel_sizes = tuple(kernel_sizes)
        self.embedding = Embedding(vocab_size, embed_dim, padding_idx=padding_idx, seed=seed)
        self.convs = ModuleList([Conv1d(embed_dim, num_filters, k, seed=seed + 1 + i)
                                 for i, k in enumerate(self.kernel_sizes)])
        self.dropout = Dropout(dropout, seed=seed)
        self.classifier = Linear(num_filters * len(self.kernel_sizes), num_classes,
                                 seed=seed + 99)

    def features(self, ids, lengths=None):
        """The max-over-time pattern scores f: (N, num_filters * len(kernel_sizes))."""
        ids, lengths = _ids_and_lengths(ids, lengths, self.embedding.weight.device, "TextCNN")
        if ids.shape[1] < max(self.kernel_sizes):
            raise ShapeError(f"TextCNN: sentences of {ids.shape[1]} words are shorter than the "
                             f"widest filter ({max(self.kernel_sizes)})")
        words = self.embedding(ids).transpose(0, 2, 1)  # (N, D, L): embedding dims = channels
        pooled = []
        for width, conv in zip(self.kernel_sizes, self.convs):
            matches = conv(words).relu()  # (N, filters, L - width + 1)
            windows = numpy.maximum(lengths - width + 1, 1)  # windows inside each sentence
            pooled.append(max_over_time(matches, windows))
        return concatenate(pooled, axis=1)

    def forward(self, ids, lengths=None):
        return self.classifier(self.dropout(self.features(ids, lengths)))


class BagOfWords(Module):
    """BagOfWords(vocab_size, num_classes, hidden_size=32, padding_idx=0, seed=0):
    counts (N, vocab_size) of each word, padding not counted -> MLP -> logits (N, classes)."""

    def __init__(self, vocab_size, num_classes, hidden_size=32, padding_idx=0, seed=0):
        super().__init__()
        self.vocab_size, self.padding_idx = vocab_size, padding_idx
        self.mlp = Sequential(Linear(vocab_size, hidden_size, seed=seed), ReLU(),
                              Linear(hidden_size, num_classes, seed=seed + 1))

    def counts(self, ids):
        """counts[n, w] = how many times word w occurs in sentence n (the order is gone)."""
        ids, _ = _ids_and_lengths(ids, None, self.mlp[0].weight.device, "BagOfWords")
        host = ids.numpy()
        counts = numpy.zeros((host.shape[0], self.vocab_size), dtype=numpy.float32)
        numpy.add.at(counts, (numpy.arange(host.shape[0])[:, None], host), 1.0)
        if self.padding_idx is not None:
            counts[:, self.padding_idx] = 0.0
        return tensor(counts, device=ids.device)

    def forward(self, ids, lengths=None):
        return self.mlp(self.counts(ids))

"""Linear-chain conditional random field: a distribution over whole tag sequences.

A tagger that picks each tag on its own (a softmax per token) cannot say "an I-tag never
follows an O-tag" or "two proper nouns in a row are common". A linear-chain CRF (Lafferty et
al. 2001) scores a whole sequence y_1 .. y_T of K tags from per-token emission scores
e_t (K,) (the tagger's outputs) and learned transition scores A (K, K):

    s(y) = start[y_1] + sum_t e_t[y_t] + sum_{t>1} A[y_{t-1}, y_t] + end[y_T]
    P(y | x) = exp(s(y)) / Z,        Z = sum over all K^T sequences y' of exp(s(y'))

Training minimises the negative log-likelihood log Z - s(y_gold). Z has K^T terms, but the
forward algorithm sums them in O(T K^2) by dynamic programming, in log space so nothing
overflows:

    alpha_1[j] = start[j] + e_1[j]
    alpha_t[j] = logsumexp_i (alpha_{t-1}[i] + A[i, j]) + e_t[j]
    log Z      = logsumexp_j (alpha_T[j] + end[j])

alpha_t[j] is the log of the summed exp-scores of all prefixes ending in tag j at step t. The
gradient of log Z is the expected count of each emission and transition under P (the
marginals), which autograd gets by differentiating the recursion: no backward pass to write.
Viterbi decoding is the same recursion with max in place of logsumexp, plus back-pointers:
the best sequence in O(T K^2) instead of K^T.

Padding: sequences of a batch have different lengths; at padded steps (mask 0) alpha is
carried over unchanged and no score is added, so a padded sequence has exactly the score and
partition function of the unpadded one.

Shapes: emissions (B, T, K) float, tags (B, T) int, mask (B, T) bool with mask[:, 0] all True
and every row a run of Trues followed by Falses.
"""

import numpy

from ..errors import ShapeError
from ..nn import Module, Parameter, init
from ..tensor import Tensor, tensor, zeros


def _check(op, emissions, num_tags, tags=None, mask=None):
    """(mask as a host bool (B, T) array, tags as a host int64 array or None), or an error."""
    if not isinstance(emissions, Tensor) or emissions.ndim != 3 or \
            emissions.shape[2] != num_tags or emissions.shape[1] < 1:
        raise ShapeError(f"{op}: emissions must be a Tensor (B, T >= 1, {num_tags}), got "
                         f"{getattr(emissions, 'shape', type(emissions).__name__)}")
    batch, steps = emissions.shape[:2]
    if mask is None:
        mask = numpy.ones((batch, steps), dtype=bool)
    mask = numpy.asarray(mask.numpy() if isinstance(mask, Tensor) else mask).astype(bool)
    if mask.shape != (batch, steps):
        raise ShapeError(f"{op}: mask must be (B, T) = {(batch, steps)}, got {mask.shape}")
    if not mask[:, 0].all():
        raise ShapeError(f"{op}: every sequence needs at least one step (mask[:, 0] all True)")
    if (mask[:, 1:] & ~mask[:, :-1]).any():
        raise ShapeError(f"{op}: mask rows must be a run of Trues then Falses (right padding)")
    if tags is not None:
        tags = numpy.asarray(tags.numpy() if isinstance(tags, Tensor) else tags)
        if tags.shape != (batch, steps) or tags.dtype.kind not in "iu":
            raise ShapeError(f"{op}: tags must be integers (B, T) = {(batch, steps)}, got "
                             f"{tags.dtype} {tags.shape}")
        used = tags[mask]
        if used.size and (used.min() < 0 or used.max() >= num_tags):
            raise ShapeError(f"{op}: tags must be in [0, {num_tags}), got {used.min()} to "
                             f"{used.max()}")
        tags = numpy.where(mask, tags, 0).astype(numpy.int64)
    return mask, tags


def log_partition(emissions, transitions, start, end, mask=None):
    """log Z of each sequence by the forward algorithm (module docstring); (B,).

    emissions (B, T, K), transitions (K, K), start (K,), end (K,): Tensors; mask (B, T) bool.
    """
    k = transitions.shape[0]
    mask, _ = _check("crf.log_partition", emissions, k, mask=mask)
    alpha = start + emissions[:, 0]                                               # (B, K)
    for t in range(1, emissions.shape[1]):
        # (B, K, 1) + (K, K): every previous tag i to every next tag j, summed over i
        step = (alpha.reshape(-1, k, 1) + transitions).logsumexp(axis=1) + emissions[:, t]
        alpha = step.where(tensor(mask[:, t:t + 1], device=alpha.device), alpha)
    return (alpha + end).logsumexp(axis=1)


def path_score(emissions, tags, transitions, start, end, mask=None):
    """s(y) of the tag sequences ``tags`` (B, T) (module docstring); (B,)."""
    mask, tags = _check("crf.path_score", emissions, transitions.shape[0], tags, mask)
    batch, steps = tags.shape
    device = emissions.device
    flat = emissions.reshape(batch * steps, -1)
    weights = tensor(mask, device=device).astype(emissions.dtype)
    emitted = flat[tensor(numpy.arange(batch * steps), device=device),
                   tensor(tags.reshape(-1), device=device)].reshape(batch, steps)
    moved = transitions[tensor(tags[:, :-1], device=device),
                        tensor(tags[:, 1:], device=device)]                       # (B, T-1)
    last = tags[numpy.arange(batch), mask.sum(axis=1) - 1]
    return ((emitted * weights).sum(axis=1) + (moved * weights[:, 1:]).sum(axis=1)
            + start[tensor(tags[:, 0], device=device)] + end[tensor(last, device=device)])


def viterbi(emissions, transitions, start, end, mask=None):
    """The most probable tag sequence of each row, as lists of its real length.

    delta_t[j] = max_i (delta_{t-1}[i] + A[i, j]) + e_t[j], the argmax i kept as the
    back-pointer; the best last tag maximises delta_T + end, then the pointers are followed
    back. Runs on host float64 copies: decoding needs no gradient.
    """
    k = transitions.shape[0]
    mask, _ = _check("crf.viterbi", emissions, k, mask=mask)
    e = emissions.numpy().astype(numpy.float64)
    a = transitions.numpy().astype(numpy.float64)
    batch, steps, _ = e.shape
    delta = start.numpy().astype(numpy.float64) + e[:, 0]
    pointers = numpy.zeros((batch, steps, k), dtype=numpy.int64)
    for t in range(1, steps):
        candidates = delta[:, :, None] + a                                        # (B, K, K)
        pointers[:, t] = candidates.argmax(axis=1)
        delta = numpy.where(mask[:, t:t + 1], candidates.max(axis=1) + e[:, t], delta)
    delta = delta + end.numpy().astype(numpy.float64)
    paths = []
    for b, length in enumerate(mask.sum(axis=1)):
        best = [int(delta[b].argmax())]
        for t in range(length - 1, 0, -1):
            best.append(int(pointers[b, t, best[-1]]))
        paths.append(best[::-1])
    return paths


class LinearChainCRF(Module):
    """Transition scores over K tags, and the CRF computations with them.

    LinearChainCRF(num_tags, seed=None, device=None)
      transitions (K, K): transitions[i, j] scores tag i followed by tag j
      start (K,), end (K,): scores of the first and the last tag
    log_partition(emissions, mask) -> (B,) log Z            (forward algorithm)
    score(emissions, tags, mask)   -> (B,) s(y)             (the path's score)
    forward(emissions, tags, mask) -> () mean over the batch of log Z - s(y): the NLL
    decode(emissions, mask)        -> list of B tag lists    (Viterbi, on the host)
    """

    def __init__(self, num_tags, seed=None, device=None):
        super().__init__()
        if num_tags < 1:
            raise ShapeError(f"LinearChainCRF: num_tags must be >= 1, got {num_tags}")
        self.num_tags = num_tags
        rng = init.get_generator(seed, None)
        self.transitions = Parameter(zeros(num_tags, num_tags, device=device))
        self.start = Parameter(zeros(num_tags, device=device))
        self.end = Parameter(zeros(num_tags, device=device))
        for p in (self.transitions, self.start, self.end):  # small: emissions lead at first
            init.uniform_(p, -0.1, 0.1, generator=rng)

    def log_partition(self, emissions, mask=None):
        return log_partition(emissions, self.transitions, self.start, self.end, mask)

    def score(self, emissions, tags, mask=None):
        return path_score(emissions, tags, self.transitions, self.start, self.end, mask)

    def forward(self, emissions, tags, mask=None):
        """Mean negative log-likelihood -log P(tags | x) over the batch; a scalar."""
        return (self.log_partition(emissions, mask) - self.score(emissions, tags, mask)).mean()

    def decode(self, emissions, mask=None):
        return viterbi(emissions, self.transitions, self.start, self.end, mask)

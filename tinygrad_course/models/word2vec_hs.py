"""word2vec with hierarchical softmax: the target word as a path of binary decisions in a tree.

Negative sampling (models/word2vec.py) replaces the softmax over V words by K + 1 logistic
questions against random noise words. Hierarchical softmax (Morin and Bengio 2005; Mikolov
et al. 2013) keeps a true distribution over all V words, at O(log V) cost: the words are the
leaves of a binary tree, each of the V - 1 internal nodes n has an output vector u_n, and a
word's probability is the product of the left/right decisions on its path from the root:

    P(w | h) = prod_l sigma(y_l u_{n_l} . h),     y_l = +1 if the path goes left at n_l,
                                                        -1 if it goes right
    L(w, h)  = -log P(w | h) = sum_l softplus(-y_l s_l),   s_l = u_{n_l} . h

At every node sigma(s) + sigma(-s) = 1, so the leaf probabilities sum to 1 (the tests check
it). The tree is Huffman's over the word counts (merge the two least frequent nodes until one
remains), as in the C tool: frequent words get short paths, so the mean path length is the
entropy of the unigram distribution in bits (+ < 1), ~10 decisions for a 12k-word vocabulary.

Gradients, with t_l = (1 + y_l) / 2 (1 for left, 0 for right) and g_l = sigma(s_l) - t_l:

    dL/du_{n_l} = g_l h,     dL/dh = sum_l g_l u_{n_l}

the same shape as negative sampling's with the path's nodes for the K + 1 targets and t_l for
the labels (1, 0, ..., 0), so the minibatch step reuses Word2Vec's machinery: the same
per-row rates phi(T_r) (the root is on every path, the most frequent "row" of all), the same
scatter-add of repeated rows. Skip-gram and CBOW both work (``sg``).
"""

import heapq

import numpy

from .. import backend
from ..errors import ArgumentError
from ..nn import Embedding, init
from .word2vec import _SLICE, Word2Vec, _flow_factor, _softplus, add_weighted_rows


def huffman_tree(counts):
    """Huffman codes of the words with counts > 0.

    counts (V,) -> (points int (V, L), left float (V, L), lengths int (V,)): word w's path
    visits the internal nodes points[w, :lengths[w]] (root first; node ids 0..M-2 for M
    words with counts > 0), going left (left = 1) or right (0) at each; rows past the length,
    and words with count 0, are padding (point 0, left 0, length 0). Ties are broken by the
    order of creation, so the tree is the same on every run.
    """
    counts = numpy.asarray(counts)
    words = numpy.flatnonzero(counts > 0)
    if len(words) < 2:
        raise ArgumentError(f"huffman_tree: need at least 2 words with count > 0, got "
                            f"{len(words)}")
    heap = [(int(counts[w]), order, ("leaf", int(w))) for order, w in enumerate(words)]
    heapq.heapify(heap)
    parent, went_left = {}, {}
    order = len(heap)
    node = 0
    # Node ids are given as nodes are made; the root is made last and is renumbered 0 below.
    while len(heap) > 1:
        count_a, _, a = heapq.heappop(heap)
        count_b, _, b = heapq.heappop(heap)
        here = ("node", node)
        parent[a], went_left[a] = here, 1.0
        parent[b], went_left[b] = here, 0.0
        heapq.heappush(heap, (count_a + count_b, order, here))
        order += 1
        node += 1
    root = node - 1
    paths = {}
    for w in words.tolist():
        point, left, current = [], [], ("leaf", w)
        while current in parent:
            above = parent[current]
            point.append(root - above[1])  # root -> 0, the first merge -> M - 2
            left.append(went_left[current])
            current = above
        paths[w] = (point[::-1], left[::-1])
    depth = max(len(p) for p, _ in paths.values())
    points = numpy.zeros((len(counts), depth), dtype=numpy.int64)
    lefts = numpy.zeros((len(counts), depth), dtype=backend.DEFAULT_FLOAT)
    lengths = numpy.zeros(len(counts), dtype=numpy.int64)
    for w, (point, left) in paths.items():
        points[w, :len(point)], lefts[w, :len(left)], lengths[w] = point, left, len(point)
    return points, lefts, lengths


class Word2VecHS(Word2Vec):
    """Skip-gram or CBOW trained with hierarchical softmax (module docstring) instead of
    negative sampling. Same arguments as Word2Vec (``negative`` is not used); the output
    table ``out_embed.weight`` holds the M - 1 internal nodes' vectors (init 0).
    ``log_probabilities(hidden)`` gives log P(w | h) for every word (each row sums to 1)."""

    def __init__(self, vocab, embedding_dim=100, sg=True, window=5, sample=1e-3, seed=None,
                 device=None):
        super().__init__(vocab, embedding_dim, sg=sg, window=window, negative=1, sample=sample,
                         seed=seed, device=device, noise_table_size=16)
        points, left, lengths = huffman_tree(numpy.where(self.trained, vocab.counts, 0))
        self.out_embed = Embedding(int(self.trained.sum()) - 1, embedding_dim, device=device)
        init.zeros_(self.out_embed.weight)
        self.path_lengths = lengths
        mask = numpy.arange(points.shape[1])[None, :] < lengths[:, None]
        device = self.in_embed.weight.device
        self._points = backend.from_numpy(points, device)
        self._left = backend.from_numpy(left, device)
        self._mask = backend.from_numpy(mask.astype(backend.DEFAULT_FLOAT), device)

    def _with_noise(self, truth, rng):
        """No noise words: the target is the word itself, (n, 1); its path is looked up."""
        return truth.astype(numpy.int32)[:, None]

    def _path_scores(self, xp, hidden, words):
        """For words (b,) at hidden (b, d): nodes (b, L), scores s (b, L), t (b, L), mask."""
        nodes = xp.take(self._points, words, axis=0)
        context = xp.take(self.out_embed.weight.data, nodes, axis=0)           # (b, L, d)
        scores = xp.matmul(context, hidden[:, :, None])[:, :, 0]
        return nodes, context, scores, xp.take(self._left, words, axis=0), \
            xp.take(self._mask, words, axis=0)

    def _step(self, inputs, targets, input_mask, lr, row_rates=True):
        """One minibatch step (Word2Vec._step's contract) with the path's nodes as the
        targets: g_l = (sigma(s_l) - t_l) on the path, 0 on the padding."""
        xp = self.in_embed.weight.xp
        w_in, w_out = self.in_embed.weight.data, self.out_embed.weight.data
        dtype = w_in.dtype
        hidden, in_share, _ = self._hidden(xp, inputs, targets, input_mask)
        words = targets[:, 0]
        parts = []
        for s in range(0, words.shape[0], _SLICE):
            nodes, context, scores, left, mask = self._path_scores(xp, hidden[s:s + _SLICE],
                                                                   words[s:s + _SLICE])
            sigma = 0.5 * xp.tanh(0.5 * scores) + 0.5
            g = (sigma - left) * mask
            grad_hidden = xp.matmul(g[:, None, :], context)[:, 0]
            # -log sigma(y s) = softplus(-y s) = softplus(s) - t s
            loss = (mask * (_softplus(xp, scores) - left * scores)).sum()
            parts.append((nodes, sigma, g, grad_hidden, mask, loss))
        nodes, sigma, g, grad_hidden, mask = (
            parts[0][i] if len(parts) == 1 else xp.concatenate([p[i] for p in parts])
            for i in range(5))
        loss = sum(float(p[5]) for p in parts)
        hidden_sq = (hidden * hidden).sum(axis=1)
        out_sq = xp.einsum("vd,vd->v", w_out, w_out)
        out_weight = -lr * g
        in_weight = -lr * in_share
        if row_rates:  # Word2Vec._step's per-row rates, over the path's nodes
            curvature = sigma * (1.0 - sigma) * mask
            out_total = xp.bincount(nodes.reshape(-1), minlength=w_out.shape[0],
                                    weights=(curvature * hidden_sq[:, None]).reshape(-1))
            per_hidden = (curvature * xp.take(out_sq, nodes)).sum(axis=1)
            in_total = xp.bincount(inputs.reshape(-1), minlength=w_in.shape[0],
                                   weights=(in_share ** 2 * per_hidden[:, None]).reshape(-1))
            out_weight *= xp.take(_flow_factor(xp, lr * out_total).astype(dtype), nodes)
            in_weight *= xp.take(_flow_factor(xp, lr * in_total).astype(dtype), inputs)
        add_weighted_rows(xp, w_out, nodes, out_weight, hidden)
        add_weighted_rows(xp, w_in, inputs, in_weight, grad_hidden)
        return loss, float(xp.maximum(hidden_sq.max(), out_sq.max()))

    def evaluate_loss(self, ids, sentence_ids, max_examples=200_000, seed=12345):
        """Mean -log P(target | h) on a fixed draw of examples (as Word2Vec.evaluate_loss):
        a true log-likelihood here, not comparable with negative sampling's loss."""
        ids, sentence_ids = numpy.asarray(ids), numpy.asarray(sentence_ids)
        known = self.trained[ids]
        rng = numpy.random.default_rng(seed)
        inputs, mask, truth = self.examples(ids[known], sentence_ids[known], rng)
        pick = numpy.sort(rng.permutation(truth.size)[:max_examples])
        xp, device = self.in_embed.weight.xp, self.in_embed.weight.device
        total = 0.0
        for first in range(0, pick.size, _SLICE):
            rows = pick[first:first + _SLICE]
            part = [backend.from_numpy(inputs[rows], device),
                    backend.from_numpy(truth[rows].astype(numpy.int64)[:, None], device),
                    None if mask is None else backend.from_numpy(mask[rows], device)]
            hidden = self._hidden(xp, part[0], part[1], part[2])[0]
            _, _, scores, left, on_path = self._path_scores(xp, hidden, part[1][:, 0])
            total += float((on_path * (_softplus(xp, scores) - left * scores)).sum())
        return total / max(pick.size, 1)

    def log_probabilities(self, hidden):
        """log P(w | h) for every trained word w: hidden (B, d) host array -> (B, V) float64,
        -inf for words outside the tree."""
        hidden = numpy.asarray(hidden, dtype=numpy.float64)
        points = backend.to_numpy(self._points)
        left, mask = backend.to_numpy(self._left), backend.to_numpy(self._mask)
        scores = numpy.einsum("vld,bd->bvl", self.out_embed.weight.numpy()[points], hidden)
        log_sigma = -numpy.logaddexp(0.0, -(2.0 * left - 1.0) * scores)     # log sigma(y s)
        out = (log_sigma * mask).sum(axis=2)
        out[:, ~self.trained] = -numpy.inf
        return out

    def extra_repr(self):
        return super().extra_repr().replace(f", negative={self.negative}",
                                            ", hierarchical softmax")

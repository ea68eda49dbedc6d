"""word2vec: word vectors learned by predicting neighbours (Mikolov et al. 2013).

A word is known by the company it keeps: words that appear in the same contexts should get
nearby vectors. Each word w has two vectors, v_w (input, the word vectors we keep) and u_w
(output, "context" vectors). A hidden vector h is made from the input words and scored
against one true target word o and K noise words n_1..n_K:

    skip-gram   input: the centre word c           h = v_c            target: one context word
    CBOW        input: the context words of c      h = mean_j v_j     target: the centre word c

Negative sampling replaces the softmax over the whole vocabulary by K+1 logistic questions
("is this the true target?"):

    L = -log sigma(u_o . h) - sum_k log sigma(-u_{n_k} . h),     n_k ~ P_noise(w) ~ count(w)^0.75

With scores s_0 = u_o . h, s_k = u_{n_k} . h, labels y = (1, 0, ..., 0) and g = sigma(s) - y
(= dL/ds), the gradients are

    dL/du_t = g_t h                 for each of the K+1 targets t
    dL/dh   = sum_t g_t u_t         and dL/dv_j = dL/dh / (number of input words) for each input

(For CBOW the C tool and gensim add dL/dh to every context word without the 1/C; here the
gradient is the exact one, which the tests check against autograd. A CBOW learning rate about
twice skip-gram's makes up for most of the difference.)

Only K+2 rows of each table move per example (skip-gram), so training updates rows in place
instead of forming a dense (V, d) gradient. Two more tricks from the paper:

    subsampling   each occurrence of w is dropped with probability 1 - p_keep(w),
                  p_keep(w) = (sqrt(r) + 1) / r,  r = count(w) / (sample * total)   (the C tool's
                  and gensim's form of the paper's 1 - sqrt(t / f(w)))  -- frequent words
                  ("the", "and") are thinned, rare ones always kept.
    dynamic window each centre word looks at b words either side, b uniform in 1..window, so
                  near neighbours count more.

The learning rate falls linearly from ``lr`` to ``min_lr`` over training.

Two ways to compute the same loss live here, side by side:

    Word2Vec.loss(...)       the equation above with the autograd engine (Embedding lookups,
                             binary cross-entropy of the scores with labels 1, 0, ..., 0);
                             loss.backward() fills dense gradients. Used to check.
    Word2Vec.sgd_step(...)   the hand-derived gradients above, applied straight to the rows of
                             the two tables, vectorised over a minibatch of examples: the fast
                             twin of loss() + backward() (with row_rates=False a test checks, in
                             float64, that it moves the tables by exactly -lr * autograd's
                             gradient). ``fit`` trains with it, with the per-row rates below.

Per-row rates. The C tool and gensim take one (centre, context) pair at a time. A minibatch
adds up the gradients of all its pairs, computed at the same parameters: a row r seen n_r
times moves by lr * sum_i g_i, as if the n_r sequential steps never changed the row in
between. For a frequent word n_r grows with the batch (the most frequent word of a Zipf
corpus, sample=0, 4096 pairs: ~430 times as input and ~1000 as output), lr * n_r reaches
10-25, far past the minimum the sequential steps would settle in, and training diverges
(loss 1e28 at 4096 pairs, inf at 16384). Dividing by n_r (the mean gradient) cures that but
makes every row slow: the ~6 pairs of one centre word already share its row, so even rare
words would learn ~6x slower than sequential SGD (measured: loss 4.14 vs 3.04). Instead each
row gets the rate of gradient flow on its quadratic model. Row r's summed loss has Hessian
H_r = sum_i sigma'(s_i) x_i x_i^T (x_i: the other vector of occurrence i, sigma' = sigma (1 -
sigma)); its trace bounds the largest curvature,

    T_r = lr * sum_i sigma'(s_i) |x_i|^2          (output rows: x = h; input rows: the
                                                   hidden's curvature sum_t sigma'(s_t)|u_t|^2,
                                                   times (1/C)^2 for CBOW's mean)
    row r moves by  -lr * phi(T_r) * sum_i dL_i/dr,     phi(T) = (1 - e^-T) / T.

Many small sequential steps on a quadratic with curvature c take the gap to its minimum from
1 to e^(-lr c); that is this step when c = T_r / lr. So phi = 1 - T/2 + ... ~ 1 for a row
seen once with small lr (plain SGD, the C tool's step), and for large T the step is ~ 1/T of
the summed one: about the distance to the minimum along the row's curvature, never past it.

What row rates cannot remove is the lag between rows. In one step pair i moves v_c with u_o as
it was at the start of the step; taken one at a time, it would see u_o already moved by the
pairs before it (on average half the step's change of u_o), so the batch leaves out a cross term
of order lr^2 n_c n_o per step that no per-row rate sees. Measured (loss of the final vectors on
fixed examples, ``evaluate_loss``, seed std <= 0.0007), batch 256 / 1024 / 4096 / 16384: KJV
verses, 1 epoch 2.674 / 2.674 / 2.682 / 2.713, 3 epochs 2.465 / 2.468 / 2.477 / 2.502; Zipf
corpus, 1 epoch 2.749 / 2.754 / 2.766 / 2.792, 3 epochs 2.540 / 2.540 / 2.543 / 2.548. Three
fixes were tried and dropped: the curvature along the summed gradient G (Rayleigh quotient G^T
H_r G / |G|^2 instead of the trace; batch 16384: 2.770 vs 2.775 during the epoch, no gain),
outputs first and inputs then against the moved outputs (Gauss-Seidel: worse at every batch,
2.716 vs 2.605 at 256: it overshoots the pair's own coupling), and a midpoint step (gradients
re-taken at the half step: diverged at 16384).

So the lag is real and is not removed here: up to ~1,000 examples a step the loss matches batch
256 (within 0.005), 4096 costs ~0.3-0.5 %, 16384 ~1.5 %; more epochs close it on the Zipf corpus
(16384: +0.043, then +0.009) but not on the KJV (+0.039, then +0.037), while the quality
measures agree at 3 epochs (KJV: median related-pair rank 2, 3 of 4 analogies at every batch
size). A batch of 16384 pairs over a 5k-word vocabulary is a different algorithm from one pair
at a time, not a faster way to run the same one.

Rows that occur several times in a minibatch must have their updates added up (a plain
``table[rows] += updates`` keeps only one). On NumPy that sum is one sparse-matrix product
(scipy, in C); on other devices (CuPy, strict) it is the backend's scatter-add. Corpus
preparation (subsampling, windows, noise draws) runs on the host; each minibatch's indices
are moved to the model's device, so training runs wherever the tables live.
"""

import math
import time

import numpy
import scipy.sparse

from .. import backend
from .. import functional as F
from ..errors import TrainingDivergedError
from ..nn import Embedding, Module, init
from ..tensor import tensor

try:  # a private scipy name (the C kernel behind sparse products): fall back if it moves
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
except ImportError:  # pragma: no cover - depends on the scipy version
    _csc_matvecs = None


# ----- corpus preparation (host) --------------------------------------------------------------
def subsample_keep_probability(counts, sample=1e-3):
    """p_keep(w) = (sqrt(r) + 1) / r, r = count(w) / (sample * total), at most 1 (float64 (V,)).

    Words with count 0 get 0. ``sample=0`` turns subsampling off (every word kept).
    """
    counts = numpy.asarray(counts, dtype=numpy.float64)
    if sample <= 0:
        return (counts > 0).astype(numpy.float64)
    r = counts / (sample * counts.sum())
    with numpy.errstate(divide="ignore", invalid="ignore"):
        keep = numpy.where(counts > 0, (numpy.sqrt(r) + 1.0) / r, 0.0)
    return numpy.minimum(keep, 1.0)


def noise_distribution(counts, exponent=0.75):
    """P_noise(w) = count(w)^exponent / sum_w' count(w')^exponent (float64 (V,))."""
    weights = numpy.asarray(counts, dtype=numpy.float64) ** exponent
    weights[numpy.asarray(counts) <= 0] = 0.0
    if weights.sum() <= 0:
        raise ValueError("noise_distribution: every count is zero")
    return weights / weights.sum()


def noise_table(probabilities, size=2 ** 22):
    """A table of word ids in which word w fills about P_noise(w) * size slots ((size,)).

    Drawing a uniform slot draws a word from P_noise in O(1) (the C tool's table); each
    probability is off by less than 1 / size. The ids are uint16 when the vocabulary allows
    (V <= 65536), else int32: training reads ~20k random slots a step, and a table half the
    size (8 MB instead of 16) misses the cache less (Word2Vec.fit on the KJV ~7 % faster).
    """
    cdf = numpy.cumsum(probabilities)
    slots = (numpy.arange(size, dtype=numpy.float64) + 0.5) / size * cdf[-1]
    dtype = numpy.uint16 if len(probabilities) <= 2 ** 16 else numpy.int32
    return numpy.searchsorted(cdf, slots, side="right").astype(dtype)


def context_windows(sentence_ids, window, rng):
    """Context positions of every position, with a dynamic window, inside its sentence.

    sentence_ids  int (n,)  which sentence each token belongs to (windows never cross)
    returns       positions int (n, 2*window): i-window..i-1, i+1..i+window (clipped)
                  valid     bool (n, 2*window): inside the sentence and |offset| <= b_i,
                            b_i ~ uniform{1..window} drawn once per position
    """
    n = sentence_ids.size
    offsets = numpy.concatenate([numpy.arange(-window, 0), numpy.arange(1, window + 1)])
    reach = rng.integers(1, window + 1, size=n)
    positions = numpy.arange(n)[:, None] + offsets[None, :]
    inside = (positions >= 0) & (positions < n)
    positions = numpy.clip(positions, 0, max(n - 1, 0))
    valid = inside & (numpy.abs(offsets)[None, :] <= reach[:, None])
    valid &= sentence_ids[positions] == sentence_ids[:, None]
    return positions, valid


# ----- adding rows up -------------------------------------------------------------------------
def add_weighted_rows(xp, table, rows, weights, vectors):
    """table[rows[b, j]] += weights[b, j] * vectors[b] for all b, j; repeated rows add up.

    table (V, d)   rows int (B, J)   weights (B, J)   vectors (B, d)
    On NumPy this is S @ vectors with S the sparse (V, B) matrix holding weights[b, j] at
    (rows[b, j], b): scipy adds up repeated rows in C, ~30x faster than numpy.add.at.
    ``table += S @ vectors`` would first fill a dense (V, d) result and then add all of it,
    two passes over the whole table for a few thousand rows; scipy's kernel behind that
    product (csc_matvecs: Y += S X, Y given) adds straight into a C-contiguous table instead
    (4096 x 6 rows of 100 into 10,000: 1.7 ms vs 2.5 ms). Elsewhere: the backend's
    scatter-add of the (B*J, d) products.
    """
    batch, per_example = rows.shape
    if xp is numpy:
        index = numpy.int32 if table.shape[0] < 2 ** 31 else numpy.int64
        column_starts = numpy.arange(0, batch * per_example + 1, per_example, dtype=index)
        entries = (weights.ravel().astype(table.dtype, copy=False),
                   rows.ravel().astype(index, copy=False), column_starts)
        vectors = numpy.ascontiguousarray(vectors, dtype=table.dtype)
        if table.flags.c_contiguous and _csc_matvecs is not None:
            # Y must be the table itself (a view): the kernel writes into the array it gets
            _csc_matvecs(table.shape[0], batch, table.shape[1], column_starts,
                                     entries[1], entries[0], vectors.ravel(),
                                     table.reshape(-1))
        else:
            spread = scipy.sparse.csc_matrix((entries[0], entries[1], column_starts),
                                             shape=(table.shape[0], batch))
            table += spread @ vectors
    else:
        products = (weights[:, :, None] * vectors[:, None, :]).reshape(-1, table.shape[1])
        backend.scatter_add(xp, table, rows.reshape(-1), products)


def _flow_factor(xp, z):
    """phi(z) = (1 - e^-z) / z for z >= 0 (phi(0) = 1; phi(z) ~ 1/z for large z).

    Below z = 1e-4 the series 1 - z/2 is used (its error, z^2/6, is below 2e-9 there), where
    the quotient would lose digits to cancellation.
    """
    safe = xp.maximum(z, 1e-4)
    return xp.where(z < 1e-4, 1.0 - 0.5 * z, -xp.expm1(-safe) / safe)


def _softplus(xp, x):
    """softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), finite for any x (NumPy's
    logaddexp(0, x) is the same number, ~7x slower on float32)."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _loss_sum(xp, scores, weight):
    """-sum_b [log sigma(s_b0) + sum_k weight_bk log sigma(-s_bk)] for scores (B, 1+K).

    With -log sigma(x) = log(1 + e^-x) = softplus(x) - x this is
    sum_bt weight_bt softplus(s_bt) - sum_b s_b0 (weight_b0 = 1).
    """
    return (weight * _softplus(xp, scores)).sum() - scores[:, 0].sum()


# Examples per slice of a minibatch when scoring: a slice's (1024, 1 + K, d) float32 gather
# (~2.4 MB for K = 5, d = 100) stays in a core's L2 cache between its two reads; a batch is
# scored slice by slice (the tables change only after the whole batch, so the step is the
# same). Measured on Word2Vec.fit (Zipf corpus, batch 4096): slices of 1024 ~10 % faster
# than one slice of 4096 (~10 MB, out of L2).
_SLICE = 1024


# ----- the model ------------------------------------------------------------------------------
class Word2Vec(Module):
    """Skip-gram (sg=True) or CBOW (sg=False) with negative sampling.

    Word2Vec(vocab, embedding_dim=100, sg=True, window=5, negative=5, sample=1e-3,
             ns_exponent=0.75, seed=None, device=None)
      vocab     text.Vocab of the training corpus (its counts drive subsampling and noise;
                <unk> and specials get no noise probability and are never trained)
    Tables: ``in_embed.weight`` v (V, d), init U(-0.5/d, 0.5/d); ``out_embed.weight`` u (V, d),
    init 0 (the C tool's choice). Train with ``fit``; read the vectors with ``wv``.
    """

    def __init__(self, vocab, embedding_dim=100, sg=True, window=5, negative=5, sample=1e-3,
                 ns_exponent=0.75, seed=None, device=None, noise_table_size=2 ** 22):
        super().__init__()
        if window < 1 or negative < 1 or embedding_dim < 1:
            raise ValueError(f"Word2Vec: window, negative and embedding_dim must be >= 1, got "
                             f"{window}, {negative}, {embedding_dim}")
        self.vocab, self.sg, self.window, self.negative = vocab, bool(sg), window, negative
        size = len(vocab)
        rng = init.get_generator(seed)
        self.in_embed = Embedding(size, embedding_dim, generator=rng, device=device)
        init.uniform_(self.in_embed.weight, -0.5 / embedding_dim, 0.5 / embedding_dim,
                      generator=rng)
        self.out_embed = Embedding(size, embedding_dim, generator=rng, device=device)
        init.zeros_(self.out_embed.weight)
        counts = numpy.asarray(vocab.counts, dtype=numpy.int64).copy()
        counts[vocab.unk_id] = 0  # out-of-vocabulary words are dropped, not trained
        self.trained = counts > 0
        self.keep_probability = subsample_keep_probability(counts, sample)
        self.noise = noise_table(noise_distribution(counts, ns_exponent), noise_table_size)

    @property
    def embedding_dim(self):
        return self.in_embed.embedding_dim

    # ----- one minibatch, with autograd --------------------------------------------------
    def loss(self, inputs, targets, input_mask=None):
        """Negative-sampling loss summed over the minibatch (a Tensor), via autograd.

        inputs      int (B, C)      ids of the input words (C = 1 for skip-gram)
        targets     int (B, 1 + K)  column 0: the true target; columns 1..K: noise words
        input_mask  (B, C) or None  1 where an input word is present (CBOW windows vary)
        A noise word equal to the true target is ignored (weight 0), as in the C tool.
        """
        device = self.in_embed.weight.device
        inputs, targets, input_mask, noise_weight = self._prepare(inputs, targets, input_mask)
        vectors = self.in_embed(tensor(inputs, device=device))                 # (B, C, d)
        mask = tensor(input_mask, device=device)                                # (B, C)
        hidden = (vectors * mask.unsqueeze(-1)).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        context = self.out_embed(tensor(targets, device=device))                # (B, 1+K, d)
        scores = (context * hidden.unsqueeze(1)).sum(axis=-1)                   # (B, 1+K)
        # -log sigma(s_0) - sum_k log sigma(-s_k) is the binary cross-entropy of the scores
        # with labels (1, 0, ..., 0)
        labels = numpy.zeros(targets.shape, dtype=noise_weight.dtype)
        labels[:, 0] = 1.0
        weight = numpy.concatenate([numpy.ones_like(labels[:, :1]), noise_weight], axis=1)
        return F.binary_cross_entropy_with_logits(scores, tensor(labels, device=device),
                                                  weight=tensor(weight, device=device),
                                                  reduction="sum")

    # ----- one minibatch, by hand ---------------------------------------------------------
    def sgd_step(self, inputs, targets, lr, input_mask=None, row_rates=True):
        """One step on the minibatch with the hand-derived gradients; returns the loss.

        Same arguments and loss as ``loss``; only the rows of the minibatch's words move.
        row_rates=False: plain SGD, both tables move by exactly -lr * dL/dtable (autograd's
        gradient). row_rates=True (what ``fit`` uses): row r moves by -lr * phi(T_r) *
        dL/dv_r, the per-row rate that keeps a minibatch step close to the same examples
        taken one at a time (module docstring).
        """
        device = self.in_embed.weight.device
        inputs, targets, input_mask, _ = self._prepare(inputs, targets, input_mask)
        if input_mask.min() == 1:
            input_mask = None  # every input present: skip the masked mean
        arrays = (None if a is None else backend.from_numpy(a, device)
                  for a in (inputs, targets, input_mask))
        return self._step(*arrays, lr, row_rates=row_rates)[0]

    def _step(self, inputs, targets, input_mask, lr, row_rates=True):
        """``sgd_step`` on checked arrays already on the device (input_mask may be None).

        row_rates  True: each row moves by lr * phi(T_r) times its summed gradient (see the
                   module docstring); False: plain SGD, every row by -lr * dL/drow.
        Returns (loss, largest squared norm among the vectors read) as Python floats.
        """
        xp = self.in_embed.weight.xp
        w_in, w_out = self.in_embed.weight.data, self.out_embed.weight.data
        dtype = w_in.dtype
        hidden, in_share, weight = self._hidden(xp, inputs, targets, input_mask)
        scores, sigma, g = (xp.empty(targets.shape, dtype=dtype) for _ in range(3))
        grad_hidden = xp.empty(hidden.shape, dtype=dtype)
        for s in range(0, targets.shape[0], _SLICE):
            part = slice(s, s + _SLICE)
            scores[part], sigma[part], g[part], grad_hidden[part] = self._scores_and_gradient(
                xp, w_out, hidden[part], targets[part], weight[part])
        loss = _loss_sum(xp, scores, weight)
        hidden_sq = xp.einsum("bd,bd->b", hidden, hidden)                       # |h_b|^2 (B,)
        out_sq = xp.einsum("vd,vd->v", w_out, w_out)                            # |u_w|^2 (V,)
        out_weight = -lr * g                                                    # (B, 1+K)
        in_weight = -lr * in_share                                              # (B, C)
        if row_rates:
            # curvature of each example's loss along each row it touches: sigma'(s) |x|^2
            curvature = sigma * (1.0 - sigma) * weight
            size = w_in.shape[0]
            out_total = xp.bincount(targets.reshape(-1), minlength=size,
                                    weights=(curvature * hidden_sq[:, None]).reshape(-1))
            per_hidden = (curvature * xp.take(out_sq, targets)).sum(axis=1)     # (B,)
            in_total = xp.bincount(inputs.reshape(-1), minlength=size,
                                   weights=(in_share ** 2 * per_hidden[:, None]).reshape(-1))
            out_weight *= xp.take(_flow_factor(xp, lr * out_total).astype(dtype), targets)
            in_weight *= xp.take(_flow_factor(xp, lr * in_total).astype(dtype), inputs)
        add_weighted_rows(xp, w_out, targets, out_weight, hidden)
        add_weighted_rows(xp, w_in, inputs, in_weight, grad_hidden)
        return float(loss), float(xp.maximum(hidden_sq.max(), out_sq.max()))

    def _hidden(self, xp, inputs, targets, input_mask):
        """h (B, d), each input word's share of h (B, C), and the target weights (B, 1+K):
        1 for the true target and for each noise word unless it equals the target."""
        w_in = self.in_embed.weight.data
        if input_mask is None:  # skip-gram (C = 1) or full CBOW windows: a plain mean
            vectors = xp.take(w_in, inputs, axis=0)                            # (B, C, d)
            hidden = vectors[:, 0] if inputs.shape[1] == 1 else vectors.mean(axis=1)
            in_share = xp.full(inputs.shape, 1.0 / inputs.shape[1], dtype=w_in.dtype)
        else:
            in_share = input_mask / input_mask.sum(axis=1, keepdims=True)       # (B, C)
            hidden = xp.matmul(in_share[:, None, :], xp.take(w_in, inputs, axis=0))[:, 0]
        weight = (targets != targets[:, :1]).astype(w_in.dtype)
        weight[:, 0] = 1.0
        return hidden, in_share, weight

    @staticmethod
    def _scores_and_gradient(xp, w_out, hidden, targets, weight):
        """Scores, sigma(s), g = dL/ds and dL/dh for one slice of a minibatch.

        hidden (b, d), targets (b, 1+K), weight (b, 1+K) -> (b, 1+K) three times, (b, d).
        The (b, 1+K, d) gather of the target rows is read twice (s = u_t . h, then
        dL/dh = sum_t g_t u_t) while it is still in cache.
        """
        context = xp.take(w_out, targets, axis=0)                               # (b, 1+K, d)
        scores = xp.einsum("btd,bd->bt", context, hidden)                       # (b, 1+K)
        sigma = 0.5 * xp.tanh(0.5 * scores) + 0.5                               # sigma(s)
        g = sigma * weight
        g[:, 0] -= 1.0                                                # sigma(s) - y, y = (1, 0..0)
        grad_hidden = xp.matmul(g[:, None, :], context)[:, 0]                   # (b, d)
        return scores, sigma, g, grad_hidden

    def _prepare(self, inputs, targets, input_mask):
        """Host arrays with checked shapes; the mask of noise words equal to the target."""
        inputs = numpy.asarray(inputs, dtype=numpy.int64)
        targets = numpy.asarray(targets, dtype=numpy.int64)
        if inputs.ndim == 1:
            inputs = inputs[:, None]
        if inputs.ndim != 2 or targets.ndim != 2 or targets.shape[0] != inputs.shape[0] \
                or targets.shape[1] < 2:
            raise ValueError(f"Word2Vec: inputs must be (B, C) and targets (B, 1 + K) with "
                             f"K >= 1, got {inputs.shape} and {targets.shape}")
        size = len(self.vocab)
        for name, ids in (("inputs", inputs), ("targets", targets)):
            if ids.size and (ids.min() < 0 or ids.max() >= size):
                raise ValueError(f"Word2Vec: {name} must be ids in [0, {size}), got values "
                                 f"from {ids.min()} to {ids.max()}")
        dtype = self.in_embed.weight.dtype  # masks and weights take the tables' dtype
        if input_mask is None:
            input_mask = numpy.ones(inputs.shape, dtype=dtype)
        input_mask = numpy.asarray(input_mask, dtype=dtype)
        if input_mask.shape != inputs.shape or (input_mask.sum(axis=1) <= 0).any():
            raise ValueError(f"Word2Vec: input_mask must have the inputs' shape {inputs.shape} "
                             "and at least one present word per row")
        noise_weight = (targets[:, 1:] != targets[:, :1]).astype(dtype)
        return inputs, targets, input_mask, noise_weight

    # ----- training -----------------------------------------------------------------------
    def examples(self, ids, sentence_ids, rng):
        """One epoch of training examples from the corpus (host arrays, corpus order).

        Subsamples, draws the dynamic windows, and returns (inputs (N, C), input_mask or
        None, true targets (N,)): skip-gram gives one example per (centre, context) pair with
        C = 1; CBOW one example per centre word with C = 2 * window.
        """
        kept = rng.random(ids.size) < self.keep_probability[ids]
        ids, sentence_ids = ids[kept], sentence_ids[kept]
        positions, valid = context_windows(sentence_ids, self.window, rng)
        if self.sg:
            centre, slot = numpy.nonzero(valid)
            return ids[centre][:, None], None, ids[positions[centre, slot]]
        has_context = valid.any(axis=1)
        inputs = ids[positions[has_context]]
        mask = valid[has_context].astype(backend.DEFAULT_FLOAT)
        return inputs, mask, ids[has_context]

    def fit(self, ids, sentence_ids, epochs=5, lr=0.025, min_lr=0.0001, batch_size=4096,
            seed=0, verbose=False, row_rates=True, diverge_factor=3.0, max_norm=100.0):
        """Train on a corpus of token ids; returns a dict of what was measured.

        ids             int (n,)  the corpus, sentence after sentence (out-of-vocabulary ids,
                                  i.e. <unk> = 0, are dropped first, as gensim does)
        sentence_ids    int (n,)  the sentence of each token (nondecreasing)
        batch_size      examples per step, in corpus order. With row_rates (the default) each
                        row's summed update is scaled by phi(T_r) (module docstring), so big
                        batches converge, but they still lag (the cross-row lag, module
                        docstring: 4096 costs ~0.3-0.5 % of loss on the KJV, 1024 nothing).
                        row_rates=False is plain summed SGD, which overshoots on frequent
                        words in big batches.
        diverge_factor  stop when the running loss per example (average of the last ~10
                        steps) exceeds diverge_factor x that of the first step,
        max_norm        or when a vector read by a step is longer than max_norm (healthy
                        vectors stay below ~10): TrainingDivergedError says what to lower.
        Returns {"words": in-vocabulary corpus words seen (epochs * n), "seconds",
        "words_per_second", "examples" (training pairs for skip-gram, centre words for CBOW),
        "examples_per_second", "loss_per_epoch": mean loss per example of each epoch}.
        """
        ids, sentence_ids = numpy.asarray(ids), numpy.asarray(sentence_ids)
        if ids.shape != sentence_ids.shape or ids.ndim != 1:
            raise ValueError(f"Word2Vec.fit: ids and sentence_ids must be 1-d of one length, "
                             f"got {ids.shape} and {sentence_ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.vocab)):
            raise ValueError(f"Word2Vec.fit: ids must be in [0, {len(self.vocab)}), got values "
                             f"from {ids.min()} to {ids.max()}")
        known = self.trained[ids]
        # int32 ids: half the index traffic of int64, and the sparse scatter takes them as is
        ids, sentence_ids = ids[known].astype(numpy.int32), sentence_ids[known]
        rng = numpy.random.default_rng(seed)
        device = self.in_embed.weight.device
        history = {"words": 0, "examples": 0, "loss_per_epoch": []}
        first_loss = running_loss = None
        start = time.perf_counter()
        for epoch in range(epochs):
            inputs, mask, truth = self.examples(ids, sentence_ids, rng)
            total_loss, n = 0.0, truth.size
            for step, first in enumerate(range(0, n, batch_size)):
                last = min(first + batch_size, n)
                progress = (epoch + first / max(n, 1)) / epochs
                step_lr = lr - (lr - min_lr) * progress
                targets = self._with_noise(truth[first:last], rng)
                batch = (inputs[first:last], targets, None if mask is None else mask[first:last])
                loss, largest_sq_norm = self._step(
                    *(None if a is None else backend.from_numpy(a, device) for a in batch),
                    step_lr, row_rates=row_rates)
                per_example = loss / (last - first)
                if first_loss is None:
                    first_loss = running_loss = per_example
                running_loss = 0.9 * running_loss + 0.1 * per_example
                problem = None
                if not (math.isfinite(loss) and math.isfinite(largest_sq_norm)):
                    problem = "the loss or a vector became inf or NaN"
                elif running_loss > diverge_factor * first_loss:
                    problem = (f"the running loss per example rose to {running_loss:.4g}, more "
                               f"than {diverge_factor:g} x its start {first_loss:.4g}")
                elif largest_sq_norm > max_norm ** 2:
                    problem = (f"a word vector's norm reached {math.sqrt(largest_sq_norm):.4g} "
                               f"(max_norm={max_norm:g})")
                if problem:
                    raise TrainingDivergedError(
                        f"Word2Vec.fit: training diverged in epoch {epoch + 1}, step "
                        f"{step + 1}: {problem}. Lower the learning rate lr={lr:g} (e.g. to "
                        f"{lr / 10:g})" + ("" if row_rates else f" or batch_size={batch_size}, "
                                           "or keep row_rates=True") + ".")
                total_loss += loss
            history["loss_per_epoch"].append(total_loss / max(n, 1))
            history["examples"] += n
            history["words"] += ids.size
            if verbose:
                print(f"  epoch {epoch + 1}/{epochs}: loss per example "
                      f"{history['loss_per_epoch'][-1]:.4f}")
        history["seconds"] = time.perf_counter() - start
        history["words_per_second"] = history["words"] / max(history["seconds"], 1e-12)
        history["examples_per_second"] = history["examples"] / max(history["seconds"], 1e-12)
        return history

    def _with_noise(self, truth, rng):
        """Targets int32 (n, 1 + K): column 0 the true targets (n,), then K noise words each."""
        targets = numpy.empty((truth.size, 1 + self.negative), dtype=numpy.int32)
        targets[:, 0] = truth
        targets[:, 1:] = self.noise[rng.integers(0, self.noise.size,
                                                 size=(truth.size, self.negative))]
        return targets

    def evaluate_loss(self, ids, sentence_ids, max_examples=200_000, seed=12345):
        """Mean loss per example at the current vectors, on a fixed draw of examples; no update.

        The draw (subsampling, windows, up to max_examples examples picked at random, their
        noise words) depends only on the corpus and ``seed``, so models trained differently
        (batch sizes, epochs) are scored on the same examples. That is the fair way to compare
        them: ``fit``'s per-epoch loss averages each example's loss taken before its own step,
        and with a bigger batch more examples wait for a step, so that average is higher even
        for equally good final vectors (KJV, 1 epoch, batch 16384: 2.78 during the epoch, 2.71
        here).
        """
        ids, sentence_ids = numpy.asarray(ids), numpy.asarray(sentence_ids)
        known = self.trained[ids]
        rng = numpy.random.default_rng(seed)
        inputs, mask, truth = self.examples(ids[known], sentence_ids[known], rng)
        if truth.size == 0:
            raise ValueError("Word2Vec.evaluate_loss: the corpus gives no training examples")
        pick = numpy.sort(rng.permutation(truth.size)[:max_examples])
        inputs, truth = inputs[pick], truth[pick]
        mask = None if mask is None else mask[pick]
        targets = self._with_noise(truth, rng)
        xp, device = self.in_embed.weight.xp, self.in_embed.weight.device
        total = 0.0
        for first in range(0, truth.size, _SLICE):
            part = (inputs[first:first + _SLICE], targets[first:first + _SLICE],
                    None if mask is None else mask[first:first + _SLICE])
            part = [None if a is None else backend.from_numpy(a, device) for a in part]
            hidden, _, weight = self._hidden(xp, *part[:2], part[2])
            scores = self._scores_and_gradient(xp, self.out_embed.weight.data, hidden,
                                               part[1], weight)[0]
            total += float(_loss_sum(xp, scores, weight))
        return total / truth.size

    @property
    def wv(self):
        """The trained input vectors v as ``WordVectors`` (host copy; untrained rows left out)."""
        keep = numpy.flatnonzero(self.trained)
        words = [self.vocab.itos[i] for i in keep.tolist()]
        return WordVectors(words, self.in_embed.weight.numpy()[keep])

    def extra_repr(self):
        kind = "skip-gram" if self.sg else "CBOW"
        return (f"{kind}, {len(self.vocab)} words, dim={self.embedding_dim}, "
                f"window={self.window}, negative={self.negative}")


# ----- using the vectors ----------------------------------------------------------------------
class WordVectors:
    """Words and their vectors (host NumPy), with cosine similarity queries.

    WordVectors(words, vectors)   words: list of V str; vectors: (V, d)
    cos(a, b) = a . b / (|a| |b|). Queries follow gensim's names (most_similar, similarity).
    """

    def __init__(self, words, vectors):
        vectors = numpy.asarray(vectors, dtype=numpy.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"WordVectors: need one row per word, got {len(words)} words and "
                             f"vectors of shape {vectors.shape}")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("WordVectors: words must be unique")
        self.vectors = vectors
        norms = numpy.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = vectors / numpy.maximum(norms, 1e-12)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def _id(self, word):
        if word not in self.index:
            raise KeyError(f"WordVectors: {word!r} is not in the vocabulary of "
                           f"{len(self.words)} words")
        return self.index[word]

    def __getitem__(self, word):
        return self.vectors[self._id(word)]

    def similarity(self, a, b):
        """cos(v_a, v_b) in [-1, 1]."""
        return float(self.unit[self._id(a)] @ self.unit[self._id(b)])

    def most_similar(self, positive=(), negative=(), topn=10):
        """Words nearest (cosine) to sum(unit(v_p)) - sum(unit(v_n)), query words excluded.

        most_similar("gold") -> neighbours of gold; most_similar(positive=["king", "woman"],
        negative=["man"]) -> the analogy man : king = woman : ? (3CosAdd).
        Returns [(word, cosine), ...], best first.
        """
        if isinstance(positive, str):
            positive = [positive]
        if isinstance(negative, str):
            negative = [negative]
        used = [self._id(w) for w in (*positive, *negative)]
        if not used:
            raise ValueError("most_similar: give at least one word")
        signs = numpy.array([1.0] * len(positive) + [-1.0] * len(negative), numpy.float32)
        query = signs @ self.unit[used]
        query /= max(float(numpy.linalg.norm(query)), 1e-12)
        scores = self.unit @ query
        scores[used] = -numpy.inf
        topn = min(topn, len(self.words) - len(set(used)))
        best = numpy.argpartition(-scores, topn - 1)[:topn]
        best = best[numpy.argsort(-scores[best], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in best.tolist()]

    def analogy(self, a, b, c, topn=1):
        """a is to b as c is to ?  -> most_similar(positive=[b, c], negative=[a])."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    # ----- the word2vec text format ---------------------------------------------------------
    def save_word2vec_format(self, path):
        """Write the C tool's text format, readable by gensim and others:

            <V> <d>
            word x_1 x_2 ... x_d        (one line per word, floats as %.9g: exact float32)
        """
        for word in self.words:
            if not word or any(ch.isspace() for ch in word):
                raise ValueError(f"save_word2vec_format: word {word!r} is empty or has "
                                 "whitespace, which the format cannot hold")
        numbers = [" ".join(f"{x:.9g}" for x in row) for row in self.vectors.tolist()]
        with open(path, "w", encoding="utf-8") as out:
            out.write(f"{len(self.words)} {self.vectors.shape[1]}\n")
            out.writelines(f"{w} {row}\n" for w, row in zip(self.words, numbers))

    @classmethod
    def load_word2vec_format(cls, path):
        """Read the text format written by ``save_word2vec_format`` (or the C tool, gensim)."""
        with open(path, encoding="utf-8") as lines:
            header = lines.readline().split()
            if len(header) != 2:
                raise ValueError(f"load_word2vec_format: {path}: first line must be "
                                 f"'<count> <dim>', got {' '.join(header)!r}")
            count, dim = int(header[0]), int(header[1])
            words, rows = [], []
            for line in lines:
                parts = line.rstrip("\n").rstrip().split(" ")
                if len(parts) != dim + 1:
                    raise ValueError(f"load_word2vec_format: {path}: line {len(words) + 2} has "
                                     f"{len(parts) - 1} numbers, expected {dim}")
                words.append(parts[0])
                rows.append(parts[1:])
        if len(words) != count:
            raise ValueError(f"load_word2vec_format: {path}: header says {count} words, "
                             f"found {len(words)}")
        vectors = numpy.array(rows, dtype=numpy.float32).reshape(count, dim)
        return cls(words, vectors)


def corpus_arrays(vocab, token_lists):
    """Token lists (sentences) -> (ids int64 (n,), sentence_ids int64 (n,)) for ``fit``."""
    lengths = [len(tokens) for tokens in token_lists]
    ids = vocab.encode([w for tokens in token_lists for w in tokens])
    sentence_ids = numpy.repeat(numpy.arange(len(token_lists), dtype=numpy.int64), lengths)
    return ids, sentence_ids


__all__ = ["Word2Vec", "WordVectors", "corpus_arrays", "subsample_keep_probability",
           "noise_distribution", "noise_table", "context_windows", "add_weighted_rows"]

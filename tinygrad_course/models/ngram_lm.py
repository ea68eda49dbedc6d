"""n-gram language models: count-based (Kneser-Ney) and neural (Bengio et al. 2003).

A language model gives the probability of a text word by word. An n-gram model assumes each
word depends only on the n-1 words before it:

    P(w_1 .. w_T) = prod_t P(w_t | w_{t-n+1} .. w_{t-1})

and is judged by its perplexity on held-out text, exp(-(1/T) sum_t log P(w_t | context)):
the number of words it is, on average, as unsure between. Lower is better.

Counting: P(w | h) = c(h w) / c(h) matches the n-gram frequencies of the training text, but
gives 0 to every n-gram never seen, and most possible n-grams are never seen. Smoothing moves
some probability to them. Interpolated Kneser-Ney (Chen & Goodman 1998) subtracts a discount
D from every seen count and hands the freed mass to the next shorter context:

    P_k(w | h) = max(c_k(h w) - D_k, 0) / c_k(h .)  +  D_k T_k(h) / c_k(h .) * P_{k-1}(w | h')

h' = h without its first word, c_k(h .) = sum_w c_k(h w), T_k(h) = number of distinct w with
c_k(h w) > 0, and P_0(w) = 1 / V. The top order counts occurrences; the lower orders count
*continuations* c_k(g) = number of distinct words seen right before g (a word like
"Francisco" is frequent but follows only "San", so it should not get a high backed-off
probability). D_k = n1 / (n1 + 2 n2) from the numbers of k-grams seen once and twice (0.5 if
none is seen once). A context never seen passes all of its mass down. Every P_k sums to 1
over the vocabulary: a seen context keeps c(h .) - D T(h) and gives away exactly D T(h).

Neural (Bengio et al. 2003): each of the n-1 context words is looked up in a shared embedding
table C (V, m); the vectors are concatenated and fed to an MLP with a softmax over the
vocabulary:

    x = [C[w_{t-n+1}], ..., C[w_{t-1}]]        (B, (n-1) m)
    h = tanh(x W_h + b_h)                      (B, H)
    P(w_t | context) = softmax(h W_o + b_o)    (B, V)

Similar words get similar embeddings, so what is learned about one context carries over to
contexts never seen, where counts can only back off.

The softmax over the vocabulary is what costs: h W_o is H V multiply-adds per word (256 x 7,948
on the KJV, 97% of a training step). A class-factored softmax (Goodman 2001; Mikolov et al.
2011) sorts the words by frequency into C classes of K words (C K >= V, C ~ sqrt(V)) and
predicts the class first, then the word within its class:

    P(w | h) = P(c(w) | h) P(w | c(w), h)
             = softmax(h U + a)[c(w)]  *  softmax(h W_c(w)^T + b_c(w))[w]     U (H, C), W_c (K, H)

Training a word needs H (C + K) multiply-adds instead of H V (~44x fewer on the KJV), and the
probabilities stay exact: summed over all words they give sum_c P(c | h) sum_{w in c} P(w | c, h)
= 1, so perplexities compare with the other models'.

Sentences: each is padded with n-1 "<s>" in front and ends with "</s>", so every word,
including the end of the sentence, is predicted from n-1 context words.
"""

import math

import numpy

from .. import functional as F
from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError
from ..nn import Dropout, Embedding, Linear, Module, Parameter, init
from ..tensor import Tensor, tensor, zeros


# ----- training examples ----------------------------------------------------------------------
def ngram_examples(ids, offsets, context_size, bos_id, eos_id):
    """Every (context, next word) of the sentences, padded with <s> and ended with </s>.

    ids      int (n_tokens,)  token ids, sentence after sentence
    offsets  int (n_sentences + 1,)  sentence s is ids[offsets[s]:offsets[s + 1]]
    returns  contexts int64 (N, context_size), targets int64 (N,) with
             N = n_tokens + n_sentences (every word and every </s> is predicted once)
    """
    ids, offsets = numpy.asarray(ids, dtype=numpy.int64), numpy.asarray(offsets)
    n_sentences = offsets.size - 1
    if context_size < 1:
        raise ValueError(f"ngram_examples: context_size must be >= 1, got {context_size}")
    lengths = numpy.diff(offsets)
    sentence_of_token = numpy.repeat(numpy.arange(n_sentences), lengths)
    span = context_size + 1  # pads in front plus </s> at the end
    stream = numpy.full(ids.size + n_sentences * span, bos_id, dtype=numpy.int64)
    stream[numpy.arange(ids.size) + sentence_of_token * span + context_size] = ids
    ends = offsets[1:] + numpy.arange(n_sentences) * span + context_size
    stream[ends] = eos_id
    predicted = numpy.flatnonzero(stream != bos_id)
    if bos_id in ids:
        raise ValueError("ngram_examples: the text contains the <s> id itself")
    windows = numpy.lib.stride_tricks.sliding_window_view(stream, context_size + 1)
    rows = windows[predicted - context_size]
    return rows[:, :-1].copy(), rows[:, -1].copy()


def perplexity(log_probs):
    """exp(-mean log P): log_probs are natural logs of the probabilities given to each word."""
    log_probs = numpy.asarray(log_probs, dtype=numpy.float64)
    if log_probs.size == 0:
        raise ValueError("perplexity: no words")
    return float(numpy.exp(-log_probs.mean()))


# ----- counting ---------------------------------------------------------------------------------
class CountNGramLM:
    """What every count-based model shares: n-grams as integer keys, looked up by bisection.

    contexts int (N, >= order - 1) and targets int (N,) as made by ``ngram_examples`` (a model
    of order n reads the last n-1 context columns). Each k-gram is one int64 key,
    sum_i w_i V^(k-1-i); counts live in sorted key arrays searched with ``searchsorted``.
    """

    def __init__(self, order, vocab_size):
        name = type(self).__name__
        if order < 1:
            raise ValueError(f"{name}: order must be >= 1, got {order}")
        if float(vocab_size) ** order >= 2.0 ** 63:
            raise ValueError(f"{name}: {order}-gram keys over {vocab_size} words do not fit in "
                             "int64; use a smaller order or vocabulary")
        self.order, self.vocab_size = order, vocab_size
        self.tables = None

    def _keys(self, grams):
        """(N, k) ids -> (N,) int64 keys."""
        keys = numpy.zeros(grams.shape[0], dtype=numpy.int64)
        for column in range(grams.shape[1]):  # k <= order columns: a loop over n-gram length
            keys = keys * self.vocab_size + grams[:, column]
        return keys

    def _grams(self, contexts, targets, k):
        """The k-grams (last k-1 context words, target) of each row, as keys, and their
        context keys."""
        context = contexts[:, contexts.shape[1] - (k - 1):] if k > 1 else contexts[:, :0]
        context_key = self._keys(context)
        return context_key * self.vocab_size + targets, context_key

    @staticmethod
    def _lookup(sorted_keys, values, queries):
        """values[i] where sorted_keys[i] == query, else 0 (float64)."""
        if sorted_keys.size == 0:
            return numpy.zeros(queries.shape)
        where = numpy.minimum(numpy.searchsorted(sorted_keys, queries), sorted_keys.size - 1)
        return numpy.where(sorted_keys[where] == queries, values[where], 0.0)

    def _check(self, contexts, targets):
        name = type(self).__name__
        contexts = numpy.asarray(contexts, dtype=numpy.int64)
        targets = numpy.asarray(targets, dtype=numpy.int64)
        if contexts.ndim != 2 or contexts.shape[1] < self.order - 1 or \
                targets.shape != (contexts.shape[0],):
            raise ValueError(f"{name}: contexts must be (N, >= {self.order - 1}) and targets "
                             f"(N,), got {contexts.shape} and {targets.shape}")
        for what, ids in (("contexts", contexts), ("targets", targets)):
            if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
                raise ValueError(f"{name}: {what} must be ids in [0, {self.vocab_size}), got "
                                 f"values from {ids.min()} to {ids.max()}")
        return contexts, targets

    def _fitted(self):
        if self.tables is None:
            raise RuntimeError(f"{type(self).__name__}.log_prob: call fit first")


class AdditiveLM(CountNGramLM):
    """Add-k smoothing (Laplace for k = 1): P(w | h) = (c(h w) + k) / (c(h .) + k V).

    The first fix everyone tries: pretend every n-gram was seen k more times. With a large
    vocabulary most of the mass goes to the V unseen continuations of each context, so it
    smooths far too much; it is here to show what Kneser-Ney improves on.
    """

    def __init__(self, order, vocab_size, k=1.0):
        super().__init__(order, vocab_size)
        if k <= 0:
            raise ValueError(f"AdditiveLM: k must be > 0, got {k}")
        self.k = k

    def fit(self, contexts, targets):
        contexts, targets = self._check(contexts, targets)
        keys, context_keys = self._grams(contexts, targets, self.order)
        keys, counts = numpy.unique(keys, return_counts=True)
        context_keys, totals = numpy.unique(context_keys, return_counts=True)
        self.tables = {"keys": keys, "counts": counts.astype(numpy.float64),
                       "context_keys": context_keys, "totals": totals.astype(numpy.float64)}
        return self

    def log_prob(self, contexts, targets):
        """Natural log P(target | last order-1 context words) for each row (float64 (N,))."""
        self._fitted()
        contexts, targets = self._check(contexts, targets)
        keys, context_keys = self._grams(contexts, targets, self.order)
        count = self._lookup(self.tables["keys"], self.tables["counts"], keys)
        total = self._lookup(self.tables["context_keys"], self.tables["totals"], context_keys)
        return numpy.log((count + self.k) / (total + self.k * self.vocab_size))


class KneserNeyLM(CountNGramLM):
    """Interpolated Kneser-Ney (see the module docstring), fully vectorised.

    KneserNeyLM(order, vocab_size).fit(contexts, targets); log_prob(contexts, targets)
    """

    def fit(self, contexts, targets):
        contexts, targets = self._check(contexts, targets)
        n, v = self.order, self.vocab_size
        grams = numpy.concatenate([contexts[:, contexts.shape[1] - (n - 1):], targets[:, None]],
                                  axis=1)
        keys, counts = numpy.unique(self._keys(grams), return_counts=True)  # raw, top order
        self.tables = {}
        for k in range(n, 0, -1):
            self.tables[k] = self._table(keys, counts)
            # continuations of the (k-1)-grams: one for each distinct k-gram ending in them
            keys, counts = numpy.unique(keys % v ** (k - 1), return_counts=True)
        return self

    def _table(self, keys, counts):
        """Sorted k-gram keys with counts, their contexts' totals and type counts, and D_k."""
        counts = counts.astype(numpy.float64)
        context_keys, first, types = numpy.unique(keys // self.vocab_size, return_index=True,
                                                  return_counts=True)
        totals = numpy.add.reduceat(counts, first)  # keys are sorted, so contexts are runs
        n1, n2 = numpy.sum(counts == 1), numpy.sum(counts == 2)
        discount = n1 / (n1 + 2.0 * n2) if n1 > 0 else 0.5
        return {"keys": keys, "counts": counts, "context_keys": context_keys,
                "totals": totals, "types": types.astype(numpy.float64), "discount": discount}

    def log_prob(self, contexts, targets):
        """Natural log P(target | last order-1 context words) for each row (float64 (N,))."""
        self._fitted()
        contexts, targets = self._check(contexts, targets)
        probability = numpy.full(targets.shape, 1.0 / self.vocab_size)  # P_0: uniform
        for k in range(1, self.order + 1):
            table = self.tables[k]
            gram_key, context_key = self._grams(contexts, targets, k)
            count = self._lookup(table["keys"], table["counts"], gram_key)
            total = self._lookup(table["context_keys"], table["totals"], context_key)
            types = self._lookup(table["context_keys"], table["types"], context_key)
            d = table["discount"]
            seen = total > 0
            safe_total = numpy.where(seen, total, 1.0)
            smoothed = (numpy.maximum(count - d, 0.0) + d * types * probability) / safe_total
            probability = numpy.where(seen, smoothed, probability)
        return numpy.log(probability)


# ----- neural -----------------------------------------------------------------------------------
class ClassFactoredSoftmax(Module):
    """P(w | h) = P(c(w) | h) P(w | c(w), h) over frequency-sorted classes (module docstring).

    ClassFactoredSoftmax(hidden_size, word_counts, n_classes=None, seed=None, device=None)
      word_counts  (V,) training frequency of each word id: the most frequent K words form
                   class 0, the next K class 1, ...; n_classes defaults to ceil(sqrt(V)) and
                   K = ceil(V / n_classes), so the last class may hold fewer (the rest of its
                   slots are masked out).
    log_prob(h (B, H), targets (B,)) -> (B,) log P(target | h), costing H (C + K) per row
    log_probs(h (B, H)) -> (B, V) every word's log-probability (H V per row: for evaluation)

    Parameters: ``classes`` (Linear H -> C) and the word weights of each class stored class
    by class, ``word_weight`` (C, K H) and ``word_bias`` (C, K), so the K rows a target needs
    are one embedding lookup of its class id (the backward a scatter-add into C rows).
    """

    def __init__(self, hidden_size, word_counts, n_classes=None, seed=None, device=None):
        super().__init__()
        counts = numpy.asarray(word_counts)
        if counts.ndim != 1 or counts.size < 1:
            raise ShapeError(f"ClassFactoredSoftmax: word_counts must be (V,) with V >= 1, got "
                             f"shape {counts.shape}")
        vocab_size = counts.size
        n_classes = n_classes or math.ceil(math.sqrt(vocab_size))
        if not 1 <= n_classes <= vocab_size:
            raise ArgumentError(f"ClassFactoredSoftmax: n_classes must be in [1, {vocab_size}] "
                                f"(the vocabulary size), got {n_classes}")
        per_class = math.ceil(vocab_size / n_classes)
        n_classes = math.ceil(vocab_size / per_class)  # no class left empty
        rank = numpy.empty(vocab_size, dtype=numpy.int64)
        rank[numpy.argsort(-counts, kind="stable")] = numpy.arange(vocab_size)
        self.vocab_size, self.n_classes, self.per_class = vocab_size, n_classes, per_class
        self.class_of, self.position = rank // per_class, rank % per_class
        slots = numpy.arange(n_classes * per_class).reshape(n_classes, per_class)
        self.empty_slot = slots >= vocab_size  # (C, K) True where no word sits
        self.hidden_size = hidden_size
        seed_of = (lambda i: None) if seed is None else (lambda i: seed + i)
        self.classes = Linear(hidden_size, n_classes, seed=seed_of(0), device=device)
        bound = 1.0 / math.sqrt(hidden_size)  # as Linear's init
        rng = init.get_generator(seed_of(1), None)
        self.word_weight = Parameter(zeros(n_classes, per_class * hidden_size, device=device))
        self.word_bias = Parameter(zeros(n_classes, per_class, device=device))
        init.uniform_(self.word_weight, -bound, bound, generator=rng)
        init.uniform_(self.word_bias, -bound, bound, generator=rng)

    def _masked(self, logits, class_ids):
        """Empty slots of the classes ``class_ids`` get -1e9: probability exactly 0."""
        mask = tensor(self.empty_slot[class_ids], device=logits.device)
        return logits.masked_fill(mask, -1e9)

    def log_prob(self, h, targets):
        targets = targets.numpy() if isinstance(targets, Tensor) else targets  # ids: on host
        targets = numpy.asarray(targets, dtype=numpy.int64)
        if h.ndim != 2 or targets.shape != (h.shape[0],):
            raise ShapeError(f"ClassFactoredSoftmax.log_prob: expected h (B, H) and targets "
                             f"(B,), got {h.shape} and {targets.shape}")
        if targets.size and (targets.min() < 0 or targets.max() >= self.vocab_size):
            raise ShapeError(f"ClassFactoredSoftmax.log_prob: targets must be ids in "
                             f"[0, {self.vocab_size}), got {targets.min()} to {targets.max()}")
        device, batch = h.device, h.shape[0]
        rows = tensor(numpy.arange(batch), device=device)
        class_ids = self.class_of[targets]
        log_p_class = self.classes(h).log_softmax(axis=-1)[rows, tensor(class_ids, device=device)]
        ids = tensor(class_ids, device=device)
        weight = F.embedding(ids, self.word_weight).reshape(batch, self.per_class, -1)  # (B,K,H)
        logits = (weight @ h.reshape(batch, -1, 1)).reshape(batch, self.per_class)
        logits = self._masked(logits + F.embedding(ids, self.word_bias), class_ids)
        positions = tensor(self.position[targets], device=device)
        return log_p_class + logits.log_softmax(axis=-1)[rows, positions]

    def log_probs(self, h):
        batch, c, k = h.shape[0], self.n_classes, self.per_class
        log_p_class = self.classes(h).log_softmax(axis=-1)                       # (B, C)
        weight = self.word_weight.reshape(c * k, -1)                              # (C K, H)
        logits = (h @ weight.T).reshape(batch, c, k) + self.word_bias             # (B, C, K)
        logits = logits.masked_fill(tensor(self.empty_slot, device=h.device), -1e9)
        joint = log_p_class.reshape(batch, c, 1) + logits.log_softmax(axis=-1)
        slot_of_word = tensor(self.class_of * k + self.position, device=h.device)
        return joint.reshape(batch, c * k)[:, slot_of_word]                       # (B, V)


class NeuralNGramLM(Module):
    """Bengio's MLP language model: embeddings of the n-1 previous words -> tanh layer ->
    softmax over the vocabulary (full, or class-factored when ``word_counts`` is given).

    NeuralNGramLM(vocab_size, context_size, embedding_dim=64, hidden_size=256, dropout=0.0,
                  seed=None, device=None, word_counts=None, n_classes=None)
    forward(contexts int (B, n-1)) -> logits (B, V) (with the factored head: the exact
    log-probabilities, whose softmax is the same distribution); ``loss`` is the mean
    cross-entropy, computed with the factored head at H (C + K) per row, not H V.
    """

    def __init__(self, vocab_size, context_size, embedding_dim=64, hidden_size=256,
                 dropout=0.0, seed=None, device=None, word_counts=None, n_classes=None):
        super().__init__()
        self.vocab_size, self.context_size = vocab_size, context_size
        self.embed = Embedding(vocab_size, embedding_dim, seed=seed, device=device)
        seed_of = (lambda i: None) if seed is None else (lambda i: seed + i)
        self.hidden = Linear(context_size * embedding_dim, hidden_size, seed=seed_of(1),
                             device=device)
        self.dropout = Dropout(dropout, seed=seed_of(2))
        if word_counts is None:
            self.output = Linear(hidden_size, vocab_size, seed=seed_of(3), device=device)
        else:
            if len(word_counts) != vocab_size:
                raise ShapeError(f"NeuralNGramLM: word_counts must have one count per word "
                                 f"({vocab_size}), got {len(word_counts)}")
            self.output = ClassFactoredSoftmax(hidden_size, word_counts, n_classes,
                                               seed=seed_of(3), device=device)
        self.factored = word_counts is not None

    def features(self, contexts):
        """The tanh layer h (B, H) of the contexts (B, n-1)."""
        x = self.embed(contexts)                                    # (B, n-1, m)
        x = x.reshape(x.shape[0], -1)                               # (B, (n-1) m)
        return self.dropout(self.hidden(x).tanh())                  # (B, H)

    def forward(self, contexts):
        h = self.features(contexts)
        return self.output.log_probs(h) if self.factored else self.output(h)    # (B, V)

    def loss(self, contexts, targets):
        """Mean cross-entropy -log P(target | context) over the batch, in nats."""
        if self.factored:
            return -self.output.log_prob(self.features(contexts), targets).mean()
        return F.cross_entropy(self(contexts), targets)

    def log_prob(self, contexts, targets, batch_size=1024):
        """Natural log P(target | context) for each row (host float64 (N,)), in eval mode."""
        device = self.embed.weight.device
        was_training = self.training
        self.eval()
        pieces = []
        with no_grad():
            for first in range(0, len(targets), batch_size):
                ctx = tensor(numpy.asarray(contexts[first:first + batch_size]), device=device)
                tgt = numpy.asarray(targets[first:first + batch_size])
                if self.factored:
                    log_p = self.output.log_prob(self.features(ctx), tgt)
                else:
                    rows = tensor(numpy.arange(tgt.size), device=device)
                    log_p = self(ctx).log_softmax(axis=-1)[rows, tensor(tgt, device=device)]
                pieces.append(log_p.numpy().astype(numpy.float64))
        self.train(was_training)
        return numpy.concatenate(pieces) if pieces else numpy.zeros(0)

"""ELMo: contextual word vectors from a bidirectional language model (Peters et al. 2018).

Two LSTM language models read each sentence w_1 .. w_n, one in each direction, on top of a
token representation x_t = E[w_t] (shared by the two directions, as in the paper, unless
share_embedding=False):

    forward    h->_{t,0} = x_t,   h->_{t,j} = LSTM->_j(h->_{1,j-1} .. h->_{t,j-1})   (B, T, H)
    backward   h<-_{t,0} = x_t,   h<-_{t,j} = LSTM<-_j(h<-_{n,j-1} .. h<-_{t,j-1})
    residual   (residual=True) layer j >= 2 adds its input: h_j = LSTM_j(h_{j-1}) + h_{j-1}

The forward LM predicts the next word from its top layer, the backward LM the previous one:

    p(w_{t+1} | w_1 .. w_t) = softmax(W h->_{t,L} + b),   p(w_{t-1} | w_t .. w_n) = softmax(W'
    h<-_{t,L} + b')

and the two are trained jointly on the sum of their mean negative log-likelihoods,

    L = -1/N sum_t log p(w_{t+1} | w_{<=t})  -  1/N sum_t log p(w_{t-1} | w_{>=t})

with one softmax (W' = W, b' = b: share_softmax=True, the paper's choice) or one per direction.
Past either end of the sentence the target is the boundary class ``boundary_id`` (the
paper's <S> and </S>, here one class). Since h->_{t,j} depends on w_1 .. w_t only and
h<-_{t,j} on w_t .. w_n only, neither LM ever sees the word it predicts (tests/test_elmo.py
perturbs one token and checks every state on both sides of it).

The softmax's classes are a shortlist: the first ``output_size`` ids of the vocabulary
(text.Vocab numbers words most frequent first); a rarer target word is predicted as <unk>
(id 0). Its cost is O(H * output_size) per token, the largest in the model (ELMo itself used a
sampled softmax over its 800,000 words for the same reason). The input side keeps every word.

The representation of token t is built from all L + 1 layers, each (B, T, 2H):

    R_{t,0} = [x_t; x_t]                  the token alone: the same vector in every sentence
    R_{t,j} = [h->_{t,j}; h<-_{t,j}]      j = 1 .. L, context from both sides

    ELMo_t = gamma * sum_j softmax(s)_j R_{t,j}        (ScalarMix)

where s and gamma are learned by the task that uses the vectors while the biLM stays frozen.
The embedding size equals the hidden size H so the layers can be mixed (the paper projects its
character CNN to the LSTM's size for the same reason).
"""

import numpy

from .. import functional as F
from ..autograd import no_grad
from ..errors import ArgumentError, DTypeError, ShapeError, TensorError
from ..nn import LSTM, Embedding, Linear, Module, ModuleList, init
from ..nn.module import Parameter
from ..nn.recurrent import lengths_to_mask
from ..nn.utils import clip_grad_norm_
from ..ops.elementwise import where
from ..ops.movement import concatenate, stack
from ..ops.recurrent import lstm_sequence
from ..optim import Adam
from ..tensor import Tensor, as_tensor, ones, tensor, zeros


def scalar_mix(layers, scalars, gamma):
    """gamma * sum_j softmax(s)_j layers[j]: layers (J, ...), scalars (J,), gamma (1,) -> (...).
    The function behind ScalarMix (whose docstring has the derivatives)."""
    weights = F.softmax(scalars, dim=0).reshape((layers.shape[0],) + (1,) * (layers.ndim - 1))
    return gamma * (weights * layers).sum(axis=0)


class ScalarMix(Module):
    """A learned weighted sum of layers: gamma * sum_j softmax(s)_j h_j (ELMo's task weights).

    ScalarMix(num_layers, dtype=None, device=None)
    forward(layers) -> (...)  layers: a list of num_layers tensors of one shape (...), or one
        tensor (num_layers, ...). s starts at 0 (the plain mean) and gamma at 1.

    With a = softmax(s) and m = sum_j a_j h_j, the output is y = gamma m, and for an upstream
    gradient g = dL/dy:

        dL/dh_j   = gamma a_j g
        dL/dgamma = <g, m>
        dL/ds_j   = gamma a_j <g, h_j - m>      (softmax's Jacobian: da_k/ds_j = a_k (d_jk - a_j))

    (autograd derives them from the composed ops; tests/test_elmo.py gradchecks them.) The
    softmax keeps the weights positive and summing to 1; gamma rescales the whole vector to
    the task's liking.
    """

    def __init__(self, num_layers, dtype=None, device=None):
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ArgumentError(f"ScalarMix: num_layers must be an integer >= 1, got "
                                f"{num_layers!r}")
        self.num_layers = num_layers
        self.scalars = Parameter(zeros(num_layers, dtype=dtype, device=device))
        self.gamma = Parameter(ones(1, dtype=dtype, device=device))

    def weights(self):
        """softmax(s) as a host array (num_layers,)."""
        return F.softmax(self.scalars, dim=0).numpy()

    def forward(self, layers):
        if isinstance(layers, (list, tuple)):
            layers = [as_tensor(layer, "ScalarMix") for layer in layers]
            if len({layer.shape for layer in layers}) > 1:
                raise ShapeError(f"ScalarMix: every layer must have one shape, got "
                                 f"{[layer.shape for layer in layers]}")
            layers = stack(layers, axis=0) if layers else None
        else:
            layers = as_tensor(layers, "ScalarMix")
        if layers is None or layers.ndim < 1 or layers.shape[0] != self.num_layers:
            got = "no layers" if layers is None else f"shape {layers.shape}"
            raise ShapeError(f"ScalarMix: expected {self.num_layers} layers (a list, or a "
                             f"tensor (num_layers, ...)), got {got}")
        if layers.dtype.kind != "f":
            raise DTypeError(f"ScalarMix: needs floating layers, got dtype {layers.dtype}")
        return scalar_mix(layers, self.scalars, self.gamma)

    def extra_repr(self):
        return f"{self.num_layers}"


def _host_integers(value, name, what, ndim):
    """``value`` as a host integer array with ``ndim`` axes, or ShapeError naming ``name``."""
    try:
        host = numpy.asarray(value.numpy() if isinstance(value, Tensor) else value)
    except (TensorError, TypeError, ValueError) as err:
        raise ShapeError(f"{name}: {what} must be an integer array, got "
                         f"{type(value).__name__}") from err
    if host.ndim != ndim or host.dtype.kind not in "iu":
        raise ShapeError(f"{name}: {what} must be a {ndim}-d integer array, got dtype "
                         f"{host.dtype} and shape {host.shape}")
    return host


def pad_batch(sequences):
    """Token-id sequences -> (ids int64 (B, T) padded with 0, lengths int64 (B,))."""
    if not isinstance(sequences, (list, tuple)) or not sequences:
        raise ShapeError(f"pad_batch: needs a non-empty list of token-id sequences, got "
                         f"{type(sequences).__name__}")
    sequences = [_host_integers(s, "pad_batch", "each sequence", 1) for s in sequences]
    lengths = numpy.array([len(s) for s in sequences], dtype=numpy.int64)
    if lengths.min() < 1:
        raise ShapeError("pad_batch: needs at least one sequence, each with at least one token")
    ids = numpy.zeros((len(sequences), int(lengths.max())), dtype=numpy.int64)
    for row, sequence in enumerate(sequences):
        ids[row, :len(sequence)] = sequence
    return ids, lengths


class BiLM(Module):
    """Forward and backward LSTM language models over words, trained jointly (see above).

    BiLM(vocab_size, output_size=None, hidden_size=64, num_layers=2, boundary_id=1,
         residual=True, share_embedding=True, share_softmax=True, seed=None, device=None)
      vocab_size    input ids are 0 .. vocab_size - 1 (0 is <unk>)
      output_size   the softmax's shortlist: ids >= output_size are predicted as 0 (<unk>);
                    default vocab_size (every word)
      boundary_id   the class predicted past either end of a sentence (< output_size)
    layers(ids, lengths) -> (num_layers + 1, B, T, 2H): R_0 .. R_L, zero at padding
    losses(ids, lengths) -> (forward NLL, backward NLL), each a scalar mean over real tokens
    ids: int (B, T); lengths: B integers in [1, T] (tokens past a sentence's length: padding)
    """

    def __init__(self, vocab_size, output_size=None, hidden_size=64, num_layers=2,
                 boundary_id=1, residual=True, share_embedding=True, share_softmax=True,
                 seed=None, device=None):
        super().__init__()
        output_size = vocab_size if output_size is None else output_size
        if not (0 < boundary_id < output_size <= vocab_size):
            raise ArgumentError(f"BiLM: need 0 < boundary_id < output_size <= vocab_size, got "
                                f"{boundary_id}, {output_size}, {vocab_size}")
        if num_layers < 1 or hidden_size < 1:
            raise ArgumentError(f"BiLM: num_layers and hidden_size must be >= 1, got "
                                f"{num_layers} and {hidden_size}")
        rng = init.get_generator(seed)
        self.vocab_size, self.output_size, self.boundary_id = vocab_size, output_size, boundary_id
        self.hidden_size, self.num_layers, self.residual = hidden_size, num_layers, residual
        self.share_embedding, self.share_softmax = share_embedding, share_softmax

        def embedding():  # |x_t| ~ 1, the scale of the LSTM states it is mixed with
            table = Embedding(vocab_size, hidden_size, generator=rng, device=device)
            init.normal_(table.weight, 0.0, hidden_size ** -0.5, generator=rng)
            return table

        def lstms():
            return ModuleList([LSTM(hidden_size, hidden_size, generator=rng, device=device)
                               for _ in range(num_layers)])

        self.forward_embed = embedding()
        self.backward_embed = None if share_embedding else embedding()
        self.forward_lstms, self.backward_lstms = lstms(), lstms()
        self.forward_softmax = Linear(hidden_size, output_size, generator=rng, device=device)
        self.backward_softmax = None if share_softmax else Linear(
            hidden_size, output_size, generator=rng, device=device)

    def _check(self, ids, lengths):
        ids = _host_integers(ids, "BiLM", "ids (B, T)", 2)
        if ids.size == 0 or ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ShapeError(f"BiLM: ids must be a non-empty (B, T) array of ids in [0, "
                             f"{self.vocab_size}), got shape {ids.shape}"
                             + (f", values {ids.min()} .. {ids.max()}" if ids.size else ""))
        lengths = _host_integers(lengths, "BiLM", "lengths", 1)
        if lengths.shape != ids.shape[:1] or lengths.min() < 1 or lengths.max() > ids.shape[1]:
            raise ShapeError(f"BiLM: lengths must be {ids.shape[0]} integers in [1, "
                             f"{ids.shape[1]}], got {lengths!r}")
        return ids, lengths.astype(numpy.int64)

    def _directions(self, ids, lengths):
        """The inputs and every layer's states of both LMs, time-major (T, B, H) each."""
        ids, lengths = self._check(ids, lengths)
        batch, steps = ids.shape
        device = self.forward_embed.weight.device
        mask = lengths_to_mask(lengths, steps, batch, device)  # (T, B, 1), True: a real token
        time_major = tensor(numpy.ascontiguousarray(ids.T), device=device)
        runs = []
        for embed, lstms, reverse in (
                (self.forward_embed, self.forward_lstms, False),
                (self.backward_embed or self.forward_embed, self.backward_lstms, True)):
            x = where(mask, embed(time_major), 0.0)
            states = [x]
            for j, lstm in enumerate(lstms):
                zero = zeros(batch, self.hidden_size, dtype=x.dtype, device=device)
                out, _ = lstm_sequence(states[-1], zero, zero, *lstm.all_weights[0], mask=mask,
                                       reverse=reverse)
                states.append(out + states[-1] if self.residual and j > 0 else out)
            runs.append(states)
        return runs, ids, lengths

    def layers(self, ids, lengths):
        (forward, backward), _, _ = self._directions(ids, lengths)
        return stack([concatenate([f, b], axis=2).transpose(1, 0, 2)
                      for f, b in zip(forward, backward)], axis=0)

    def losses(self, ids, lengths):
        (forward, backward), ids, lengths = self._directions(ids, lengths)
        batch, steps = ids.shape
        real_t, real_b = numpy.nonzero(numpy.arange(steps)[:, None] < lengths[None, :])
        # the word after (forward) and before (backward) each real token, or the boundary
        padded = numpy.pad(ids, ((0, 0), (1, 1)))
        after, before = padded[real_b, real_t + 2], padded[real_b, real_t]
        after[real_t + 1 == lengths[real_b]] = self.boundary_id
        before[real_t == 0] = self.boundary_id
        rows = tensor(real_t * batch + real_b, device=forward[-1].device)
        nll = []
        for top, softmax, targets in (
                (forward[-1], self.forward_softmax, after),
                (backward[-1], self.backward_softmax or self.forward_softmax, before)):
            targets = numpy.where(targets < self.output_size, targets, 0)
            logits = softmax(top.reshape(steps * batch, self.hidden_size)[rows])
            nll.append(F.cross_entropy(logits, tensor(targets, device=logits.device)))
        return nll[0], nll[1]

    def extra_repr(self):
        return (f"{self.vocab_size} words in, {self.output_size} out, hidden {self.hidden_size}, "
                f"{self.num_layers} layers, residual={self.residual}, share_embedding="
                f"{self.share_embedding}, share_softmax={self.share_softmax}")


def length_batches(sequences, batch_size, rng=None):
    """Indices of sequences in batches of similar length (shuffled batches when ``rng``)."""
    order = numpy.argsort([len(s) for s in sequences], kind="stable")
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(groups)
    return groups


def train_bilm(model, sequences, epochs=1, batch_size=32, lr=0.005, max_norm=5.0, seed=0,
               log=None):
    """Adam on the joint loss over token-id sequences, batches of similar length, gradients
    clipped to norm ``max_norm``. Returns {"forward_nll": [...], "backward_nll": [...]}: the
    mean loss of each direction per epoch (perplexity = exp of it)."""
    optimizer = Adam(model.parameters(), lr=lr)
    rng = numpy.random.default_rng(seed)
    history = {"forward_nll": [], "backward_nll": []}
    for epoch in range(epochs):
        totals, tokens = numpy.zeros(2), 0
        for group in length_batches(sequences, batch_size, rng):
            ids, lengths = pad_batch([sequences[i] for i in group])
            forward, backward = model.losses(ids, lengths)
            optimizer.zero_grad()
            (forward + backward).backward()
            clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            count = int(lengths.sum())
            totals += count * numpy.array([forward.item(), backward.item()])
            tokens += count
        history["forward_nll"].append(float(totals[0] / tokens))
        history["backward_nll"].append(float(totals[1] / tokens))
        if log is not None:
            log(f"epoch {epoch + 1}: forward NLL {totals[0] / tokens:.3f}, backward NLL "
                f"{totals[1] / tokens:.3f}")
    return history


def contextual_layers(model, sequences):
    """Every layer of every token, frozen: a list of (num_layers + 1, n_i, 2H) host arrays."""
    out = [None] * len(sequences)
    with no_grad():
        for group in length_batches(sequences, 256):
            ids, lengths = pad_batch([sequences[i] for i in group])
            layers = model.layers(ids, lengths).numpy()
            for row, i in enumerate(group):
                out[i] = layers[:, row, :lengths[row]]
    return out


__all__ = ["scalar_mix", "ScalarMix", "BiLM", "pad_batch", "length_batches", "train_bilm",
           "contextual_layers"]

"""Encoder-decoder (seq2seq) with GRU or LSTM, with and without additive attention.

Encoder: embed the source tokens and read them with a (bidirectional) RNN. Each source
position j gets an annotation h_j = [forward h_j ; backward h_j], which knows about the
whole sentence but most about the words around j.

Decoder without attention: the encoder's final states, through a "bridge"
s_0 = tanh(W_b [forward h_S ; backward h_1] + b_b), are the ONLY thing the decoder sees of the
source: the whole sentence squeezed into one vector. Then, one target token at a time,

    s_t = RNN(s_{t-1}, embed(y_{t-1}))          p(y_t | y_<t, x) = softmax(W_o s_t + b_o)

Decoder with additive attention: at every step the decoder looks at all the annotations
again and takes their average weighted by how well each matches its current state s_t:

    s_t  = RNN(s_{t-1}, embed(y_{t-1}))
    e_tj = v^T tanh(W_q s_t + W_k h_j)                   (additive score of source position j)
    a_tj = softmax_j(e_tj)   (padding positions get weight 0)
    c_t  = sum_j a_tj h_j                                (context vector)
    p(y_t | y_<t, x) = softmax(W_o [s_t ; c_t] + b_o)

(Bahdanau et al.'s additive score; as in Luong et al. the score uses s_t and c_t is not fed
back into the RNN, so with teacher forcing the decoder RNN runs over all steps as ONE op and
attention is computed for all steps at once: no Python loop over target positions.)

Training uses teacher forcing: the decoder input at step t is the TRUE previous token, so
all steps of a batch are trained at once without waiting for the model's own guesses.
Decoding is greedy: feed back the most likely token until EOS (or max_len).

Token ids: PAD = 0 (padding, ignored by the loss), BOS = 1 (first decoder input), EOS = 2.
Shapes: src (B, S) ints, src_lengths (B,), tgt_in (B, T) = [BOS, y_1, ..., y_{T-1}],
logits (B, T, tgt_vocab).
"""

import numpy

from .. import functional as F
from ..autograd import no_grad
from ..errors import ShapeError
from ..nn import GRU, LSTM, Embedding, Linear, Module
from ..ops.elementwise import where
from ..ops.movement import concatenate
from ..tensor import Tensor, tensor

PAD, BOS, EOS = 0, 1, 2
RNN_CLASSES = {"gru": GRU, "lstm": LSTM}


class AdditiveAttention(Module):
    """e_tj = v^T tanh(W_q q_t + W_k h_j);  a_t = softmax(e_t) over real j;  c_t = sum_j a_tj h_j.

    queries (B, T, Q), keys (B, S, K), real (B, S) bool or None
    -> context (B, T, K), weights (B, T, S). Every query t is scored against every key j at
    once by broadcasting (B, T, 1, A) + (B, 1, S, A).
    """

    def __init__(self, query_size, key_size, attention_size, seed=None):
        super().__init__()
        seeds = [None] * 3 if seed is None else [seed, seed + 1, seed + 2]
        self.query_layer = Linear(query_size, attention_size, bias=False, seed=seeds[0])
        self.key_layer = Linear(key_size, attention_size, bias=False, seed=seeds[1])
        self.score_layer = Linear(attention_size, 1, bias=False, seed=seeds[2])

    def forward(self, queries, keys, real=None):
        hidden = (self.query_layer(queries).unsqueeze(2)
                  + self.key_layer(keys).unsqueeze(1)).tanh()  # (B, T, S, A)
        scores = self.score_layer(hidden).squeeze(3)  # (B, T, S)
        if real is not None:
            scores = where(real.unsqueeze(1), scores, -1e9)
        weights = scores.softmax(axis=-1)
        return weights @ keys, weights


class Seq2Seq(Module):
    """Encoder-decoder; ``attention=True`` adds additive attention over the annotations.

    Seq2Seq(src_vocab, tgt_vocab, embed_dim=32, hidden_size=64, cell="gru", attention=False,
            bidirectional=True, attention_size=None, seed=0)
    forward(src, src_lengths, tgt_in) -> logits (B, T, tgt_vocab)    (teacher forcing)
    loss(src, src_lengths, tgt_in, tgt_out) -> mean cross-entropy over non-PAD targets
    greedy_decode(src, src_lengths, max_len) -> ids (B, <= max_len), PAD after each EOS
    """

    def __init__(self, src_vocab, tgt_vocab, embed_dim=32, hidden_size=64, cell="gru",
                 attention=False, bidirectional=True, attention_size=None, seed=0):
        super().__init__()
        if cell not in RNN_CLASSES:
            raise ValueError(f"Seq2Seq: cell must be 'gru' or 'lstm', got {cell!r}")
        self.cell, self.attention = cell, attention
        self.hidden_size = hidden_size
        directions = 2 if bidirectional else 1
        annotation_size = directions * hidden_size
        rnn_class = RNN_CLASSES[cell]
        self.src_embedding = Embedding(src_vocab, embed_dim, padding_idx=PAD, seed=seed)
        self.encoder = rnn_class(embed_dim, hidden_size, batch_first=True,
                                 bidirectional=bidirectional, seed=seed + 1)
        self.bridge = Linear(annotation_size, hidden_size, seed=seed + 2)
        if cell == "lstm":
            self.cell_bridge = Linear(annotation_size, hidden_size, seed=seed + 3)
        self.tgt_embedding = Embedding(tgt_vocab, embed_dim, padding_idx=PAD, seed=seed + 4)
        self.decoder = rnn_class(embed_dim, hidden_size, batch_first=True, seed=seed + 5)
        if attention:
            self.attend = AdditiveAttention(hidden_size, annotation_size,
                                            attention_size or hidden_size, seed=seed + 6)
        self.output_layer = Linear(hidden_size + (annotation_size if attention else 0),
                                   tgt_vocab, seed=seed + 9)

    # ----- encoder --------------------------------------------------------------------------
    def encode(self, src, src_lengths):
        """Annotations (B, S, D*H), the decoder's first state, and the real-position mask."""
        src = _ids(src, self.src_embedding.weight.device, "src")
        lengths = numpy.asarray(src_lengths.numpy() if isinstance(src_lengths, Tensor)
                                else src_lengths)
        annotations, final = self.encoder(self.src_embedding(src), lengths=lengths)
        h_n = final[0] if self.cell == "lstm" else final  # (D, B, H)
        summary = concatenate([h_n[k] for k in range(h_n.shape[0])], axis=1)  # (B, D*H)
        state = self.bridge(summary).tanh().unsqueeze(0)  # (1, B, H)
        if self.cell == "lstm":
            state = (state, self.cell_bridge(summary).tanh().unsqueeze(0))
        real = tensor(numpy.arange(src.shape[1])[None, :] < lengths[:, None], device=src.device)
        return annotations, state, real

    # ----- decoder --------------------------------------------------------------------------
    def decode(self, tgt_in, state, annotations, real):
        """Decoder over given inputs tgt_in (B, T): logits (B, T, V), final state, attention
        weights (B, T, S) or None. Training feeds the true tokens (teacher forcing); greedy
        decoding calls it with one step at a time."""
        output, state = self.decoder(self.tgt_embedding(tgt_in), state)  # (B, T, H)
        weights = None
        if self.attention:
            context, weights = self.attend(output, annotations, real)  # (B, T, D*H)
            output = concatenate([output, context], axis=2)
        return self.output_layer(output), state, weights

    def forward(self, src, src_lengths, tgt_in):
        """Teacher forcing: logits (B, T, V) for targets y_1..y_T given y_0..y_{T-1} = tgt_in."""
        annotations, state, real = self.encode(src, src_lengths)
        logits, _, _ = self.decode(_ids(tgt_in, annotations.device, "tgt_in"), state,
                                   annotations, real)
        return logits

    def loss(self, src, src_lengths, tgt_in, tgt_out):
        """Mean cross-entropy of the next tokens tgt_out (B, T), PAD positions ignored."""
        logits = self(src, src_lengths, tgt_in)
        tgt_out = _ids(tgt_out, logits.device, "tgt_out")
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                               ignore_index=PAD)

    def greedy_decode(self, src, src_lengths, max_len, return_attention=False):
        """Feed back the most likely token each step; ids (B, steps), PAD after each EOS.

        Stops when every sequence has produced EOS, or after max_len steps. With
        return_attention, also returns the attention weights (B, steps, S) (attention only).
        """
        with no_grad():
            annotations, state, real = self.encode(src, src_lengths)
            batch = annotations.shape[0]
            tokens = numpy.full((batch, 1), BOS)
            finished = numpy.zeros(batch, dtype=bool)
            out, attention = [], []
            for _ in range(max_len):
                prev = tensor(tokens, device=annotations.device)
                logits, state, weights = self.decode(prev, state, annotations, real)
                tokens = numpy.where(finished, PAD, logits[:, 0].argmax(axis=-1).numpy())
                out.append(tokens)
                if weights is not None:
                    attention.append(weights.numpy()[:, 0])
                finished |= tokens == EOS
                tokens = tokens[:, None]
                if finished.all():
                    break
        ids = numpy.stack(out, axis=1)
        if return_attention:
            return ids, (numpy.stack(attention, axis=1) if attention else None)
        return ids


def _ids(ids, device, name):
    ids = ids if isinstance(ids, Tensor) else tensor(numpy.asarray(ids), device=device)
    if ids.ndim not in (1, 2) or ids.dtype.kind not in "iu":
        raise ShapeError(f"Seq2Seq: {name} must be integer token ids of shape (B, T), got "
                         f"{ids.dtype} of shape {ids.shape}")
    return ids


def exact_match(predicted, targets):
    """Fraction of rows where the prediction equals the target up to and including EOS.

    predicted: (B, steps) ids from greedy_decode; targets: list of B id lists ending in EOS.
    """
    hits = 0
    for row, target in zip(predicted, targets):
        hits += len(row) >= len(target) and list(row[:len(target)]) == list(target)
    return hits / max(len(targets), 1)

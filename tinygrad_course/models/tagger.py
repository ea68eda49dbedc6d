"""Sequence labelling: one tag per token from an LSTM over the sentence, with an optional CRF.

    x_t = E[w_t]   (or given features)                          (B, T, D)
    h_t = LSTM(x_1 .. x_t)                  unidirectional       (B, T, H)
    h_t = [LSTM->(x_1 .. x_t); LSTM<-(x_T .. x_t)]   bidirectional  (B, T, 2H)
    e_t = W h_t + b                          emission scores     (B, T, K)

Without a CRF each tag is a softmax of its own e_t (cross-entropy per token, argmax to
predict). With a CRF (models/crf.py) the tags of a sentence are one structured prediction:
P(y | x) = exp(s(y)) / Z with s(y) = sum_t e_t[y_t] + transitions, trained by the negative
log-likelihood and decoded by Viterbi.

Tokens may be unlabelled (``scored`` False: in the proper-noun task, sentence-initial words,
whose capital letter says nothing). The softmax tagger leaves them out of the mean. The CRF
marginalises over their tags: the likelihood of the known tags is the summed probability of
every sequence that agrees with them,

    -log P(known tags | x) = log Z - log Z_agree,    Z_agree = forward algorithm with the
                             emissions of every tag that disagrees with a known tag set to -inf

which is log Z - s(y) when every tag is known (Z_agree then has one term, exp(s(y))).
"""

import numpy

from .. import functional as F
from ..errors import ShapeError
from ..nn import LSTM, Embedding, Linear, Module
from ..tensor import Tensor, tensor
from . import crf as crf_ops

DISAGREE = -1e4  # an emission score no path can afford: exp(-1e4) is 0 in float32 and float64


class SequenceTagger(Module):
    """Embedding (or given features) -> LSTM (uni- or bidirectional) -> emissions [-> CRF].

    SequenceTagger(num_tags, vocab_size=None, input_size=None, embedding_dim=64,
                   hidden_size=64, bidirectional=True, crf=False, seed=None, device=None)
      vocab_size   the input is token ids (B, T), looked up in an Embedding
      input_size   the input is features (B, T, input_size) (e.g. frozen word vectors)
    emissions(inputs, mask) -> (B, T, K)
    loss(inputs, tags, mask, scored=None) -> scalar; mask (B, T) bool marks real tokens,
        scored (B, T) bool the labelled ones among them (default: all real tokens)
    predict(inputs, mask) -> int64 (B, T) tags (0 at padding)
    """

    def __init__(self, num_tags, vocab_size=None, input_size=None, embedding_dim=64,
                 hidden_size=64, bidirectional=True, crf=False, seed=None, device=None):
        super().__init__()
        if (vocab_size is None) == (input_size is None):
            raise ShapeError("SequenceTagger: give exactly one of vocab_size (token ids in) "
                             "and input_size (features in)")
        seed_of = (lambda i: None) if seed is None else (lambda i: seed + i)
        self.num_tags, self.bidirectional = num_tags, bidirectional
        if vocab_size is not None:
            self.embed = Embedding(vocab_size, embedding_dim, seed=seed_of(0), device=device)
            input_size = embedding_dim
        else:
            self.embed = None
        self.input_size = input_size
        self.lstm = LSTM(input_size, hidden_size, batch_first=True, bidirectional=bidirectional,
                         seed=seed_of(1), device=device)
        directions = 2 if bidirectional else 1
        self.to_tags = Linear(directions * hidden_size, num_tags, seed=seed_of(2), device=device)
        self.crf = crf_ops.LinearChainCRF(num_tags, seed=seed_of(3), device=device) if crf \
            else None

    def emissions(self, inputs, mask):
        mask = numpy.asarray(mask, dtype=bool)
        if self.embed is not None:
            x = self.embed(inputs if isinstance(inputs, Tensor) else tensor(inputs))
        else:
            x = inputs
            if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[2] != self.input_size:
                raise ShapeError(f"SequenceTagger: expected features (B, T, {self.input_size}),"
                                 f" got {getattr(x, 'shape', type(x).__name__)}")
        if x.shape[:2] != mask.shape:
            raise ShapeError(f"SequenceTagger: mask must be (B, T) = {x.shape[:2]}, got "
                             f"{mask.shape}")
        output, _ = self.lstm(x, lengths=mask.sum(axis=1))
        return self.to_tags(output)

    def loss(self, inputs, tags, mask, scored=None):
        mask = numpy.asarray(mask, dtype=bool)
        scored = mask if scored is None else numpy.asarray(scored, dtype=bool) & mask
        tags = numpy.where(scored, numpy.asarray(tags), 0).astype(numpy.int64)
        e = self.emissions(inputs, mask)
        if self.crf is None:
            logits = e.reshape(-1, self.num_tags)[tensor(numpy.flatnonzero(scored),
                                                         device=e.device)]
            return F.cross_entropy(logits, tensor(tags[scored], device=e.device))
        agrees = ~scored[:, :, None] | (tags[:, :, None] == numpy.arange(self.num_tags))
        penalty = tensor(numpy.where(agrees, 0.0, DISAGREE), device=e.device).astype(e.dtype)
        log_z = self.crf.log_partition(e, mask)
        log_z_agree = self.crf.log_partition(e + penalty, mask)
        return (log_z - log_z_agree).sum() / max(int(scored.sum()), 1)  # per labelled token

    def predict(self, inputs, mask):
        mask = numpy.asarray(mask, dtype=bool)
        e = self.emissions(inputs, mask)
        if self.crf is None:
            return numpy.where(mask, e.numpy().argmax(axis=-1), 0)
        tags = numpy.zeros(mask.shape, dtype=numpy.int64)
        for b, path in enumerate(self.crf.decode(e, mask)):
            tags[b, :len(path)] = path
        return tags


def token_f1(predicted, gold, scored, positive=1):
    """Precision, recall and F1 of the tag ``positive`` over the scored tokens (host arrays)."""
    predicted, gold = numpy.asarray(predicted)[scored], numpy.asarray(gold)[scored]
    true_positive = numpy.sum((predicted == positive) & (gold == positive))
    precision = true_positive / max(numpy.sum(predicted == positive), 1)
    recall = true_positive / max(numpy.sum(gold == positive), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return float(precision), float(recall), float(f1)

"""BERT's next-sentence prediction (NSP): does segment B follow segment A, or is it random?

Input pairs (Devlin et al. 2019), built by ``make_nsp_pairs``:

    [CLS] a_1 ... a_m [SEP] b_1 ... b_k [SEP] [PAD] ...
    segment    0   0 ...  0    0    1  ...  1    1     0 ...

B is the sentence that follows A in the text (label 1, "IsNext") for exactly half of the
pairs and a sentence drawn at random from elsewhere (label 0, "NotNext") for the other half.
The segment ids select a learned segment embedding (BERT(type_vocab_size=2)), so the encoder
knows which side of [SEP] each token is on.

The NSP head reads the final vector of [CLS] through BERT's pooler:

    pooled = tanh(W_p h_L[:, 0] + b_p)          (N, d_model)
    logits = W_c pooled + b_c                   (N, 2)
    L_NSP  = cross-entropy(logits, is_next)

and pre-training adds it to the masked-LM loss: L = L_MLM + L_NSP (``pretraining_losses``).
"""

import numpy

from .. import functional as F
from ..errors import ArgumentError, ShapeError
from ..nn import init
from ..nn.linear import Linear
from ..nn.module import Module
from ..tensor import Tensor
from .activations import activation_function
from .bert import BERT, IGNORE


def make_nsp_pairs(sentences, rng, cls_id, sep_id, pad_id, max_len, follows=None):
    """Next-sentence pairs from a list of token-id sequences (NumPy in, NumPy out).

    sentences  list of int sequences, in text order; sentence i + 1 follows sentence i
               (where ``follows[i]`` is True, default: everywhere)
    Returns (tokens (P, max_len), segments (P, max_len), is_next (P,)), one pair for each i
    with a next sentence: exactly P // 2 pairs (chosen at random) keep the true next
    sentence (is_next 1); the others take a random sentence that is neither i nor i + 1
    (is_next 0). A keeps its LAST tokens and B its FIRST ones, each cut to
    (max_len - 3) // 2, so the join between them is in view. Segments: 0 for [CLS], A and
    the first [SEP]; 1 for B and the second [SEP]; 0 for the padding.
    """
    count = len(sentences)
    if count < 3:
        raise ShapeError(f"make_nsp_pairs: need at least 3 sentences, got {count}")
    half = (max_len - 3) // 2
    if half < 1:
        raise ShapeError(f"make_nsp_pairs: max_len must be >= 5 (room for [CLS] a [SEP] b "
                         f"[SEP]), got {max_len}")
    follows = numpy.ones(count - 1, dtype=bool) if follows is None else numpy.asarray(follows)
    firsts = numpy.flatnonzero(follows[:count - 1])
    pairs = len(firsts)
    is_next = numpy.zeros(pairs, dtype=numpy.int64)
    is_next[rng.permutation(pairs)[:pairs // 2]] = 1
    tokens = numpy.full((pairs, max_len), pad_id, dtype=numpy.int64)
    segments = numpy.zeros((pairs, max_len), dtype=numpy.int64)
    for row, (i, keep) in enumerate(zip(firsts, is_next)):
        j = i + 1
        while not keep and j in (i, i + 1):
            j = int(rng.integers(count))
        a, b = list(sentences[i])[-half:], list(sentences[j])[:half]
        sequence = [cls_id] + a + [sep_id] + b + [sep_id]
        tokens[row, :len(sequence)] = sequence
        segments[row, len(a) + 2:len(sequence)] = 1
    return tokens, segments, is_next


class NSPHead(Module):
    """pooled = tanh(W_p h[:, 0] + b_p); logits = W_c pooled + b_c: (N, T, d) -> (N, 2)."""

    def __init__(self, d_model, seed=None, generator=None, device=None):
        super().__init__()
        rng = init.get_generator(seed, generator)
        self.pooler = Linear(d_model, d_model, generator=rng, device=device)
        self.classifier = Linear(d_model, 2, generator=rng, device=device)

    def forward(self, hidden):
        if hidden.ndim != 3:
            raise ShapeError(f"NSPHead: expected hidden states (N, T, d_model), got "
                             f"{hidden.shape}")
        return self.classifier(self.pooler(hidden[:, 0]).tanh())


def mlm_logits(bert, hidden):
    """BERT's masked-LM head on hidden states it already computed: (N, T, d) -> (N, T, V)."""
    n, t, d = hidden.shape
    act = activation_function(bert.activation)
    h = bert.transform_norm(act(bert.transform(hidden.reshape(n * t, d))))
    return bert.decoder(h).reshape(n, t, bert.vocab_size)


def pretraining_losses(bert, nsp_head, inputs, targets, segments, padding, is_next):
    """(L_MLM, L_NSP, mlm_logits, nsp_logits) of one batch, from ONE pass of the encoder.

    inputs, targets (N, T): mask_tokens' output (targets IGNORE where not picked);
    segments (N, T) ids; padding (N, T) True at the pads; is_next (N,) 0/1. Pass
    nsp_head=None to train the MLM alone (L_NSP and nsp_logits are then None)."""
    if not isinstance(bert, BERT) or bert.token_type_embedding is None:
        raise ArgumentError("pretraining_losses: expected a BERT with segment embeddings "
                            "(type_vocab_size=2)")
    hidden = bert.encode(inputs, padding, segments)
    logits = mlm_logits(bert, hidden)
    device = logits.device
    targets = Tensor(numpy.asarray(targets), device=device)
    mlm = F.cross_entropy(logits.reshape(-1, bert.vocab_size), targets.reshape(-1),
                          ignore_index=IGNORE)
    if nsp_head is None:
        return mlm, None, logits, None
    nsp_logits = nsp_head(hidden)
    nsp = F.cross_entropy(nsp_logits, Tensor(numpy.asarray(is_next), device=device))
    return mlm, nsp, logits, nsp_logits

"""BERT-style masked language model (Devlin et al. 2019): fill in the blanks, from both sides.

    h_0    = E[tokens] + P[:T]                    token and learned position embeddings
    h_l    = Block_l(h_{l-1})                     encoder blocks, NO causal mask: every
                                                  position sees the whole sequence
    logits = W_out LN(gelu(W_t h_L + b_t)) + b_out     the MLM head, (N, T, vocab)

Training data comes from ``mask_tokens``: pick 15% of the positions; of those, 80% become
[MASK], 10% a random token and 10% stay as they are (so the model cannot learn that only
[MASK] positions matter); the loss is the cross-entropy at the picked positions only (the
other targets are ``IGNORE`` = -100, which F.cross_entropy skips). A GPT predicts a token
from its left; this model sees the left and the right of the blank.

Padding: sequences shorter than T are filled with a pad id, and ``key_padding_mask`` (N, T),
True at the pads, keeps every position from attending to them.
"""

import numpy

from .. import functional as F
from ..autograd import no_grad
from ..errors import DTypeError, ShapeError
from ..nn import init
from ..nn.dropout import Dropout
from ..nn.embedding import Embedding
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.normalization import LayerNorm
from ..nn.positional import LearnedPositionalEmbedding
from ..tensor import Tensor
from . import hf_bert
from ._stack import EncoderStack
from .activations import activation_function

IGNORE = -100


def mask_tokens(tokens, mask_id, vocab_size, rng, mask_prob=0.15, special_ids=()):
    """BERT's corruption of a batch of token ids (NumPy in, NumPy out).

    tokens       int (N, T)
    special_ids  ids never picked (e.g. the pad id)
    Returns (inputs, targets): inputs with the picked positions corrupted (80% mask_id, 10%
    a random id, 10% unchanged), targets equal to the original id at picked positions and
    IGNORE elsewhere. At least one position per batch is picked.
    """
    tokens = numpy.asarray(tokens)
    candidates = ~numpy.isin(tokens, list(special_ids))
    picked = (rng.random(tokens.shape) < mask_prob) & candidates
    if not picked.any() and candidates.any():
        picked[tuple(numpy.argwhere(candidates)[rng.integers(candidates.sum())])] = True
    targets = numpy.where(picked, tokens, IGNORE)
    roll = rng.random(tokens.shape)
    inputs = tokens.copy()
    inputs[picked & (roll < 0.8)] = mask_id
    randomised = picked & (roll >= 0.8) & (roll < 0.9)
    inputs[randomised] = rng.integers(0, vocab_size, size=int(randomised.sum()))
    return inputs, targets


class BERT(Module):
    """BERT(vocab_size, max_len, d_model=64, nhead=4, num_layers=2, dim_feedforward=None,
    dropout=0.0, norm_first=True, seed=None): tokens (N, T) -> logits (N, T, vocab).

    Options that the published BERT needs (BERT.from_hf sets them, with norm_first=False):
    ``type_vocab_size`` > 0 adds segment embeddings S[token_type_ids] (segment 0 when none
    are given); ``embedding_norm=True`` applies a LayerNorm to the summed embeddings (then
    the dropout); ``layer_norm_eps`` for every LayerNorm; ``activation`` of the feed-forward
    layers and of the MLM head (models/activations.py); ``tie_weights=True`` makes the
    decoder's weight the token embedding matrix (its bias stays its own)."""

    def __init__(self, vocab_size, max_len, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=None, dropout=0.0, norm_first=True, seed=None, generator=None,
                 device=None, activation="gelu", layer_norm_eps=1e-5, embedding_norm=False,
                 type_vocab_size=0, tie_weights=False):
        super().__init__()
        rng = init.get_generator(seed, generator)
        self.vocab_size, self.max_len, self.d_model = vocab_size, max_len, d_model
        self.activation = activation
        self.token_embedding = Embedding(vocab_size, d_model, generator=rng, device=device)
        init.normal_(self.token_embedding.weight, 0.0, 0.02, generator=rng)
        self.position_embedding = LearnedPositionalEmbedding(
            max_len, d_model, dropout=0.0 if embedding_norm else dropout, batch_first=True,
            generator=rng, device=device)
        self.token_type_embedding = (Embedding(type_vocab_size, d_model, generator=rng,
                                               device=device) if type_vocab_size else None)
        self.embedding_norm = (LayerNorm(d_model, eps=layer_norm_eps, device=device)
                               if embedding_norm else None)
        self.embedding_dropout = Dropout(dropout, generator=rng) if embedding_norm else None
        self.layers = EncoderStack(num_layers, d_model, nhead, dim_feedforward, dropout,
                                   activation, layer_norm_eps, norm_first, generator=rng,
                                   device=device)
        self.norm = LayerNorm(d_model, eps=layer_norm_eps, device=device) if norm_first else None
        self.transform = Linear(d_model, d_model, generator=rng, device=device)
        self.transform_norm = LayerNorm(d_model, eps=layer_norm_eps, device=device)
        self.decoder = Linear(d_model, vocab_size, generator=rng, device=device)
        if tie_weights:
            self.decoder.weight = self.token_embedding.weight

    def _as_tokens(self, tokens):
        if not isinstance(tokens, Tensor):
            tokens = Tensor(numpy.asarray(tokens), device=self.decoder.weight.device)
        if tokens.dtype.kind not in "iu":
            raise DTypeError(f"BERT: tokens must be integers, got {tokens.dtype}")
        if tokens.ndim != 2 or not 0 < tokens.shape[1] <= self.max_len:
            raise ShapeError(f"BERT: tokens must have shape (N, T) with 0 < T <= max_len = "
                             f"{self.max_len}, got {tokens.shape}")
        return tokens

    def _embed(self, tokens, token_type_ids):
        x = self.token_embedding(tokens)
        if self.token_type_embedding is not None:
            if token_type_ids is None:  # one segment: row 0 for every token
                x = x + self.token_type_embedding.weight[0]
            else:
                x = x + self.token_type_embedding(self._as_tokens(token_type_ids))
        elif token_type_ids is not None:
            raise ShapeError("BERT: token_type_ids given, but the model has no segment "
                             "embeddings (type_vocab_size=0)")
        x = self.position_embedding(x)
        if self.embedding_norm is not None:
            x = self.embedding_dropout(self.embedding_norm(x))
        return x

    def encode(self, tokens, key_padding_mask=None, token_type_ids=None):
        """The contextual vectors h_L, (N, T, d_model)."""
        tokens = self._as_tokens(tokens)
        x = self._embed(tokens, token_type_ids)
        x = self.layers(x, key_padding_mask=key_padding_mask)
        return self.norm(x) if self.norm is not None else x

    def forward(self, tokens, key_padding_mask=None, token_type_ids=None):
        h = self.encode(tokens, key_padding_mask, token_type_ids)
        N, T, d = h.shape
        act = activation_function(self.activation)
        h = self.transform_norm(act(self.transform(h.reshape(N * T, d))))
        return self.decoder(h).reshape(N, T, self.vocab_size)

    def loss(self, inputs, targets, key_padding_mask=None):
        """Cross-entropy over the picked positions only (targets == IGNORE elsewhere)."""
        logits = self(inputs, key_padding_mask)
        targets = targets if isinstance(targets, Tensor) else Tensor(
            numpy.asarray(targets), device=logits.device)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1),
                               ignore_index=IGNORE)

    def masked_accuracy(self, inputs, targets, key_padding_mask=None):
        """Fraction of the picked positions (targets != IGNORE) predicted exactly."""
        was_training = self.training
        self.eval()
        with no_grad():
            predicted = self(inputs, key_padding_mask).numpy().argmax(axis=-1)
        self.train(was_training)
        targets = numpy.asarray(targets.numpy() if isinstance(targets, Tensor) else targets)
        picked = targets != IGNORE
        if not picked.any():
            raise ValueError("BERT.masked_accuracy: no position is picked (all targets IGNORE)")
        return float((predicted[picked] == targets[picked]).mean())

    from_hf = classmethod(hf_bert.from_hf)  # BertForMaskedLM's weights (models/hf_bert.py)

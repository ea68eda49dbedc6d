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
from ..nn.embedding import Embedding
from ..nn.linear import Linear
from ..nn.module import Module, ModuleList
from ..nn.normalization import LayerNorm
from ..nn.positional import LearnedPositionalEmbedding
from ..nn.transformer import TransformerEncoderLayer
from ..ops.elementwise import gelu
from ..tensor import Tensor

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
    dropout=0.0, norm_first=True, seed=None): tokens (N, T) -> logits (N, T, vocab)."""

    def __init__(self, vocab_size, max_len, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=None, dropout=0.0, norm_first=True, seed=None, generator=None,
                 device=None):
        super().__init__()
        rng = init.get_generator(seed, generator)
        self.vocab_size, self.max_len, self.d_model = vocab_size, max_len, d_model
        self.token_embedding = Embedding(vocab_size, d_model, generator=rng, device=device)
        init.normal_(self.token_embedding.weight, 0.0, 0.02, generator=rng)
        self.position_embedding = LearnedPositionalEmbedding(
            max_len, d_model, dropout=dropout, batch_first=True, generator=rng, device=device)
        self.layers = ModuleList([
            TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout,
                                    activation="gelu", batch_first=True, norm_first=norm_first,
                                    generator=rng, device=device)
            for _ in range(num_layers)])
        self.norm = LayerNorm(d_model, device=device) if norm_first else None
        self.transform = Linear(d_model, d_model, generator=rng, device=device)
        self.transform_norm = LayerNorm(d_model, device=device)
        self.decoder = Linear(d_model, vocab_size, generator=rng, device=device)

    def _as_tokens(self, tokens):
        if not isinstance(tokens, Tensor):
            tokens = Tensor(numpy.asarray(tokens), device=self.decoder.weight.device)
        if tokens.dtype.kind not in "iu":
            raise DTypeError(f"BERT: tokens must be integers, got {tokens.dtype}")
        if tokens.ndim != 2 or not 0 < tokens.shape[1] <= self.max_len:
            raise ShapeError(f"BERT: tokens must have shape (N, T) with 0 < T <= max_len = "
                             f"{self.max_len}, got {tokens.shape}")
        return tokens

    def encode(self, tokens, key_padding_mask=None):
        """The contextual vectors h_L, (N, T, d_model)."""
        tokens = self._as_tokens(tokens)
        x = self.position_embedding(self.token_embedding(tokens))
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=key_padding_mask)
        return self.norm(x) if self.norm is not None else x

    def forward(self, tokens, key_padding_mask=None):
        h = self.encode(tokens, key_padding_mask)
        N, T, d = h.shape
        h = self.transform_norm(gelu(self.transform(h.reshape(N * T, d))))
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

"""GPT: a decoder-only transformer that predicts the next token (Radford et al. 2018, 2019).

    h_0    = E[tokens] + P[:T]                      token and learned position embeddings
    h_l    = Block_l(h_{l-1}),  l = 1..num_layers    pre-LN blocks, causal self-attention:
                                                     position t sees positions 0..t only
    logits = LayerNorm(h_L) W_out^T + b_out          (N, T, vocab)
    loss   = mean over t of cross-entropy(logits[:, t], tokens[:, t + 1])

The causal mask is what makes one forward pass train T predictions at once without letting
any of them see its own answer. Sampling is the same model run one step at a time: softmax
of the last position's logits / temperature (optionally only the top_k tokens), draw a
token, append it, keep the last block_size tokens, repeat.

Here tokens are characters (``CharVocab``), so the model learns spelling, words and then
phrases from raw text (demos/gpt_chars.py trains it on the King James Bible).
"""

import numpy

from .. import functional as F
from ..autograd import no_grad
from ..errors import DTypeError, ShapeError
from ..nn import init
from ..nn.embedding import Embedding
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.normalization import LayerNorm
from ..nn.positional import LearnedPositionalEmbedding
from ..tensor import Tensor
from . import hf_gpt2
from ._stack import EncoderStack


class CharVocab:
    """Characters <-> integer ids; the ids follow sorted character order."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        if not self.chars:
            raise ValueError("CharVocab: needs a non-empty text")
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"CharVocab.encode: characters {unknown[:10]} are not in the "
                             "vocabulary")
        return numpy.array([self.index[c] for c in text], dtype=numpy.int64)

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in numpy.asarray(ids).reshape(-1))


def sample_windows(ids, block_size, batch_size, rng):
    """batch_size random windows of the id sequence: inputs x and the next tokens y = x shifted
    by one, both int64 (batch_size, block_size)."""
    ids = numpy.asarray(ids)
    if len(ids) <= block_size:
        raise ShapeError(f"sample_windows: need more than block_size = {block_size} tokens, "
                         f"got {len(ids)}")
    starts = rng.integers(0, len(ids) - block_size, size=batch_size)
    offsets = starts[:, None] + numpy.arange(block_size)
    return ids[offsets], ids[offsets + 1]


class GPT(Module):
    """GPT(vocab_size, block_size, d_model=64, nhead=4, num_layers=2, dim_feedforward=None,
    dropout=0.0, seed=None): tokens (N, T) ints, T <= block_size -> logits (N, T, vocab).

    Options that GPT-2 needs (GPT.from_hf sets them): ``activation`` of the feed-forward
    layers ("gelu", or "gelu_tanh" as GPT-2; see models/activations.py), ``layer_norm_eps``,
    and ``tie_weights=True``: the output head has no bias and IS the token embedding matrix
    (logits = h E^T), one Parameter in two places, as GPT-2's lm_head."""

    def __init__(self, vocab_size, block_size, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=None, dropout=0.0, seed=None, generator=None, device=None,
                 activation="gelu", layer_norm_eps=1e-5, tie_weights=False):
        super().__init__()
        rng = init.get_generator(seed, generator)
        self.vocab_size, self.block_size, self.d_model = vocab_size, block_size, d_model
        self.token_embedding = Embedding(vocab_size, d_model, generator=rng, device=device)
        init.normal_(self.token_embedding.weight, 0.0, 0.02, generator=rng)
        self.position_embedding = LearnedPositionalEmbedding(
            block_size, d_model, dropout=dropout, batch_first=True, generator=rng, device=device)
        self.blocks = EncoderStack(num_layers, d_model, nhead, dim_feedforward, dropout,
                                   activation, layer_norm_eps, norm_first=True, generator=rng,
                                   device=device)
        self.norm = LayerNorm(d_model, eps=layer_norm_eps, device=device)
        self.head = Linear(d_model, vocab_size, bias=not tie_weights, generator=rng,
                           device=device)
        if tie_weights:
            self.head.weight = self.token_embedding.weight

    def _check(self, tokens):
        if not isinstance(tokens, Tensor):
            tokens = Tensor(numpy.asarray(tokens), device=self.head.weight.device)
        if tokens.dtype.kind not in "iu":
            raise DTypeError(f"GPT: tokens must be integers, got {tokens.dtype}")
        if tokens.ndim != 2 or not 0 < tokens.shape[1] <= self.block_size:
            raise ShapeError(f"GPT: tokens must have shape (N, T) with 0 < T <= block_size = "
                             f"{self.block_size}, got {tokens.shape}")
        return tokens

    def forward(self, tokens):
        tokens = self._check(tokens)
        N, T = tokens.shape
        x = self.position_embedding(self.token_embedding(tokens))
        x = self.blocks(x, is_causal=True)
        logits = self.head(self.norm(x).reshape(N * T, self.d_model))
        return logits.reshape(N, T, self.vocab_size)

    def loss(self, tokens, targets):
        """Mean next-token cross-entropy (nats per token); targets (N, T) = tokens shifted."""
        logits = self(tokens)
        targets = targets if isinstance(targets, Tensor) else Tensor(
            numpy.asarray(targets), device=logits.device)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1))

    def generate(self, prompt, max_new_tokens, temperature=1.0, top_k=None, seed=None,
                 generator=None):
        """Continue the prompt (a sequence of ids) by sampling; returns all ids (prompt first).

        temperature -> 0 approaches greedy decoding (always the most likely token); top_k
        keeps only the k most likely tokens before sampling.
        """
        if temperature < 0:
            raise ValueError(f"GPT.generate: temperature must be >= 0, got {temperature}")
        rng = numpy.random.default_rng(generator if generator is not None else seed)
        ids = [int(i) for i in numpy.asarray(prompt).reshape(-1)]
        if not ids:
            raise ValueError("GPT.generate: the prompt needs at least one token")
        was_training = self.training
        self.eval()
        with no_grad():
            for _ in range(max_new_tokens):
                context = numpy.array([ids[-self.block_size:]], dtype=numpy.int64)
                logits = self(context).numpy()[0, -1].astype(numpy.float64)
                ids.append(_sample(logits, temperature, top_k, rng))
        self.train(was_training)
        return numpy.array(ids, dtype=numpy.int64)

    from_hf = classmethod(hf_gpt2.from_hf)  # GPT-2's weights (models/hf_gpt2.py)


def _sample(logits, temperature, top_k, rng):
    """One token id from softmax(logits / temperature), restricted to the top_k when given."""
    if temperature == 0:
        return int(numpy.argmax(logits))
    logits = logits / temperature
    if top_k is not None and top_k < len(logits):
        cutoff = numpy.sort(logits)[-top_k]
        logits = numpy.where(logits < cutoff, -numpy.inf, logits)
    p = numpy.exp(logits - logits.max())
    return int(rng.choice(len(p), p=p / p.sum()))

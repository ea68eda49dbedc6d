"""An image-grounded text decoder: a causal language model that also reads the image.

    tokens   y = [bos] w_1 ... w_n [eos] [pad] ...        (N, T) ids (CaptionVocabulary)
    x_0      = WordEmbedding(y)                           (N, T, d) tokens + learned positions
    layer l  (pre-LN; nn.TransformerDecoderLayer with a gate g on the cross-attention)
        x = x + SA(LN1(x), causal)        position t attends to the tokens at 0..t only
        x = x + g CA(LN2(x), v)           queries from the text; keys, values: image tokens v
        x = x + FF(LN3(x))
    logits   = W_out LN(x_L) + b_out                      (N, T, V): position t predicts y_{t+1}

v (N, S, d) are the image's tokens (a ViT's outputs: models/fusion.ImageEncoder). The gate g
is 1 for captioning; with g = 0 each layer is x + SA + FF, a plain causal transformer LM, and
the image is not read at all (the test of this module). Because the self-attention is
causal, padding at the end of a caption never reaches the positions before it, so no key
padding mask is needed.

Training is teacher forcing: the loss (caption_loss) is the next-token cross-entropy of
every real target (the words and the final [eos]). Generation (generate) feeds the decoder
its own tokens, from [bos], through models/decoding.py: next_log_probs(ids) =
log_softmax(logits of the last position), the image tokens repeated for each beam. Each step
recomputes the whole prefix (no key/value cache): simple, and cheap for ten-word captions.
"""

import numpy

from .. import functional as F
from ..autograd import no_grad
from ..errors import ArgumentError, DTypeError, ShapeError
from ..nn.linear import Linear
from ..nn.module import Module, ModuleList
from ..nn.normalization import LayerNorm
from ..nn.transformer import TransformerDecoderLayer
from ..tensor import Tensor, tensor
from .bert import IGNORE
from .clip import CaptionTokenizer
from .decoding import generate
from .fusion import ImageEncoder, WordEmbedding

BOS, EOS = "[bos]", "[eos]"


class CaptionVocabulary(CaptionTokenizer):
    """Captions <-> ids: [bos] w_1 ... w_n [eos], padded with 0 to max_words + 2 tokens.

    Id 0 is padding and id 1 an unknown word (CaptionTokenizer); [bos] and [eos] are two more
    words of the vocabulary. decode() turns generated ids back into text."""

    def __init__(self, words, max_words):
        super().__init__(list(words) + [BOS, EOS])
        self.max_words, self.max_tokens = max_words, max_words + 2
        self.pad_id, self.bos_id, self.eos_id = 0, self.index[BOS], self.index[EOS]

    def __call__(self, captions):
        """(N, max_words + 2) int64: [bos], the words (cut at max_words), [eos], padding."""
        words = super().__call__(captions, self.max_words)
        ids = numpy.zeros((len(words), self.max_tokens), dtype=numpy.int64)
        ids[:, 0] = self.bos_id
        ids[:, 1:-1] = words
        lengths = (words != 0).sum(axis=1)
        ids[numpy.arange(len(words)), lengths + 1] = self.eos_id
        return ids

    def decode(self, ids):
        """Text of each row of ids (N, T): the words up to the first [eos], without [bos] and
        padding."""
        captions = []
        for row in numpy.asarray(ids):
            words = []
            for i in row:
                if i == self.eos_id:
                    break
                if i not in (self.pad_id, self.bos_id):
                    words.append(self.vocabulary[i])
            captions.append(" ".join(words))
        return captions


def _token_ids(ids, name):
    """ids as an integer host array, or a named error."""
    try:
        ids = numpy.asarray(ids.numpy() if isinstance(ids, Tensor) else ids)
    except (TypeError, ValueError) as err:  # ragged lists, lists of tensors
        raise ShapeError(f"{name}: ids must be an (N, T) array of token ids, got "
                         f"{type(ids).__name__} ({err})") from None
    if ids.dtype.kind not in "iu":
        raise DTypeError(f"{name}: ids must be integer token ids, got dtype {ids.dtype}")
    return ids


def caption_loss(logits, ids, pad_id=0):
    """Next-token cross-entropy under teacher forcing:

        L_cap = -(1 / M) sum_{n, t : y_{n,t+1} != pad} log softmax(logits_{n,t})[y_{n,t+1}]

    logits (N, T', V) with T' >= T - 1 (positions past T - 1, e.g. CoCa's [cls], are not
    read); ids (N, T) int, the input tokens y, so the target of position t is y_{t+1}; M the
    number of real targets. Gradient with respect to logits_{n,t}:
    (softmax(logits_{n,t}) - onehot(y_{n,t+1})) / M at counted positions, 0 elsewhere."""
    ids = _token_ids(ids, "caption_loss")
    if not isinstance(logits, Tensor) or logits.ndim != 3:
        raise ShapeError(f"caption_loss: logits must be an (N, T, V) Tensor, got "
                         f"{getattr(logits, 'shape', type(logits).__name__)}")
    if ids.ndim != 2 or ids.shape[0] != logits.shape[0] or logits.shape[1] < ids.shape[1] - 1 \
            or ids.shape[1] < 2:
        raise ShapeError(f"caption_loss: ids must be (N, T) with T >= 2 and logits (N, >= T - "
                         f"1, V), got ids {ids.shape} and logits {logits.shape}")
    if ids.min() < 0 or ids.max() >= logits.shape[2]:
        raise ArgumentError(f"caption_loss: ids must be in [0, {logits.shape[2]}) (the "
                            f"logits' vocabulary), got values in [{ids.min()}, {ids.max()}]")
    targets = numpy.where(ids[:, 1:] == pad_id, IGNORE, ids[:, 1:])
    if (targets == IGNORE).all():
        raise ArgumentError("caption_loss: every target is padding")
    return F.cross_entropy(logits[:, :ids.shape[1] - 1].reshape(-1, logits.shape[2]),
                           tensor(targets.reshape(-1), device=logits.device),
                           ignore_index=IGNORE)


class GatedDecoderLayer(TransformerDecoderLayer):
    """nn.TransformerDecoderLayer whose cross-attention output is multiplied by
    ``cross_attention_gate`` (a float, 1 by default): x = x + g CA(LN2(x), memory)."""

    cross_attention_gate = 1.0

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        out = super()._mha_block(x, memory, attn_mask, key_padding_mask, is_causal)
        return out if self.cross_attention_gate == 1.0 else out * self.cross_attention_gate


def gated_decoder_layers(width, heads, layers, rng):
    """``layers`` pre-LN GatedDecoderLayers, batch first, GELU, feed-forward 2 * width."""
    return ModuleList(GatedDecoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0,
                                        activation="gelu", batch_first=True, norm_first=True,
                                        generator=rng)
                      for _ in range(layers))


def repeat_rows(x, rows, name):
    """x (N, ...) repeated to ``rows`` rows, each row k times in place (k = rows / N): the
    layout decoding.beam_search uses (row b * k + j is beam j of input b)."""
    n = x.shape[0]
    if rows == n:
        return x
    if rows % n:
        raise ShapeError(f"{name}: {rows} rows of ids cannot be spread over {n} images")
    return x[numpy.repeat(numpy.arange(n), rows // n)]


class ImageGroundedDecoder(Module):
    """ImageGroundedDecoder(vocab_size, max_tokens, width=48, heads=4, layers=2, seed=0):
    forward(ids (N, T), image_tokens (N, S, width)) -> logits (N, T, vocab_size), the module
    docstring's decoder."""

    def __init__(self, vocab_size, max_tokens, width=48, heads=4, layers=2, seed=0):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.vocab_size, self.width = vocab_size, width
        self.embedding = WordEmbedding(vocab_size, max_tokens, width, rng)
        self.layers = gated_decoder_layers(width, heads, layers, rng)
        self.norm = LayerNorm(width)
        self.head = Linear(width, vocab_size, generator=rng)

    def set_cross_attention_gate(self, gate):
        """g in every layer: 1 reads the image, 0 makes a plain causal LM."""
        for layer in self.layers:
            layer.cross_attention_gate = float(gate)

    def forward(self, ids, image_tokens):
        ids = _token_ids(ids, "ImageGroundedDecoder")
        if not isinstance(image_tokens, Tensor) or ids.ndim != 2 or image_tokens.ndim != 3 \
                or image_tokens.shape[0] != ids.shape[0] or image_tokens.shape[2] != self.width:
            raise ShapeError(f"ImageGroundedDecoder: ids must be (N, T) and image_tokens an "
                             f"(N, S, {self.width}) Tensor, got ids {ids.shape} and "
                             f"{getattr(image_tokens, 'shape', type(image_tokens).__name__)}")
        x = self.embedding(ids)
        for layer in self.layers:
            x = layer(x, image_tokens, tgt_is_causal=True)
        return self.head(self.norm(x))

    def next_log_probs(self, image_tokens):
        """next_log_probs(ids) for models/decoding.py: log softmax of the last position's
        logits, (rows, vocab) host array; rows may be a multiple of the images (beams)."""
        def next_log_probs(ids):
            with no_grad():
                memory = repeat_rows(image_tokens, ids.shape[0], "ImageGroundedDecoder")
                return self(ids, memory)[:, -1].log_softmax(axis=-1).numpy()
        return next_log_probs

    def generate(self, image_tokens, bos_id, eos_id, max_length, beam_size=1,
                 length_penalty=0.0):
        """Token ids (N, <= max_length) after [bos] for each image (decoding.generate)."""
        prefix = numpy.full((image_tokens.shape[0], 1), bos_id, dtype=numpy.int64)
        return generate(self.next_log_probs(image_tokens), prefix, max_length, eos_id,
                        beam_size=beam_size, length_penalty=length_penalty)


class Captioner(Module):
    """An image encoder (a ViT keeping every token) and an ImageGroundedDecoder reading it.

    loss(images, ids) = caption_loss(decoder(ids, ViT(images)), ids);
    caption(images, vocabulary, beam_size) -> list of str."""

    def __init__(self, vocab_size, max_tokens, image_size=24, patch_size=4, width=48, heads=4,
                 image_layers=1, decoder_layers=2, seed=0):
        super().__init__()
        self.image_encoder = ImageEncoder(image_size, patch_size, 3, width, heads, image_layers,
                                          seed=seed + 1)
        self.decoder = ImageGroundedDecoder(vocab_size, max_tokens, width, heads,
                                            decoder_layers, seed=seed + 2)

    def loss(self, images, ids):
        return caption_loss(self.decoder(ids, self.image_encoder(images)), ids)

    def generate(self, images, vocabulary, beam_size=1, length_penalty=0.0):
        with no_grad():
            image_tokens = self.image_encoder(images)
        return self.decoder.generate(image_tokens, vocabulary.bos_id, vocabulary.eos_id,
                                     vocabulary.max_tokens - 1, beam_size, length_penalty)

    def caption(self, images, vocabulary, beam_size=1, length_penalty=0.0):
        return vocabulary.decode(self.generate(images, vocabulary, beam_size, length_penalty))

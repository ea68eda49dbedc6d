"""BERT's weights (Hugging Face BertForMaskedLM) in models.bert.BERT: ``BERT.from_hf(path)``.

The published BERT is the project's BERT with post-LN layers (norm_first=False), segment
embeddings (type_vocab_size=2), a LayerNorm on the summed embeddings, layer-norm epsilon
1e-12 and the exact GELU; its MLM decoder shares the word-embedding matrix. The names:

    BertForMaskedLM (Hugging Face)                       BERT (this project)
    bert.embeddings.word_embeddings          (V, E)      token_embedding (= decoder.weight)
    bert.embeddings.position_embeddings      (P, E)      position_embedding
    bert.embeddings.token_type_embeddings    (2, E)      token_type_embedding
    bert.embeddings.LayerNorm                (E,)        embedding_norm
    bert.encoder.layer.i.attention.self.{query,key,value}  layers.i.self_attn.in_proj_weight
                                             3 x (E, E)  (3E, E), stacked q; k; v (biases too)
    ...attention.output.dense                (E, E)      layers.i.self_attn.out_proj
    ...attention.output.LayerNorm            (E,)        layers.i.norm1 (post-LN: after the
                                                         residual sum)
    ...intermediate.dense                    (F, E)      layers.i.linear1
    ...output.dense                          (E, F)      layers.i.linear2
    ...output.LayerNorm                      (E,)        layers.i.norm2
    cls.predictions.transform.dense          (E, E)      transform
    cls.predictions.transform.LayerNorm      (E,)        transform_norm
    cls.predictions.bias (= decoder.bias)    (V,)        decoder.bias

BERT's Linear layers store (out, in) as nn.Linear does, so nothing is transposed. Older
files spell LayerNorm's weight and bias "gamma" and "beta"; both spellings are read. The
pre-training checkpoints (bert-base-uncased) also carry the pooler and the next-sentence
head (bert.pooler, cls.seq_relationship), which a masked language model does not use: they
are skipped. Only absolute positions are supported (position_embedding_type "absolute").
"""

import re

import numpy

from ..errors import CheckpointError
from .activations import HF_NAMES
from .hf_common import Source, get, load_mapped, read_source, stack_qkv

_SKIPPED = ("position_ids", "pooler.dense.weight", "pooler.dense.bias",
            "cls.seq_relationship.weight", "cls.seq_relationship.bias")


def _norm(source, prefix):
    """A LayerNorm's (weight, bias), spelled weight/bias or gamma/beta."""
    return (source.take(prefix + ".weight", prefix + ".gamma"),
            source.take(prefix + ".bias", prefix + ".beta"))


def _qkv(source, prefix):
    (wq, bq), (wk, bk), (wv, bv) = (source.take_linear(f"{prefix}.{name}")
                                    for name in ("query", "key", "value"))
    if any(w is None for w in (wq, wk, wv, bq, bk, bv)):
        return None, None
    return stack_qkv(wq, wk, wv), stack_qkv(bq, bk, bv)


def from_hf(cls, source, config=None):
    """A BERT holding BertForMaskedLM's weights: ``source`` is a directory (config.json and
    model.safetensors), a .safetensors file, or a state dict (NumPy arrays or torch
    tensors); ``config`` a dict, a path to config.json or a transformers BertConfig when
    the directory has none. Returns the model in eval mode."""
    what = f"{cls.__name__}.from_hf"
    state, config = read_source(source, config, what)
    if get(config, "position_embedding_type", "absolute") != "absolute":
        raise CheckpointError(f"{what}: position_embedding_type "
                              f"{config['position_embedding_type']!r} is not supported "
                              "(only 'absolute')")
    hidden_act = get(config, "hidden_act", "gelu")
    if hidden_act not in HF_NAMES:
        raise CheckpointError(f"{what}: hidden_act {hidden_act!r} is not one of "
                              f"{sorted(HF_NAMES)}")
    source, embeddings = Source(state, what), "bert.embeddings."
    words = source.take(embeddings + "word_embeddings.weight")
    positions = source.take(embeddings + "position_embeddings.weight")
    types = source.take(embeddings + "token_type_embeddings.weight")
    layers = sorted({int(m.group(1)) for name in state
                     for m in [re.match(r"bert\.encoder\.layer\.(\d+)\.", name)] if m})
    if words is None or positions is None or types is None or not layers:
        source.check(_SKIPPED)
    if layers != list(range(len(layers))):
        raise CheckpointError(f"{what}: the layers are not numbered 0..n-1: {layers}")
    decoder = source.take("cls.predictions.decoder.weight") if source.has(
        "cls.predictions.decoder.weight") else None
    tied = decoder is None or numpy.array_equal(decoder, words)
    intermediate = state.get("bert.encoder.layer.0.intermediate.dense.weight")
    model = cls(words.shape[0], positions.shape[0], d_model=words.shape[1],
                nhead=get(config, "num_attention_heads", 12), num_layers=len(layers),
                dim_feedforward=None if intermediate is None else intermediate.shape[0],
                norm_first=False, activation=HF_NAMES[hidden_act],
                layer_norm_eps=get(config, "layer_norm_eps", 1e-12), embedding_norm=True,
                type_vocab_size=types.shape[0], tie_weights=tied)
    mapped = {"token_embedding.weight": words, "position_embedding.weight": positions,
              "token_type_embedding.weight": types}
    mapped["embedding_norm.weight"], mapped["embedding_norm.bias"] = _norm(
        source, embeddings + "LayerNorm")
    for i in layers:
        ours, theirs = f"layers.{i}.", f"bert.encoder.layer.{i}."
        mapped[ours + "self_attn.in_proj_weight"], mapped[ours + "self_attn.in_proj_bias"] = (
            _qkv(source, theirs + "attention.self"))
        for our_name, their_name in (("self_attn.out_proj", "attention.output.dense"),
                                     ("linear1", "intermediate.dense"),
                                     ("linear2", "output.dense")):
            mapped[ours + our_name + ".weight"], mapped[ours + our_name + ".bias"] = (
                source.take_linear(theirs + their_name))
        for our_name, their_name in (("norm1", "attention.output.LayerNorm"),
                                     ("norm2", "output.LayerNorm")):
            mapped[ours + our_name + ".weight"], mapped[ours + our_name + ".bias"] = _norm(
                source, theirs + their_name)
    head = "cls.predictions."
    mapped["transform.weight"], mapped["transform.bias"] = source.take_linear(
        head + "transform.dense")
    mapped["transform_norm.weight"], mapped["transform_norm.bias"] = _norm(
        source, head + "transform.LayerNorm")
    mapped["decoder.bias"] = source.take(head + "bias", head + "decoder.bias")
    if source.has(head + "decoder.bias"):  # the same vector as cls.predictions.bias
        source.take(head + "decoder.bias")
    if not tied:
        mapped["decoder.weight"] = decoder
    return load_mapped(model, source, mapped, ignore=_SKIPPED)

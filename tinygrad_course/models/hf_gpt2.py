"""GPT-2's weights (Hugging Face layout) in models.gpt.GPT: ``GPT.from_hf(path_or_state_dict)``.

GPT-2 is the project's GPT with three options set: the tanh form of GELU ("gelu_new"),
layer-norm epsilon 1e-5, and the output head tied to the token embedding (logits = h wte^T,
no bias). The names map one to one, block by block:

    GPT-2 (Hugging Face)           shape            GPT (this project)
    wte.weight                     (V, E)           token_embedding.weight (= head.weight)
    wpe.weight                     (P, E)           position_embedding.weight
    h.i.ln_1.{weight,bias}         (E,)             blocks.i.norm1
    h.i.attn.c_attn.weight         (E, 3E)          blocks.i.self_attn.in_proj_weight (3E, E)
    h.i.attn.c_attn.bias           (3E,)            blocks.i.self_attn.in_proj_bias
    h.i.attn.c_proj.weight         (E, E)           blocks.i.self_attn.out_proj.weight
    h.i.ln_2.{weight,bias}         (E,)             blocks.i.norm2
    h.i.mlp.c_fc.weight            (E, 4E)          blocks.i.linear1.weight (4E, E)
    h.i.mlp.c_proj.weight          (4E, E)          blocks.i.linear2.weight (E, 4E)
    ln_f.{weight,bias}             (E,)             norm

GPT-2's ``Conv1D`` is a linear layer that stores its weight as (in, out) and computes
x W + b, so every such weight is transposed into nn.Linear's (out, in). c_attn's 3E output
columns are [query | key | value], the order of MultiheadAttention's in_proj_weight rows.
The names may carry GPT2LMHeadModel's "transformer." prefix; ``lm_head.weight``, when
present, must equal wte (GPT-2 ties them). The causal-mask buffers older files carry
(h.i.attn.bias, h.i.attn.masked_bias) are not weights and are skipped.

Sizes come from the shapes (vocabulary, positions, width, layers, feed-forward width); the
number of heads, the epsilon and the activation from the config (config.json of the
directory, or ``config=``), defaulting to GPT-2's own (12 heads, 1e-5, "gelu_new").
"""

import re

import numpy

from ..errors import CheckpointError
from .activations import HF_NAMES
from .hf_common import Source, get, load_mapped, read_source, strip_prefix


def _transposed(weight):
    return None if weight is None else numpy.ascontiguousarray(weight.T)


def _check_config(config, what):
    """Refuse the GPT-2 variants this GPT does not compute."""
    if not get(config, "scale_attn_weights", True):
        raise CheckpointError(f"{what}: scale_attn_weights=False (no 1/sqrt(d) in attention) "
                              "is not supported")
    if get(config, "scale_attn_by_inverse_layer_idx", False):
        raise CheckpointError(f"{what}: scale_attn_by_inverse_layer_idx=True is not supported")
    activation = get(config, "activation_function", "gelu_new")
    if activation not in HF_NAMES:
        raise CheckpointError(f"{what}: activation_function {activation!r} is not one of "
                              f"{sorted(HF_NAMES)}")
    return HF_NAMES[activation]


def from_hf(cls, source, config=None):
    """A GPT holding GPT-2's weights: ``source`` is a directory (config.json and
    model.safetensors), a .safetensors file, or a state dict (GPT2Model or GPT2LMHeadModel
    names; NumPy arrays or torch tensors). ``config``: a dict, a path to config.json or a
    transformers GPT2Config, when the directory has none. Returns the model in eval mode."""
    what = f"{cls.__name__}.from_hf"
    state, config = read_source(source, config, what)
    state = strip_prefix(state, "transformer.")
    activation = _check_config(config, what)
    source = Source(state, what)
    wte, wpe = source.take("wte.weight"), source.take("wpe.weight")
    layers = sorted({int(m.group(1)) for name in state
                     for m in [re.match(r"h\.(\d+)\.", name)] if m})
    if wte is None or wpe is None or not layers or layers != list(range(len(layers))):
        source.check()
        raise CheckpointError(f"{what}: the blocks h.i are not numbered 0..n-1: {layers}")
    (vocab_size, width), block_size = wte.shape, wpe.shape[0]
    c_fc = state.get("h.0.mlp.c_fc.weight")
    model = cls(vocab_size, block_size, d_model=width,
                nhead=get(config, "n_head", 12, "num_attention_heads"),
                num_layers=len(layers),
                dim_feedforward=c_fc.shape[1] if c_fc is not None else None,
                activation=activation,
                layer_norm_eps=get(config, "layer_norm_epsilon", 1e-5), tie_weights=True)
    mapped = {"token_embedding.weight": wte, "position_embedding.weight": wpe}
    for i in layers:
        ours, theirs = f"blocks.{i}.", f"h.{i}."
        mapped.update({
            ours + "norm1.weight": source.take(theirs + "ln_1.weight"),
            ours + "norm1.bias": source.take(theirs + "ln_1.bias"),
            ours + "self_attn.in_proj_weight": _transposed(source.take(
                theirs + "attn.c_attn.weight")),
            ours + "self_attn.in_proj_bias": source.take(theirs + "attn.c_attn.bias"),
            ours + "self_attn.out_proj.weight": _transposed(source.take(
                theirs + "attn.c_proj.weight")),
            ours + "self_attn.out_proj.bias": source.take(theirs + "attn.c_proj.bias"),
            ours + "norm2.weight": source.take(theirs + "ln_2.weight"),
            ours + "norm2.bias": source.take(theirs + "ln_2.bias"),
            ours + "linear1.weight": _transposed(source.take(theirs + "mlp.c_fc.weight")),
            ours + "linear1.bias": source.take(theirs + "mlp.c_fc.bias"),
            ours + "linear2.weight": _transposed(source.take(theirs + "mlp.c_proj.weight")),
            ours + "linear2.bias": source.take(theirs + "mlp.c_proj.bias"),
        })
    mapped["norm.weight"], mapped["norm.bias"] = source.take("ln_f.weight"), source.take(
        "ln_f.bias")
    if source.has("lm_head.weight"):
        head = source.take("lm_head.weight")
        if not numpy.array_equal(head, wte):
            raise CheckpointError(f"{what}: lm_head.weight differs from wte.weight; GPT-2 ties "
                                  "them, and this GPT has no separate head to load it into")
    return load_mapped(model, source, mapped, ignore=(".attn.bias", ".attn.masked_bias"))

"""ViT's weights (Hugging Face ViTModel / ViTForImageClassification) in models.vit.ViT:
``ViT.from_hf(path_or_state_dict)``.

The published ViT is the project's ViT with layer-norm epsilon 1e-12 and the exact GELU.
The names (an optional "vit." prefix; transformers 5 spells the in-memory modules
differently, shown after the slash, and both are read):

    Hugging Face                                         ViT (this project)
    embeddings.cls_token                 (1, 1, E)       cls_token
    embeddings.position_embeddings       (1, P+1, E)     position_embedding.weight (P+1, E)
    embeddings.patch_embeddings.projection  (E, C, p, p) patch_embedding (E, C p p): a
                                                         convolution with stride p is a
                                                         Linear on the flattened patches
    encoder.layer.i.layernorm_before / layers.i.layernorm_before        layers.i.norm1
    encoder.layer.i.attention.attention.{query,key,value} / attention.{q,k,v}_proj
                                                         layers.i.self_attn.in_proj (stacked)
    encoder.layer.i.attention.output.dense / attention.o_proj  layers.i.self_attn.out_proj
    encoder.layer.i.layernorm_after                      layers.i.norm2
    encoder.layer.i.intermediate.dense / mlp.fc1         layers.i.linear1
    encoder.layer.i.output.dense / mlp.fc2               layers.i.linear2
    layernorm                                            norm
    classifier                           (K, E)          head (ViTForImageClassification)

The convolution weight flattens in (channel, row, column) order, which is the order
models.vit.patchify lays out each patch's pixels. A ViTModel has no classifier: the ViT is
built with num_classes=None (forward gives the CLS features; ``encode`` gives
last_hidden_state). ViTModel's pooler (a dense layer and tanh on the CLS vector, used by no
classifier here) is skipped. With qkv_bias=False the missing query/key/value biases load
as zeros, which is the same computation.
"""

import math
import re

import numpy

from ..errors import CheckpointError
from .activations import HF_NAMES
from .hf_common import Source, get, load_mapped, read_source, stack_qkv, strip_prefix

_SKIPPED = ("pooler.dense.weight", "pooler.dense.bias")


def _layer_linear(source, i, classic, renamed):
    return source.take_linear(f"encoder.layer.{i}.{classic}", f"layers.{i}.{renamed}")


def from_hf(cls, source, config=None):
    """A ViT holding a Hugging Face ViT's weights: ``source`` is a directory (config.json and
    model.safetensors), a .safetensors file, or a state dict; ``config`` a dict, a path or
    a transformers ViTConfig when the directory has none. Returns the model in eval mode."""
    what = f"{cls.__name__}.from_hf"
    state, config = read_source(source, config, what)
    state = strip_prefix(state, "vit.")
    hidden_act = get(config, "hidden_act", "gelu")
    if hidden_act not in HF_NAMES:
        raise CheckpointError(f"{what}: hidden_act {hidden_act!r} is not one of "
                              f"{sorted(HF_NAMES)}")
    source = Source(state, what)
    cls_token = source.take("embeddings.cls_token")
    positions = source.take("embeddings.position_embeddings")
    conv_w, conv_b = source.take_linear("embeddings.patch_embeddings.projection")
    layers = sorted({int(m.group(1)) for name in state
                     for m in [re.match(r"(?:encoder\.layer|layers)\.(\d+)\.", name)] if m})
    if cls_token is None or positions is None or conv_w is None or not layers:
        source.check(_SKIPPED)
    if layers != list(range(len(layers))):
        raise CheckpointError(f"{what}: the layers are not numbered 0..n-1: {layers}")
    width, channels, patch = conv_w.shape[0], conv_w.shape[1], conv_w.shape[2]
    side = math.isqrt(positions.shape[-2] - 1)
    if side * side != positions.shape[-2] - 1:
        raise CheckpointError(f"{what}: {positions.shape[-2] - 1} patch positions do not "
                              "form a square grid")
    classifier = source.take_linear("classifier") if source.has("classifier.weight") else None
    hidden = state.get("encoder.layer.0.intermediate.dense.weight",
                       state.get("layers.0.mlp.fc1.weight"))
    model = cls(side * patch, patch, None if classifier is None else classifier[0].shape[0],
                in_channels=channels, d_model=width,
                nhead=get(config, "num_attention_heads", 12), num_layers=len(layers),
                dim_feedforward=None if hidden is None else hidden.shape[0],
                activation=HF_NAMES[hidden_act],
                layer_norm_eps=get(config, "layer_norm_eps", 1e-12))
    mapped = {"cls_token": cls_token.reshape(1, 1, width),
              "position_embedding.weight": positions.reshape(-1, width),
              "patch_embedding.weight": conv_w.reshape(width, -1),
              "patch_embedding.bias": conv_b}
    zeros = numpy.zeros(width, dtype=cls_token.dtype)
    for i in layers:
        ours = f"layers.{i}."
        q, k, v = (_layer_linear(source, i, f"attention.attention.{a}", f"attention.{b}_proj")
                   if get(config, "qkv_bias", True) else
                   (source.take(f"encoder.layer.{i}.attention.attention.{a}.weight",
                                f"layers.{i}.attention.{b}_proj.weight"), zeros)
                   for a, b in (("query", "q"), ("key", "k"), ("value", "v")))
        if all(w is not None for pair in (q, k, v) for w in pair):
            mapped[ours + "self_attn.in_proj_weight"] = stack_qkv(q[0], k[0], v[0])
            mapped[ours + "self_attn.in_proj_bias"] = stack_qkv(q[1], k[1], v[1])
        for our_name, classic, renamed in (
                ("self_attn.out_proj", "attention.output.dense", "attention.o_proj"),
                ("linear1", "intermediate.dense", "mlp.fc1"),
                ("linear2", "output.dense", "mlp.fc2"),
                ("norm1", "layernorm_before", "layernorm_before"),
                ("norm2", "layernorm_after", "layernorm_after")):
            mapped[ours + our_name + ".weight"], mapped[ours + our_name + ".bias"] = (
                _layer_linear(source, i, classic, renamed))
    mapped["norm.weight"], mapped["norm.bias"] = source.take_linear("layernorm")
    if classifier is not None:
        mapped["head.weight"], mapped["head.bias"] = classifier
    return load_mapped(model, source, mapped, ignore=_SKIPPED)

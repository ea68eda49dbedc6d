"""CLIP's weights (Hugging Face CLIPModel) in models.clip.CLIP: ``CLIP.from_hf(path)``.

Both towers are pre-LN transformers with QuickGELU (x sigmoid(1.702 x)) and epsilon 1e-5:

    image tower: ViT(num_classes=None, patch_bias=False, embedding_norm=True)
        x = LN_pre([class_embedding; patches W_p] + positions) -> layers -> LN_post(x[:, 0])
    text tower: TransformerTextEncoder(causal=True, pooling="eos")
        x = tokens + positions -> causal layers -> LN_final -> the end-of-text position
    image_embeds = visual_projection(image features),  text_embeds = text_projection(...)
    logits_per_image = exp(logit_scale) cos(image_embeds, text_embeds)

The names (each tower's layer i, under text_model.encoder / vision_model.encoder):

    layers.i.layer_norm1                 layers.i.norm1
    layers.i.self_attn.{q,k,v}_proj      layers.i.self_attn.in_proj_weight / _bias (stacked)
    layers.i.self_attn.out_proj          layers.i.self_attn.out_proj
    layers.i.layer_norm2                 layers.i.norm2
    layers.i.mlp.fc1, mlp.fc2            layers.i.linear1, linear2
    text_model.embeddings.token_embedding, .position_embedding   text_encoder.token_embedding,
                                                                 .position_embedding (P, E)
    text_model.final_layer_norm          text_encoder.final_norm
    vision_model.embeddings.class_embedding (E,)                 image_encoder.cls_token
    vision_model.embeddings.patch_embedding (E, C, p, p)         image_encoder.patch_embedding
                                                                 (E, C p p), no bias
    vision_model.embeddings.position_embedding (P+1, E)          image_encoder.position_embedding
    vision_model.pre_layrnorm (sic)      image_encoder.embedding_norm
    vision_model.post_layernorm          image_encoder.norm (applied to every position; the
                                         CLS row is the one CLIP uses)
    visual_projection, text_projection   image_projection, text_projection (no bias)
    logit_scale ()                       logit_scale

The end-of-text token: with the config's eos_token_id equal to 2 (the value of the first
CLIP configs, which transformers treats as "use the largest id") the largest id of each row,
otherwise the first position holding eos_token_id, as transformers does. CLIP here clamps
the logit scale at log 100 in forward; trained CLIP models already hold log 100.
"""

import math
import re

from ..errors import CheckpointError
from .activations import HF_NAMES
from .hf_common import Source, get, load_mapped, read_source, stack_qkv
from .vit import ViT

_SKIPPED = ("position_ids",)


def _layers(state, prefix, what):
    pattern = re.compile(re.escape(prefix) + r"encoder\.layers\.(\d+)\.")
    layers = sorted({int(m.group(1)) for name in state for m in [pattern.match(name)] if m})
    if layers != list(range(len(layers))):
        raise CheckpointError(f"{what}: the layers of {prefix[:-1]} are not numbered 0..n-1")
    return layers


def _map_layers(source, theirs, ours, layers, mapped):
    for i in layers:
        t, o = f"{theirs}encoder.layers.{i}.", f"{ours}layers.{i}."
        (wq, bq), (wk, bk), (wv, bv) = (source.take_linear(f"{t}self_attn.{x}_proj")
                                        for x in "qkv")
        if all(a is not None for a in (wq, wk, wv, bq, bk, bv)):
            mapped[o + "self_attn.in_proj_weight"] = stack_qkv(wq, wk, wv)
            mapped[o + "self_attn.in_proj_bias"] = stack_qkv(bq, bk, bv)
        for our_name, their_name in (("self_attn.out_proj", "self_attn.out_proj"),
                                     ("norm1", "layer_norm1"), ("norm2", "layer_norm2"),
                                     ("linear1", "mlp.fc1"), ("linear2", "mlp.fc2")):
            mapped[o + our_name + ".weight"], mapped[o + our_name + ".bias"] = (
                source.take_linear(t + their_name))


def _activation(config, what):
    name = get(config, "hidden_act", "quick_gelu")
    if name not in HF_NAMES:
        raise CheckpointError(f"{what}: hidden_act {name!r} is not one of {sorted(HF_NAMES)}")
    return HF_NAMES[name]


def from_hf(cls, source, config=None):
    """A CLIP holding CLIPModel's weights (both towers, projections, logit scale): ``source``
    is a directory (config.json and model.safetensors), a .safetensors file, or a state
    dict; ``config`` a dict, a path or a transformers CLIPConfig when the directory has
    none (the head counts come from it: text_config and vision_config). Returns the model in
    eval mode."""
    from .clip import TransformerTextEncoder  # here: clip.py imports this module

    what = f"{cls.__name__}.from_hf"
    state, config = read_source(source, config, what)
    text_config = config.get("text_config") or {}
    vision_config = config.get("vision_config") or {}
    source = Source(state, what)
    words = source.take("text_model.embeddings.token_embedding.weight")
    text_positions = source.take("text_model.embeddings.position_embedding.weight")
    class_embedding = source.take("vision_model.embeddings.class_embedding")
    patch_w = source.take("vision_model.embeddings.patch_embedding.weight")
    image_positions = source.take("vision_model.embeddings.position_embedding.weight")
    text_projection = source.take("text_projection.weight")
    visual_projection = source.take("visual_projection.weight")
    text_layers = _layers(state, "text_model.", what)
    vision_layers = _layers(state, "vision_model.", what)
    if any(x is None for x in (words, text_positions, class_embedding, patch_w,
                               image_positions, text_projection, visual_projection)):
        source.check(_SKIPPED)
    side = math.isqrt(image_positions.shape[0] - 1)
    if side * side != image_positions.shape[0] - 1:
        raise CheckpointError(f"{what}: {image_positions.shape[0] - 1} patch positions do not "
                              "form a square grid")
    eos = get(text_config, "eos_token_id", 2)
    text_fc1 = state.get("text_model.encoder.layers.0.mlp.fc1.weight")
    vision_fc1 = state.get("vision_model.encoder.layers.0.mlp.fc1.weight")
    text = TransformerTextEncoder(
        words.shape[0], text_positions.shape[0], width=words.shape[1],
        heads=get(text_config, "num_attention_heads", 8), layers=len(text_layers),
        dim_feedforward=None if text_fc1 is None else text_fc1.shape[0],
        activation=_activation(text_config, what),
        layer_norm_eps=get(text_config, "layer_norm_eps", 1e-5), causal=True, pooling="eos",
        eos_token_id=None if eos == 2 else eos)
    width, channels, patch = patch_w.shape[0], patch_w.shape[1], patch_w.shape[2]
    vision = ViT(side * patch, patch, None, in_channels=channels, d_model=width,
                 nhead=get(vision_config, "num_attention_heads", 12),
                 num_layers=len(vision_layers),
                 dim_feedforward=None if vision_fc1 is None else vision_fc1.shape[0],
                 activation=_activation(vision_config, what),
                 layer_norm_eps=get(vision_config, "layer_norm_eps", 1e-5), patch_bias=False,
                 embedding_norm=True)
    model = cls(vision, text, embed_dim=text_projection.shape[0])
    mapped = {
        "logit_scale": source.take("logit_scale"),
        "image_projection.weight": visual_projection,
        "text_projection.weight": text_projection,
        "text_encoder.token_embedding.weight": words,
        "text_encoder.position_embedding": text_positions,
        "image_encoder.cls_token": class_embedding.reshape(1, 1, width),
        "image_encoder.patch_embedding.weight": patch_w.reshape(width, -1),
        "image_encoder.position_embedding.weight": image_positions,
    }
    mapped["text_encoder.final_norm.weight"], mapped["text_encoder.final_norm.bias"] = (
        source.take_linear("text_model.final_layer_norm"))
    mapped["image_encoder.embedding_norm.weight"], mapped["image_encoder.embedding_norm.bias"] = (
        source.take_linear("vision_model.pre_layrnorm"))
    mapped["image_encoder.norm.weight"], mapped["image_encoder.norm.bias"] = (
        source.take_linear("vision_model.post_layernorm"))
    _map_layers(source, "text_model.", "text_encoder.", text_layers, mapped)
    _map_layers(source, "vision_model.", "image_encoder.", vision_layers, mapped)
    return load_mapped(model, source, mapped, ignore=_SKIPPED)

"""Real architectures, real layouts: Hugging Face models built offline from small random
configs (a config and a seed, no download), saved with save_pretrained, loaded with
``from_hf``, and compared on the same inputs (max abs difference <= 1e-4 in float32).

The equality tests need transformers and torch (the interop extra) and are skipped with the
reason otherwise; the refusals at the end need neither.
"""

import json

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course.errors import CheckpointError
from tinygrad_course.gradcheck import gradcheck
from tinygrad_course.models.activations import quick_gelu
from tinygrad_course.models.bert import BERT
from tinygrad_course.models.clip import CLIP
from tinygrad_course.models.gpt import GPT
from tinygrad_course.models.vit import ViT

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def hf():
    """(torch, transformers), the random-weight models built on the CPU, quietly."""
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e "
                                "'.[interop]')")
    transformers = pytest.importorskip("transformers", reason="transformers is not installed "
                                       "(pip install -e '.[interop]')")
    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    return torch, transformers


def _saved(model, tmp_path_factory, name):
    directory = tmp_path_factory.mktemp(name)
    model.save_pretrained(str(directory))
    return directory


def _max_diff(ours, theirs):
    return float(np.abs(np.asarray(ours, np.float64) - np.asarray(theirs, np.float64)).max())


def test_gpt2_logits_match_transformers(hf, tmp_path_factory):
    torch, transformers = hf
    config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=16,
                                     vocab_size=61, bos_token_id=0, eos_token_id=0)
    theirs = transformers.GPT2LMHeadModel(config).eval()
    directory = _saved(theirs, tmp_path_factory, "gpt2")
    ids = np.random.default_rng(0).integers(0, 61, (3, 16))
    with torch.no_grad():
        expected = theirs(torch.tensor(ids)).logits.numpy()
    for source, given in ((directory, None), (theirs.state_dict(), config)):
        ours = GPT.from_hf(source, config=given)
        assert ours.head.weight is ours.token_embedding.weight  # tied, as GPT-2's lm_head
        assert _max_diff(ours(ids).numpy(), expected) <= TOLERANCE
    # float64 on both sides: the mapping is exact, not merely close
    ours.double()
    with torch.no_grad():
        expected64 = theirs.double()(torch.tensor(ids)).logits.numpy()
    assert _max_diff(ours(ids).numpy(), expected64) <= 1e-10


def test_gpt2_greedy_generation_matches_transformers(hf, tmp_path_factory):
    torch, transformers = hf
    config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=24,
                                     vocab_size=61, bos_token_id=0, eos_token_id=0)
    theirs = transformers.GPT2LMHeadModel(config).eval()
    ours = GPT.from_hf(theirs.state_dict(), config=config)
    prompt = np.array([5, 17, 42, 3])
    with torch.no_grad():
        expected = theirs.generate(torch.tensor(prompt[None]), max_new_tokens=12,
                                   do_sample=False, pad_token_id=0).numpy()[0]
    np.testing.assert_array_equal(ours.generate(prompt, 12, temperature=0), expected)


def test_bert_mlm_logits_match_transformers(hf, tmp_path_factory):
    torch, transformers = hf
    config = transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=64, vocab_size=57,
                                     max_position_embeddings=16)
    theirs = transformers.BertForMaskedLM(config).eval()
    directory = _saved(theirs, tmp_path_factory, "bert")
    rng = np.random.default_rng(1)
    ids, segments = rng.integers(0, 57, (2, 16)), rng.integers(0, 2, (2, 16))
    real = np.ones((2, 16), dtype=bool)
    real[1, 11:] = False  # padding at the end of the second row
    with torch.no_grad():
        plain = theirs(torch.tensor(ids)).logits.numpy()
        full = theirs(torch.tensor(ids), token_type_ids=torch.tensor(segments),
                      attention_mask=torch.tensor(real.astype(np.int64))).logits.numpy()
    for source, given in ((directory, None), (theirs.state_dict(), config)):
        ours = BERT.from_hf(source, config=given)
        assert _max_diff(ours(ids).numpy(), plain) <= TOLERANCE
        out = ours(ids, key_padding_mask=~real, token_type_ids=segments).numpy()
        assert _max_diff(out[real], full[real]) <= TOLERANCE  # padded positions are junk


@pytest.mark.parametrize("task", ["classification", "model"])
def test_vit_matches_transformers(hf, tmp_path_factory, task):
    torch, transformers = hf
    config = transformers.ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                    intermediate_size=64, image_size=8, patch_size=4,
                                    num_channels=3, num_labels=5)
    model_class = (transformers.ViTForImageClassification if task == "classification"
                   else transformers.ViTModel)
    theirs = model_class(config).eval()
    directory = _saved(theirs, tmp_path_factory, f"vit_{task}")
    images = np.random.default_rng(2).standard_normal((2, 3, 8, 8)).astype(np.float32)
    with torch.no_grad():
        out = theirs(torch.tensor(images))
    for source, given in ((directory, None), (theirs.state_dict(), config)):
        ours = ViT.from_hf(source, config=given)
        if task == "classification":
            assert _max_diff(ours(tg.Tensor(images)).numpy(), out.logits.numpy()) <= TOLERANCE
        else:
            assert ours.head is None
            assert _max_diff(ours.encode(tg.Tensor(images)).numpy(),
                             out.last_hidden_state.numpy()) <= TOLERANCE


@pytest.mark.parametrize("eos_token_id", [2, 59])
def test_clip_matches_transformers(hf, tmp_path_factory, eos_token_id):
    """eos 2: the end of text is the largest id (the first CLIP configs); 59: that id."""
    torch, transformers = hf
    config = transformers.CLIPConfig(
        text_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, vocab_size=60, max_position_embeddings=12,
                         eos_token_id=eos_token_id),
        vision_config=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                           intermediate_size=64, image_size=8, patch_size=4),
        projection_dim=24)
    theirs = transformers.CLIPModel(config).eval()
    directory = _saved(theirs, tmp_path_factory, f"clip_{eos_token_id}")
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 58, (3, 12))
    for row, end in enumerate((4, 11, 7)):  # the end-of-text token, then padding (id 0)
        ids[row, end], ids[row, end + 1:] = 59, 0
    images = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    with torch.no_grad():
        out = theirs(input_ids=torch.tensor(ids), pixel_values=torch.tensor(images))
    for source, given in ((directory, None), (theirs.state_dict(), config)):
        ours = CLIP.from_hf(source, config=given)
        assert _max_diff(ours(tg.Tensor(images), ids).numpy(),
                         out.logits_per_image.numpy()) <= TOLERANCE
        assert _max_diff(ours.encode_text(ids).numpy(), out.text_embeds.numpy()) <= TOLERANCE
        assert _max_diff(ours.encode_image(tg.Tensor(images)).numpy(),
                         out.image_embeds.numpy()) <= TOLERANCE


# ----- without transformers: what the loaders refuse -----------------------------------------
def _gpt2_state(rng, layers=1, width=8, vocab=11, positions=6):
    """A GPT-2-shaped state dict with random values (Conv1D weights stored (in, out))."""
    state = {"wte.weight": rng.standard_normal((vocab, width)),
             "wpe.weight": rng.standard_normal((positions, width)),
             "ln_f.weight": np.ones(width), "ln_f.bias": np.zeros(width)}
    for i in range(layers):
        for name, shape in (("ln_1.weight", (width,)), ("ln_1.bias", (width,)),
                            ("attn.c_attn.weight", (width, 3 * width)),
                            ("attn.c_attn.bias", (3 * width,)),
                            ("attn.c_proj.weight", (width, width)), ("attn.c_proj.bias", (width,)),
                            ("ln_2.weight", (width,)), ("ln_2.bias", (width,)),
                            ("mlp.c_fc.weight", (width, 4 * width)),
                            ("mlp.c_fc.bias", (4 * width,)),
                            ("mlp.c_proj.weight", (4 * width, width)),
                            ("mlp.c_proj.bias", (width,))):
            state[f"h.{i}.{name}"] = rng.standard_normal(shape).astype(np.float32)
    return state


def test_from_hf_builds_the_sizes_from_the_shapes():
    state = _gpt2_state(np.random.default_rng(0), layers=2)
    state["h.0.attn.bias"] = np.tril(np.ones((6, 6)))  # an old file's mask buffer: skipped
    model = GPT.from_hf(state, config={"n_head": 2})
    assert (model.vocab_size, model.block_size, model.d_model, len(model.blocks)) == (11, 6, 8, 2)
    np.testing.assert_array_equal(model.blocks[1].linear1.weight.numpy(),
                                  state["h.1.mlp.c_fc.weight"].T)
    assert not model.training


def test_from_hf_lists_missing_and_unused_tensors_and_loads_nothing():
    state = _gpt2_state(np.random.default_rng(0))
    del state["h.0.ln_2.bias"]
    state["h.0.attn.extra.weight"] = np.ones(3)
    with pytest.raises(CheckpointError) as info:
        GPT.from_hf(state, config={"n_head": 2})
    assert "h.0.ln_2.bias" in str(info.value) and "h.0.attn.extra.weight" in str(info.value)


def test_from_hf_refuses_wrong_shapes_and_unsupported_configs():
    state = _gpt2_state(np.random.default_rng(0))
    state["h.0.attn.c_proj.weight"] = np.ones((8, 7), np.float32)
    with pytest.raises(tg.errors.ShapeError, match="out_proj.weight"):
        GPT.from_hf(state, config={"n_head": 2})
    with pytest.raises(CheckpointError, match="scale_attn_by_inverse_layer_idx"):
        GPT.from_hf(_gpt2_state(np.random.default_rng(0)),
                    config={"n_head": 2, "scale_attn_by_inverse_layer_idx": True})
    with pytest.raises(CheckpointError, match="activation_function"):
        GPT.from_hf(_gpt2_state(np.random.default_rng(0)),
                    config={"n_head": 2, "activation_function": "swish"})


def test_from_hf_refuses_pickled_weights(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"not opened")
    (tmp_path / "config.json").write_text(json.dumps({"n_head": 2}))
    with pytest.raises(CheckpointError, match="pickled"):
        GPT.from_hf(tmp_path)


def test_from_hf_reads_a_safetensors_directory(tmp_path):
    pytest.importorskip("safetensors", reason="the safetensors package is not installed")
    state = {k: v.astype(np.float32) for k, v in _gpt2_state(np.random.default_rng(0)).items()}
    tg.save(state, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps({"n_head": 4, "layer_norm_epsilon": 1e-6}))
    model = GPT.from_hf(tmp_path)
    assert model.blocks[0].self_attn.num_heads == 4 and model.norm.eps == 1e-6


def test_quick_gelu_values_and_gradient():
    x = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(quick_gelu(tg.Tensor(x, dtype=np.float64)).numpy(),
                               x / (1 + np.exp(-1.702 * x)), rtol=1e-12)
    x = tg.Tensor(np.random.default_rng(0).standard_normal(7), dtype=np.float64,
                  requires_grad=True)
    assert gradcheck(quick_gelu, x)

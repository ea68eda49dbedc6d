"""BLIP and CapFilt (models/blip.py): each objective by gradcheck, the three roles of the text
transformer and the parameters they share, the captioner, the filter's rule, determinism."""

import numpy as np
import pytest
from helpers_nn import gradcheck_parameter
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course.data import scenes
from tinygrad_course.errors import ArgumentError, ShapeError, TensorError
from tinygrad_course.models.albef import momentum_copy
from tinygrad_course.models.bert import IGNORE
from tinygrad_course.models.blip import (
    BLIP,
    ROLES,
    BLIPTokenizer,
    capfilt,
    caption_images,
    filter_captions,
    lm_loss,
)
from tinygrad_course.models.decoding import greedy_decode

TOKENIZER = BLIPTokenizer(scenes.scene_vocabulary(), 10)


def tiny_blip(seed=0, text_layers=2):
    return BLIP(len(TOKENIZER), 11, image_size=8, patch_size=4, width=8, heads=2,
                image_layers=1, text_layers=text_layers, embed_dim=4, seed=seed)


def tiny_batch(n=4, seed=0):
    data = scenes.make_scenes(n, image_size=8, seed=seed)
    return data["images"], TOKENIZER.words(data["captions"])


# ----- the tokenizer ------------------------------------------------------------------------
def test_decoder_targets_are_the_inputs_shifted_by_one_with_eos_at_the_end():
    words = TOKENIZER.words(["a red circle above a blue square", "a green cross below a red "
                             "small square"])
    inputs, targets = TOKENIZER.decoder_ids(words)
    assert inputs.shape == targets.shape == (2, 11)
    assert (inputs[:, 0] == TOKENIZER.dec_id).all()
    for row in range(2):
        n = int((words[row] != 0).sum())
        np.testing.assert_array_equal(targets[row, :n], inputs[row, 1:n + 1])
        assert targets[row, n] == TOKENIZER.eos_id and (targets[row, n + 1:] == IGNORE).all()
    assert TOKENIZER.caption(targets[0]) == "a red circle above a blue square"
    assert (TOKENIZER.encoder_ids(words, "grounded")[:, 0] == TOKENIZER.enc_id).all()
    assert (TOKENIZER.encoder_ids(words)[:, 0] == TOKENIZER.cls_id).all()
    with pytest.raises(ArgumentError, match="encoder_ids"):
        TOKENIZER.encoder_ids(words, "decoder")
    with pytest.raises(ShapeError, match="decoder_ids"):
        TOKENIZER.decoder_ids(np.ones(3, dtype=np.int64))


# ----- the objectives --------------------------------------------------------------------------
def test_lm_loss_is_the_mean_next_word_cross_entropy_over_the_words_and_passes_gradcheck():
    logits = tg.randn(2, 4, 6, seed=1, dtype=np.float64, requires_grad=True)
    targets = np.array([[3, 5, IGNORE, IGNORE], [1, 0, 2, 5]])
    z = logits.numpy()
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    counted = [(n, t) for n in range(2) for t in range(4) if targets[n, t] != IGNORE]
    by_hand = -np.mean([log_p[n, t, targets[n, t]] for n, t in counted])
    assert lm_loss(logits, targets).item() == pytest.approx(by_hand, rel=1e-12)
    assert tg.gradcheck(lambda s: lm_loss(s, targets).reshape(1), logits)
    with pytest.raises(ShapeError, match="lm_loss"):
        lm_loss(tg.zeros(2, 4), targets)
    with pytest.raises(ShapeError, match="lm_loss"):
        lm_loss(logits, targets[:, :3])
    with pytest.raises(ValueError, match="lm_loss: every target is IGNORE"):
        lm_loss(logits, np.full((2, 4), IGNORE))


@pytest.mark.parametrize("objective, path", [
    ("itc", "text_projection.weight"),                           # the unimodal role
    ("itm", "text.layers.1.cross_attention.out_proj.weight"),    # the grounded role
    ("lm", "text.layers.0.decoder_attention.out_proj.weight"),   # the decoder role
    ("loss", "text.layers.0.feed_forward.linear1.weight"),       # shared by all three
])
def test_each_blip_objective_passes_gradcheck(objective, path):
    images, words = tiny_batch(3, seed=1)
    teacher = momentum_copy(tiny_blip(seed=5))
    teacher.double()

    def loss_of(model):  # a fresh generator each call: the same hard negatives
        return model.losses(images.astype(np.float64), words, TOKENIZER,
                            np.random.default_rng(0), teacher=teacher, alpha=0.4)[objective]

    assert gradcheck_parameter(tiny_blip(), path, loss_of)


def test_the_loss_is_the_sum_of_the_three_and_distillation_changes_only_itc():
    images, words = tiny_batch(4, seed=2)
    model = tiny_blip()
    plain = model.losses(images, words, TOKENIZER, np.random.default_rng(0))
    assert plain["loss"].item() == pytest.approx(
        plain["itc"].item() + plain["itm"].item() + plain["lm"].item(), rel=1e-6)
    distilled = model.losses(images, words, TOKENIZER, np.random.default_rng(0),
                             teacher=momentum_copy(tiny_blip(seed=3)), alpha=0.4)
    assert distilled["itc"].item() != pytest.approx(plain["itc"].item(), rel=1e-4)
    for key in ("itm", "lm"):
        assert distilled[key].item() == pytest.approx(plain[key].item(), rel=1e-7)
    with pytest.raises(ValueError, match="BLIP.losses: alpha > 0 needs"):
        model.losses(images, words, TOKENIZER, np.random.default_rng(0), alpha=0.4)


# ----- the three roles ---------------------------------------------------------------------------
def _used_parameters(model, role, images, words):
    """The ids of the text transformer's parameters that get a gradient through ``role``."""
    image_tokens = model.encode_image(images)
    first = {"unimodal": TOKENIZER.cls_id, "grounded": TOKENIZER.enc_id,
             "decoder": TOKENIZER.dec_id}[role]
    ids = np.concatenate([np.full((len(words), 1), first), words], axis=1)
    model.zero_grad()
    out = model.text(ids, role, None if role == "unimodal" else image_tokens)
    (out * tg.randn(*out.shape, seed=0)).sum().backward()
    return {id(p) for p in model.text.parameters() if p.grad is not None}


def test_encoder_and_decoder_share_every_parameter_except_self_attention():
    model = tiny_blip()
    images, words = tiny_batch(3, seed=3)
    used = {role: _used_parameters(model, role, images, words) for role in ROLES}
    layers = model.text.layers

    def ids(*names):
        return {id(p) for layer in layers for name in names
                for p in getattr(layer, name).parameters()}

    encoder_self, decoder_self = ids("encoder_norm", "encoder_attention"), \
        ids("decoder_norm", "decoder_attention")
    cross = ids("cross_norm", "cross_attention")
    everything = {id(p) for p in model.text.parameters()}
    assert encoder_self and decoder_self and not encoder_self & decoder_self
    # the grounded encoder and the decoder: the same objects except the self-attention layers
    assert used["grounded"] & used["decoder"] == everything - encoder_self - decoder_self
    assert used["grounded"] - used["decoder"] == encoder_self
    assert used["decoder"] - used["grounded"] == decoder_self
    # the unimodal encoder is the grounded one without cross-attention
    assert used["unimodal"] == used["grounded"] - cross
    for layer in layers:
        for role, own in (("decoder", ("decoder_norm", "decoder_attention")),
                          ("grounded", ("encoder_norm", "encoder_attention"))):
            assert [id(p) for p in layer.self_attention_parameters(role)] == \
                [id(p) for name in own for p in getattr(layer, name).parameters()]


def test_the_decoder_is_causal_and_the_encoders_are_not():
    model = tiny_blip()
    images, words = tiny_batch(2, seed=4)
    image_tokens = model.encode_image(images)
    changed = words.copy()
    changed[:, 4] = TOKENIZER.index["cross"]
    for role, image in (("decoder", image_tokens), ("grounded", image_tokens),
                        ("unimodal", None)):
        with tg.no_grad():
            before = model.text(TOKENIZER.encoder_ids(words), role, image).numpy()
            after = model.text(TOKENIZER.encoder_ids(changed), role, image).numpy()
        early_same = np.allclose(before[:, :5], after[:, :5], rtol=0, atol=0)
        assert early_same == (role == "decoder"), role  # positions 0..4 come before word 4
        assert not np.allclose(before[:, 5:], after[:, 5:])
    with pytest.raises(ArgumentError, match="needs an image"):
        model.text(TOKENIZER.encoder_ids(words), "decoder")
    with pytest.raises(ArgumentError, match="takes no image"):
        model.text(TOKENIZER.encoder_ids(words), "unimodal", image_tokens)
    with pytest.raises(ArgumentError, match="role must be one of"):
        model.text(TOKENIZER.encoder_ids(words), "fusion")


def test_the_captioner_writes_greedy_decoding_up_to_eos():
    model = tiny_blip(seed=6)
    images, _ = tiny_batch(5, seed=5)
    captions = caption_images(model, images, TOKENIZER, chunk=2)
    with tg.no_grad():
        image_tokens = model.encode_image(images)
    tokens, _ = greedy_decode(model.next_log_probs(image_tokens, TOKENIZER.not_words),
                              np.full((5, 1), TOKENIZER.dec_id), 11, TOKENIZER.eos_id)
    assert captions.shape == (5, 10)
    for row, generated in zip(captions, tokens):
        assert TOKENIZER.caption(row) == TOKENIZER.caption(generated[:10])  # cut at 10 words
        generated = generated.tolist()
        assert not set(generated) & {1, TOKENIZER.cls_id, TOKENIZER.enc_id, TOKENIZER.dec_id}
        end = generated.index(TOKENIZER.eos_id) if TOKENIZER.eos_id in generated else 10
        assert 0 not in generated[:end]  # padding only after [eos]
        np.testing.assert_array_equal(row[:min(end, 10)], generated[:min(end, 10)])
        assert (row[min(end, 10):] == 0).all()
    # beam search with one beam is greedy; rows of a beam are matched to their image
    np.testing.assert_array_equal(caption_images(model, images, TOKENIZER, beam_size=1),
                                  captions)
    assert caption_images(model, images, TOKENIZER, beam_size=3).shape == (5, 10)


def test_the_captioner_samples_from_a_nucleus_when_given_top_p():
    model = tiny_blip(seed=6)
    images, _ = tiny_batch(40, seed=5)
    greedy = caption_images(model, images, TOKENIZER)
    # a nucleus of one token is the argmax: greedy decoding, whatever the seed
    np.testing.assert_array_equal(
        caption_images(model, images, TOKENIZER, top_p=1e-9, rng=3, chunk=7), greedy)
    sampled = caption_images(model, images, TOKENIZER, top_p=0.9, rng=1, chunk=7)
    np.testing.assert_array_equal(
        caption_images(model, images, TOKENIZER, top_p=0.9, rng=1, chunk=7), sampled)
    assert (sampled != greedy).any(axis=1).sum() > 10  # an untrained model's nucleus is wide
    for row in sampled:  # padding only after the words, never a role token
        ids = row.tolist()
        end = ids.index(0) if 0 in ids else len(ids)
        assert not set(ids[:end]) & {0, 1, TOKENIZER.cls_id, TOKENIZER.enc_id,
                                      TOKENIZER.dec_id, TOKENIZER.eos_id}
        assert set(ids[end:]) <= {0}
    out = capfilt(model, tiny_blip(seed=8), images, greedy, TOKENIZER, chunk=7, top_p=0.9,
                  rng=1)
    np.testing.assert_array_equal(out["synthetic"], sampled)
    with pytest.raises(ArgumentError, match="caption_images"):
        caption_images(model, images, TOKENIZER, beam_size=3, top_p=0.9)


# ----- CapFilt ----------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(p=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40), threshold=st.floats(0.0, 1.0))
def test_the_filter_never_removes_a_caption_scored_at_or_above_its_threshold(p, threshold):
    keep = filter_captions(np.array(p), threshold)
    assert keep.dtype == bool and keep.shape == (len(p),)
    assert keep[np.array(p) >= threshold].all()
    assert not keep[np.array(p) < threshold].any()


def test_the_filter_refuses_what_is_not_a_probability():
    for bad in ([0.2, 1.5], [np.nan], [[0.5]], "abc", None):
        with pytest.raises(TensorError, match="filter_captions"):
            filter_captions(bad)
    with pytest.raises(ArgumentError, match="threshold"):
        filter_captions([0.5], threshold=2.0)


def test_capfilt_keeps_exactly_the_captions_its_filter_scores_at_or_above_the_threshold():
    captioner, filter_model = tiny_blip(seed=7), tiny_blip(seed=8)
    images, web = tiny_batch(12, seed=6)
    p_web = filter_model.match_probability(images, web, TOKENIZER)
    threshold = float(np.median(p_web))
    out = capfilt(captioner, filter_model, images, web, TOKENIZER, threshold, chunk=5)
    np.testing.assert_array_equal(out["synthetic"], caption_images(captioner, images, TOKENIZER))
    np.testing.assert_allclose(out["p_web"], p_web, rtol=1e-6)
    np.testing.assert_allclose(
        out["p_synthetic"],
        filter_model.match_probability(images, out["synthetic"], TOKENIZER), rtol=1e-6)
    for scores, keep in ((out["p_web"], out["keep_web"]),
                         (out["p_synthetic"], out["keep_synthetic"])):
        np.testing.assert_array_equal(keep, scores >= threshold)
    assert 0 < out["keep_web"].sum() < 12  # the median splits them
    kept = [(i, tuple(w)) for i, w in zip(out["image_index"], out["words"])]
    expected = [(i, tuple(web[i])) for i in np.flatnonzero(out["keep_web"])] + \
        [(i, tuple(out["synthetic"][i])) for i in np.flatnonzero(out["keep_synthetic"])]
    assert kept == expected
    with pytest.raises(ShapeError, match="capfilt"):
        capfilt(captioner, filter_model, images, web[:5], TOKENIZER)


# ----- determinism ---------------------------------------------------------------------------
def _train_and_caption(seed):
    from demos import _vision_language as vl
    images, words = tiny_batch(16, seed=7)
    model = tiny_blip(seed=seed)
    losses, _ = vl.train(model, lambda m, batch, rng: m.losses(
        images[batch], words[batch], TOKENIZER, rng)["loss"], 16, steps=3, batch_size=8,
        seed=seed)
    return (losses, caption_images(model, images, TOKENIZER),
            model.match_probability(images, words, TOKENIZER))


def test_the_same_seed_gives_the_same_model_captions_and_scores():
    (losses, captions, scores), (losses2, captions2, scores2) = \
        _train_and_caption(0), _train_and_caption(0)
    assert losses == losses2
    np.testing.assert_array_equal(captions, captions2)
    np.testing.assert_array_equal(scores, scores2)
    other_losses, _, other_scores = _train_and_caption(1)
    assert other_losses != losses and not np.array_equal(other_scores, scores)



def test_uniform_negatives_are_an_option_and_a_wrong_name_raises():
    images, words = tiny_batch(4, seed=8)
    model = tiny_blip()
    hard = model.losses(images, words, TOKENIZER, np.random.default_rng(0))
    uniform = model.losses(images, words, TOKENIZER, np.random.default_rng(0),
                           negatives="random")
    for key in ("itc", "lm"):  # only the ITM pairs differ
        assert uniform[key].item() == pytest.approx(hard[key].item(), rel=1e-7)
    with pytest.raises(ArgumentError, match="negatives"):
        model.losses(images, words, TOKENIZER, np.random.default_rng(0), negatives="easy")


# ----- the demo's reading of captions ------------------------------------------------------------
def test_the_demo_reads_what_a_caption_says_and_which_captions_imply_which():
    from demos import blip_capfilt
    data = scenes.make_scenes(50, seed=9)
    for i, caption in enumerate(data["captions"]):
        left, right, layout, sizes = blip_capfilt.parse_caption(caption)
        references = blip_capfilt.true_captions(data, i)
        assert caption in references and len(references) == 4
        exact, accuracy = blip_capfilt.caption_scores(sorted(references), {
            key: [value[i]] * 4 for key, value in data.items()})
        assert exact.all() and (accuracy == 1).all()
        assert layout == data["layout"][i]
        assert (sizes is None) == (not data["with_sizes"][i])
    assert blip_capfilt.parse_caption("a red red circle above a blue square") is None
    assert blip_capfilt.parse_caption("a small red circle above a blue square") is None
    captions = ["a small red circle left of a large blue square",
                "a blue square right of a red circle", "a red circle left of a blue square",
                "a large red circle left of a large blue square", "red red red"]
    implied = blip_capfilt.caption_positives(captions)
    np.testing.assert_array_equal(implied, [[1, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0],
                                            [0, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
    exact, accuracy = blip_capfilt.caption_scores(
        ["a red circle left of a blue cross"], {key: [value] for key, value in zip(
            ("first", "second", "relation"), (("red", "circle", "small"),
                                              ("blue", "square", "large"), "left of"))})
    assert not exact[0] and accuracy[0] == pytest.approx(7 / 8)  # all but "cross"


def _parameters(model):
    return {name: p.numpy().copy() for name, p in model.named_parameters()}


def test_the_demo_fine_tunes_a_copy_on_the_named_objectives_only():
    """The captioner (LM) never moves the ITC projections or the ITM head, the filter
    (ITC + ITM) never moves the LM head, and the pre-trained model stays as it was."""
    from demos import blip_capfilt
    images, words = tiny_batch(32, seed=10)
    train, index = {"images": images}, np.arange(32)
    pretrained = tiny_blip(seed=3)
    before = _parameters(pretrained)
    roles = {("lm",): ("lm_head.",), ("itc", "itm"): ("image_projection.", "text_projection.",
                                                      "logit_scale", "itm_head.")}
    for objectives, trained in roles.items():
        model = blip_capfilt.fine_tuned(pretrained, train, index, words, TOKENIZER, steps=2,
                                        lr=1e-2, seed=0, objectives=objectives)
        after = _parameters(model)
        moved = {name for name in before if not np.array_equal(before[name], after[name])}
        for prefixes in roles.values():
            own = {name for name in before if name.startswith(prefixes)}
            assert (own <= moved) if prefixes == trained else not (own & moved), objectives
    for name, value in _parameters(pretrained).items():
        np.testing.assert_array_equal(value, before[name])
    with pytest.raises(ValueError, match="objectives"):
        blip_capfilt.train_blip(pretrained, train, index, words, TOKENIZER, 1, 1e-3,
                                objectives=("mlm",))


def test_the_demo_splits_a_clean_set_apart_from_the_web_set():
    from demos import blip_capfilt
    clean, web = blip_capfilt.split_clean(8000, 0.1, seed=0)
    assert len(clean) == 800 and len(web) == 7200
    np.testing.assert_array_equal(np.sort(np.concatenate([clean, web])), np.arange(8000))
    assert len(blip_capfilt.split_clean(100, 0.1, seed=0)[0]) == 32  # at least one batch
    with pytest.raises(ValueError, match="clean_fraction"):
        blip_capfilt.split_clean(100, 1.0, seed=0)


def test_the_demo_runs_quick():
    from demos import blip_capfilt
    result = blip_capfilt.main(["--quick"])
    assert result["train_images"] == 600 and 0.3 < result["wrong_fraction"] < 0.45
    assert result["clean_pairs"] + result["web_pairs"] == 600
    for key in ("filter_web", "filter_web_before", "filter_synthetic"):
        assert 0 <= result[key]["precision"] <= 1 and 0 <= result[key]["recall"] <= 1
    assert result["clean_pairs"] + result["web_kept"] + result["synthetic_kept"] == \
        result["cleaned_pairs"]
    assert result["filter_only_pairs"] == result["clean_pairs"] + result["web_kept"]
    for name in ("noisy", "noisy_clean", "capfilt", "filter_only"):
        assert 0 <= result[name]["exact_match"] <= result[name]["token_accuracy"] <= 1

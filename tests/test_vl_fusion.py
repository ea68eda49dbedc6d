"""Vision-language fusion models: the relational scenes and their swap test, each objective
(ITC, ITM, MLM, momentum distillation) by gradcheck and by its defining property, hard
negatives, VLMo's routing, and determinism."""

import collections

import numpy as np
import pytest
from helpers_nn import gradcheck_parameter
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course.data import scenes, shapes
from tinygrad_course.errors import ShapeError
from tinygrad_course.models.albef import (
    ALBEF,
    itc_loss,
    itm_loss,
    mlm_loss,
    momentum_copy,
    momentum_update,
    sample_hard_negatives,
    sample_random_negatives,
)
from tinygrad_course.models.bert import IGNORE
from tinygrad_course.models.clip import clip_loss
from tinygrad_course.models.fusion import SceneTokenizer
from tinygrad_course.models.vilt import ViLT
from tinygrad_course.models.vlmo import VLMo

TOKENIZER = SceneTokenizer(scenes.scene_vocabulary(), 10)
SPECIAL = (0, TOKENIZER.cls_id)


# ----- data --------------------------------------------------------------------------------------
def test_swapped_captions_use_the_same_words_and_say_something_else():
    test = scenes.make_swap_test(60, seed=0)
    assert test["kind"].count("relation") == 30 and test["kind"].count("attribute") == 30
    for true, false in zip(test["captions"], test["swapped"]):
        assert sorted(true.split()) == sorted(false.split())
        assert true != false


def test_a_swapped_caption_is_false_and_an_equivalent_one_is_true():
    red_circle, blue_square = ("red", "circle", "small"), ("blue", "square", "large")
    image = {"first": [red_circle], "second": [blue_square], "relation": ["left of"],
             "with_sizes": np.array([True])}
    candidates = {"first": [blue_square, blue_square, red_circle, ("blue", "circle", "small")],
                  "second": [red_circle, red_circle, blue_square, ("red", "square", "large")],
                  "relation": ["right of", "left of", "above", "left of"],
                  "with_sizes": np.array([True, False, False, False])}
    # "B right of A" is true; "B left of A" (relation swap), the wrong layout and the colour
    # swap are false
    assert scenes.caption_matches(image, candidates).tolist() == [[True, False, False, False]]
    assert scenes.swapped_caption(red_circle, blue_square, "left of", "relation") == \
        "a blue square left of a red circle"
    assert scenes.swapped_caption(red_circle, blue_square, "left of", "attribute", True) == \
        "a small blue circle left of a large red square"


def test_training_scenes_never_show_a_held_out_pair_and_held_out_scenes_always_do():
    train = scenes.make_scenes(400, split="train", seed=0)
    held = scenes.make_scenes(100, split="held_out", seed=1)
    objects = lambda d: [(o[0], o[1]) for o in d["first"] + d["second"]]  # noqa: E731
    assert set(objects(train)).isdisjoint(shapes.HELD_OUT)
    for a, b in zip(held["first"], held["second"]):
        assert (a[:2] in shapes.HELD_OUT) or (b[:2] in shapes.HELD_OUT)
    for d in (train, held):
        for a, b in zip(d["first"], d["second"]):
            assert a[0] != b[0] and a[1] != b[1]  # colours and shapes always differ


def test_the_caption_says_where_each_object_is_drawn():
    data = scenes.make_scenes(120, seed=3)
    for i in range(120):
        centres = {}
        for obj in (data["first"][i], data["second"][i]):
            colour = np.array(shapes.COLOURS[obj[0]])[:, None, None]
            rows, cols = np.nonzero(np.abs(data["images"][i] - colour).max(axis=0) < 0.08)
            assert len(rows) >= 3, data["captions"][i]
            centres[obj] = np.array([rows.mean(), cols.mean()])
        row_gap, col_gap = centres[data["second"][i]] - centres[data["first"][i]]
        relation = data["relation"][i]
        assert {"left of": col_gap > 4, "right of": col_gap < -4, "above": row_gap > 4,
                "below": row_gap < -4}[relation], data["captions"][i]


def test_swap_negatives_are_false_captions_with_the_same_words_of_both_kinds():
    data = scenes.make_scenes(200, seed=4)
    captions, kinds = scenes.swap_negatives(data, rng=0)
    assert set(kinds) == set(scenes.SWAP_KINDS)
    negatives = {"first": [], "second": [], "relation": data["relation"],
                 "with_sizes": data["with_sizes"]}
    for i, (false, kind) in enumerate(zip(captions, kinds)):
        assert sorted(false.split()) == sorted(data["captions"][i].split())
        first, second = data["first"][i], data["second"][i]
        assert false == scenes.swapped_caption(first, second, data["relation"][i], kind,
                                               data["with_sizes"][i])
        if kind == "relation":
            first, second = second, first
        else:
            first, second = (second[0],) + first[1:], (first[0],) + second[1:]
        negatives["first"].append(first)
        negatives["second"].append(second)
    # what each generated caption says is false of its own image
    assert not np.diag(scenes.caption_matches(data, negatives)).any()
    assert scenes.swap_negatives(data, rng=0) == (captions, kinds)


def test_same_seed_same_scenes():
    a, b = scenes.make_swap_test(20, seed=5), scenes.make_swap_test(20, seed=5)
    np.testing.assert_array_equal(a["images"], b["images"])
    assert a["captions"] == b["captions"] and a["swapped"] == b["swapped"]
    assert a["images"].dtype == np.float32 and a["images"].shape == (20, 3, 24, 24)


def test_wilson_interval_matches_the_formula_and_stays_in_the_unit_interval():
    low, high = scenes.wilson_interval(50, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    low, high = scenes.wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.35
    with pytest.raises(ValueError, match="wilson_interval"):
        scenes.wilson_interval(11, 10)


def test_recall_with_matches_counts_any_true_candidate():
    similarity = np.array([[0.9, 0.8, 0.1], [0.2, 0.1, 0.3]])
    matches = np.array([[False, True, False], [False, True, False]])  # ranks 2 and 3
    assert scenes.recall_with_matches(similarity, matches, ks=(1, 2, 3)) == \
        {1: 0.0, 2: 0.5, 3: 1.0}


# ----- objectives: gradcheck and properties ----------------------------------------------------
def _soft(n, seed):
    logits = np.random.default_rng(seed).standard_normal((n, n))
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def test_itc_loss_with_alpha_zero_is_the_clip_loss():
    logits = tg.randn(5, 5, seed=0)
    assert itc_loss(logits).item() == pytest.approx(clip_loss(logits).item(), rel=1e-6)
    # soft targets given but alpha = 0: ignored
    assert itc_loss(logits, _soft(5, 1), _soft(5, 2), alpha=0.0).item() == \
        pytest.approx(clip_loss(logits).item(), rel=1e-6)


def test_itc_loss_is_linear_in_alpha_between_hard_and_soft_targets():
    logits = tg.randn(4, 4, seed=3)
    q1, q2 = _soft(4, 4), _soft(4, 5)
    soft_only = (F.cross_entropy(logits, tg.tensor(q1.astype(np.float32))).item()
                 + F.cross_entropy(logits.T, tg.tensor(q2.astype(np.float32))).item()) / 2
    hard = clip_loss(logits).item()
    assert itc_loss(logits, q1, q2, alpha=1.0).item() == pytest.approx(soft_only, rel=1e-5)
    assert itc_loss(logits, q1, q2, alpha=0.3).item() == \
        pytest.approx(0.7 * hard + 0.3 * soft_only, rel=1e-5)
    with pytest.raises(ValueError, match="itc_loss: alpha > 0 needs"):
        itc_loss(logits, alpha=0.4)
    with pytest.raises(ShapeError, match="itc_loss"):
        itc_loss(tg.zeros(3, 4))


def test_itc_loss_with_distillation_passes_gradcheck():
    q1, q2 = _soft(4, 6), _soft(4, 7)
    logits = tg.randn(4, 4, seed=8, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda s: itc_loss(s, q1, q2, alpha=0.4).reshape(1), logits)


def test_itm_loss_is_the_two_class_cross_entropy_and_passes_gradcheck():
    logits = tg.randn(6, 2, seed=9, dtype=np.float64, requires_grad=True)
    labels = tg.tensor(np.array([1, 0, 0, 1, 0, 0]))
    p = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(axis=1, keepdims=True)
    by_hand = -np.log(p[np.arange(6), labels.numpy()]).mean()
    assert itm_loss(logits, labels).item() == pytest.approx(by_hand, rel=1e-10)
    assert tg.gradcheck(lambda s: itm_loss(s, labels).reshape(1), logits)
    with pytest.raises(ShapeError, match="itm_loss"):
        itm_loss(tg.zeros(3, 3), labels)


def _mlm_case(seed=10):
    rng = np.random.default_rng(seed)
    targets = np.full((3, 4), IGNORE)
    targets[0, 1], targets[1, 3], targets[2, 0], targets[2, 2] = 2, 4, 0, 1
    soft = rng.random((3, 4, 5))
    return targets, soft / soft.sum(axis=-1, keepdims=True)


def test_mlm_loss_with_alpha_zero_is_bert_loss_and_with_distillation_passes_gradcheck():
    targets, soft = _mlm_case()
    logits = tg.randn(3, 4, 5, seed=11, dtype=np.float64, requires_grad=True)
    plain = F.cross_entropy(logits.reshape(12, 5), tg.tensor(targets.reshape(-1)),
                            ignore_index=IGNORE).item()
    assert mlm_loss(logits, targets).item() == pytest.approx(plain, rel=1e-10)
    assert mlm_loss(logits, targets, soft, alpha=0.0).item() == pytest.approx(plain, rel=1e-10)
    # only the 4 masked positions count: the soft targets elsewhere change nothing
    other = soft.copy()
    other[targets == IGNORE] = 1 / 5
    assert mlm_loss(logits, targets, soft, 0.5).item() == \
        pytest.approx(mlm_loss(logits, targets, other, 0.5).item(), rel=1e-12)
    assert tg.gradcheck(lambda s: mlm_loss(s, targets, soft, alpha=0.5).reshape(1), logits)
    with pytest.raises(ValueError, match="mlm_loss: no position is masked"):
        mlm_loss(logits, np.full((3, 4), IGNORE))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 9), seed=st.integers(0, 10_000), scale=st.floats(0.1, 50.0))
def test_hard_negatives_are_never_the_positive_pair(n, seed, scale):
    rng = np.random.default_rng(seed)
    similarity = scale * rng.standard_normal((n, n))
    similarity[np.arange(n), np.arange(n)] += 3 * scale  # the positives look most similar
    positives = rng.random((n, n)) < 0.3
    positives[np.arange(n), (np.arange(n) + 1) % n] = False  # a negative is always left
    positives[(np.arange(n) + 1) % n, np.arange(n)] = False
    for sample in (lambda: sample_hard_negatives(similarity, rng, positives),
                   lambda: sample_random_negatives(n, rng, positives)):
        text_for_image, image_for_text = sample()
        rows = np.arange(n)
        assert (text_for_image != rows).all() and (image_for_text != rows).all()
        assert not positives[rows, text_for_image].any()     # (image i, caption t) is not true
        assert not positives[image_for_text, rows].any()     # (image v, caption j) is not true


def test_hard_negatives_are_drawn_in_proportion_to_the_softmax_of_the_similarity():
    similarity = np.array([[5.0, 1.0, 0.0, np.log(3.0)],
                           [0.0, 5.0, 0.0, 0.0],
                           [0.0, 0.0, 5.0, 0.0],
                           [0.0, 0.0, 0.0, 5.0]])
    rng = np.random.default_rng(0)
    draws = collections.Counter(int(sample_hard_negatives(similarity, rng)[0][0])
                                for _ in range(4000))
    # row 0 without the diagonal: weights e^1 : e^0 : 3, i.e. 2.718 : 1 : 3
    expected = np.array([np.e, 1.0, 3.0]) / (np.e + 4.0) * 4000
    observed = np.array([draws[1], draws[2], draws[3]])
    assert draws[0] == 0
    assert np.all(np.abs(observed - expected) < 5 * np.sqrt(expected))  # 5 binomial sigmas


def test_sampling_refuses_a_row_without_negatives():
    with pytest.raises(ValueError, match="no negative candidate"):
        sample_hard_negatives(np.zeros((2, 2)), np.random.default_rng(0),
                              positives=np.ones((2, 2), dtype=bool))


def tiny_albef(seed=0):
    return ALBEF(len(TOKENIZER), 11, image_size=8, patch_size=4, width=8, heads=2,
                 embed_dim=4, seed=seed)


def tiny_batch(n=4, seed=0):
    data = scenes.make_scenes(n, image_size=8, seed=seed)
    return data["images"], TOKENIZER(data["captions"])


def test_momentum_update_is_an_exponential_moving_average():
    model, teacher = tiny_albef(0), momentum_copy(tiny_albef(1))
    before = {name: p.numpy().copy() for name, p in teacher.named_parameters()}
    student = {name: p.numpy() for name, p in model.named_parameters()}
    assert all(not p.requires_grad for p in teacher.parameters())
    momentum_update(model, teacher, 0.9)
    for name, p in teacher.named_parameters():
        np.testing.assert_allclose(p.numpy(), 0.9 * before[name] + 0.1 * student[name],
                                   rtol=1e-6, atol=1e-7)
    momentum_update(model, teacher, 1.0)  # m = 1: the teacher stays
    momentum_update(model, teacher, 0.0)  # m = 0: the teacher becomes the model
    for name, p in teacher.named_parameters():
        np.testing.assert_array_equal(p.numpy(), student[name])
    with pytest.raises(ValueError, match="momentum_update"):
        momentum_update(model, teacher, 1.5)
    small = ALBEF(len(TOKENIZER), 11, image_size=8, patch_size=4, width=4, heads=2, embed_dim=4)
    with pytest.raises(ShapeError, match="momentum_update"):
        momentum_update(small, teacher, 0.5)


def test_with_alpha_zero_momentum_distillation_reduces_to_the_plain_losses():
    model = tiny_albef()
    teacher = momentum_copy(tiny_albef(seed=7))  # a different teacher: it must not matter
    images, ids = tiny_batch()
    plain = model.losses(images, ids, np.random.default_rng(0), TOKENIZER.mask_id,
                         special_ids=SPECIAL)
    distilled = model.losses(images, ids, np.random.default_rng(0), TOKENIZER.mask_id,
                             teacher=teacher, alpha=0.0, special_ids=SPECIAL)
    for key in ("itc", "itm", "mlm", "loss"):
        assert distilled[key].item() == pytest.approx(plain[key].item(), rel=1e-7)
    with_alpha = model.losses(images, ids, np.random.default_rng(0), TOKENIZER.mask_id,
                              teacher=teacher, alpha=0.4, special_ids=SPECIAL)
    assert with_alpha["itc"].item() != pytest.approx(plain["itc"].item(), rel=1e-4)
    assert with_alpha["itm"].item() == pytest.approx(plain["itm"].item(), rel=1e-7)


def test_structured_negatives_add_one_itm_negative_per_image():
    model = tiny_albef()
    data = scenes.make_scenes(4, image_size=8, seed=2)
    images, ids = data["images"], TOKENIZER(data["captions"])
    swapped = TOKENIZER(scenes.swap_negatives(data, rng=1)[0])
    plain = model.losses(images, ids, np.random.default_rng(0), TOKENIZER.mask_id,
                         special_ids=SPECIAL)
    extra = model.losses(images, ids, np.random.default_rng(0), TOKENIZER.mask_id,
                         special_ids=SPECIAL, structured_negatives=swapped)
    with tg.no_grad():
        logits = model.itm_logits(model.image_encoder(images), model.text_encoder(swapped),
                                  swapped)
    swap_loss = itm_loss(logits, tg.tensor(np.zeros(4, dtype=np.int64))).item()
    # the mean over 3N sampled pairs and N generated negatives (label 0)
    assert extra["itm"].item() == pytest.approx((3 * plain["itm"].item() + swap_loss) / 4,
                                                rel=1e-5)
    for key in ("itc", "mlm"):
        assert extra[key].item() == pytest.approx(plain[key].item(), rel=1e-7)
    with pytest.raises(ShapeError, match="structured_negatives"):
        model.losses(images, ids, np.random.default_rng(0), TOKENIZER.mask_id,
                     structured_negatives=swapped[:3])


def test_albef_loss_passes_gradcheck_through_the_fusion_encoder():
    images, ids = tiny_batch(3, seed=1)
    images = images.astype(np.float64)
    teacher = momentum_copy(tiny_albef(seed=3))
    teacher.double()

    def loss_of(model):  # a fresh generator each call: the same masks and negatives
        return model.losses(images, ids, np.random.default_rng(0), TOKENIZER.mask_id,
                            teacher=teacher, alpha=0.4, special_ids=SPECIAL)["loss"]

    # the cross-attention's output projection: ITM and MLM flow through it
    assert gradcheck_parameter(tiny_albef(), "fusion.layers.0.multihead_attn.out_proj.weight",
                                loss_of)


def test_vilt_loss_passes_gradcheck_through_the_modality_embeddings():
    images, ids = tiny_batch(3, seed=2)
    model = ViLT(len(TOKENIZER), 11, image_size=8, patch_size=4, width=8, heads=2, layers=1)

    def loss_of(m):
        return m.losses(images.astype(np.float64), ids, np.random.default_rng(0),
                        TOKENIZER.mask_id, special_ids=SPECIAL)["loss"]

    assert gradcheck_parameter(model, "modality", loss_of)


def tiny_vlmo(seed=0):
    return VLMo(len(TOKENIZER), 11, image_size=8, patch_size=4, width=8, heads=2, layers=2,
                fusion_layers=1, embed_dim=4, seed=seed)


def test_vlmo_loss_passes_gradcheck_through_the_shared_attention():
    images, ids = tiny_batch(3, seed=4)

    def loss_of(m):
        return m.losses(images.astype(np.float64), ids, np.random.default_rng(0),
                        TOKENIZER.mask_id, special_ids=SPECIAL)["loss"]

    assert gradcheck_parameter(tiny_vlmo(), "layers.0.self_attn.out_proj.weight", loss_of)


# ----- VLMo: each token goes to the expert its modality names -----------------------------------
def _perturbed(model, expert, layer=0):
    with tg.no_grad():
        for p in getattr(model.layers[layer], expert).parameters():
            p.data = p.data + 0.5
    return model


def test_vlmo_routes_each_token_to_its_modality_expert():
    images, ids = tiny_batch(3, seed=5)
    text_length = ids.shape[1]

    def run(model):
        hidden = []
        model.encode_pair(images, ids, hidden=hidden)
        with tg.no_grad():
            return (hidden[0].numpy(), model.encode_text(ids).numpy(),
                    model.encode_image(images).numpy())

    pair, text, image = run(tiny_vlmo())
    # the vision FFN of the unimodal layer: only image tokens change there; text-only mode
    # never meets it
    v_pair, v_text, v_image = run(_perturbed(tiny_vlmo(), "vision"))
    np.testing.assert_array_equal(v_pair[:, :text_length], pair[:, :text_length])
    assert np.abs(v_pair[:, text_length:] - pair[:, text_length:]).max(axis=-1).min() > 0
    np.testing.assert_array_equal(v_text, text)
    assert not np.allclose(v_image, image)
    # the language FFN: the mirror image
    l_pair, l_text, l_image = run(_perturbed(tiny_vlmo(), "language"))
    np.testing.assert_array_equal(l_pair[:, text_length:], pair[:, text_length:])
    assert not np.allclose(l_pair[:, :text_length], pair[:, :text_length])
    np.testing.assert_array_equal(l_image, image)
    # the vision-language FFN (top layer) is used by the fusion mode only
    vl_pair, vl_text, vl_image = run(_perturbed(tiny_vlmo(), "vision_language", layer=1))
    np.testing.assert_array_equal(vl_text, text)
    np.testing.assert_array_equal(vl_image, image)
    with tg.no_grad():
        fused = tiny_vlmo().encode_pair(images, ids).numpy()
        vl_fused = _perturbed(tiny_vlmo(), "vision_language", layer=1).encode_pair(images, ids)
    assert not np.allclose(vl_fused.numpy(), fused)


def test_vlmo_refuses_a_fusion_depth_beyond_its_layers():
    with pytest.raises(ValueError, match="fusion_layers"):
        VLMo(10, 5, width=8, heads=2, layers=2, fusion_layers=3)


# ----- determinism ---------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_swap_test_score():
    from demos import _vision_language as vl

    def run():
        data = vl.make_data(quick=True, seed=0)
        model = vl.build_albef(data["tokenizer"], width=16, seed=0)
        vl.train(model, vl.fusion_loss_of(data), len(data["ids"]), steps=3, seed=0)
        test = vl.subset(data["seen"], np.r_[0:20, 100:120])  # both kinds of swap
        result = vl.swap_test(model.match_score, test, data["tokenizer"])
        return result["accuracy"], model.match_score(test["images"],
                                                     data["tokenizer"](test["captions"]))

    (first, scores), (second, scores_again) = run(), run()
    assert first == second
    np.testing.assert_array_equal(scores, scores_again)

"""The procedural shapes data for CLIP: captions match pixels, held-out combinations stay out."""

import numpy as np
import pytest

from tinygrad_course.data import shapes


def test_training_split_never_contains_a_held_out_combination():
    data = shapes.make_shapes(500, split="train", seed=0)
    pairs = set(zip(data["colour"], data["shape"]))
    assert pairs.isdisjoint(shapes.HELD_OUT)
    assert pairs == set(shapes.SEEN_COMBINATIONS)  # 500 draws cover all 15 seen pairs


def test_held_out_split_has_only_held_out_combinations():
    data = shapes.make_shapes(50, split="held_out", seed=1)
    assert set(zip(data["colour"], data["shape"])) <= set(shapes.HELD_OUT)


def test_same_seed_same_data_and_float32_images():
    a, b = shapes.make_shapes(10, seed=3), shapes.make_shapes(10, seed=3)
    np.testing.assert_array_equal(a["images"], b["images"])
    assert a["captions"] == b["captions"]
    assert a["images"].dtype == np.float32 and a["images"].shape == (10, 3, 16, 16)


def test_caption_names_the_attributes_of_the_image():
    data = shapes.make_shapes(200, seed=2, short_caption_rate=0.0)
    for i in range(0, 200, 17):
        words = data["captions"][i]
        assert data["colour"][i] in words and data["shape"][i] in words
        assert data["size"][i] in words and data["position"][i] in words


def test_the_shape_is_drawn_in_its_colour_where_the_caption_says():
    data = shapes.make_shapes(100, seed=4, image_size=20)
    for i in range(100):
        image = data["images"][i]
        mask = np.abs(image - np.array(shapes.COLOURS[data["colour"][i]])[:, None, None]).max(0)
        rows, cols = np.nonzero(mask < 0.08)
        assert len(rows) >= 3, data["captions"][i]
        row, col = rows.mean() / 20, cols.mean() / 20
        position = data["position"][i]
        if "top" in position:
            assert row < 0.5
        if "bottom" in position:
            assert row > 0.5
        if "left" in position:
            assert col < 0.5
        if "right" in position:
            assert col > 0.5


def test_large_shapes_cover_more_pixels_than_small_ones():
    small = shapes.render(["red"] * 4, list(shapes.SHAPES), ["small"] * 4, ["centre"] * 4,
                          rng=0)
    large = shapes.render(["red"] * 4, list(shapes.SHAPES), ["large"] * 4, ["centre"] * 4,
                          rng=0)
    area = lambda imgs: (imgs[:, 0] > 0.6).sum(axis=(1, 2))  # noqa: E731
    assert (area(large) > area(small)).all()


def test_bad_split_is_a_clear_error():
    with pytest.raises(ValueError, match="split"):
        shapes.make_shapes(3, split="test")


def test_digit_captions_and_vocabulary():
    assert shapes.digit_captions([7, 0]) == ["a photo of the digit seven",
                                             "a photo of the digit zero"]
    vocab = set(shapes.caption_vocabulary())
    for text in shapes.make_shapes(30, seed=5)["captions"] + shapes.digit_captions(range(10)):
        assert set(text.split()) <= vocab


def test_other_held_out_sets_keep_every_colour_and_shape_in_training():
    assert shapes.held_out_pairs(2) == shapes.HELD_OUT
    for shift in range(4):
        held_out = shapes.held_out_pairs(shift)
        train = shapes.make_shapes(400, split="train", seed=shift, held_out=held_out)
        pairs = set(zip(train["colour"], train["shape"]))
        assert pairs.isdisjoint(held_out) and len(pairs) == 15
        assert {c for c, _ in pairs} == set(shapes.COLOUR_NAMES)
        assert {s for _, s in pairs} == set(shapes.SHAPES)
        test = shapes.make_shapes(50, split="held_out", seed=9, held_out=held_out)
        assert set(zip(test["colour"], test["shape"])) <= set(held_out)
    assert len({shapes.held_out_pairs(k) for k in range(4)}) == 4


def test_bad_held_out_sets_are_refused():
    with pytest.raises(ValueError, match="held_out_pairs"):
        shapes.held_out_pairs(4)
    with pytest.raises(ValueError, match="make_shapes"):
        shapes.make_shapes(3, held_out=[("red", "star")])

"""The VQA set on the procedural shapes: answers true of the pixels, held-out pairs kept out."""

import re

import numpy as np
import pytest

from tinygrad_course.data import shapes, vqa
from tinygrad_course.errors import TensorError


@pytest.fixture(scope="module")
def train():
    return vqa.make_vqa(400, split="train", seed=0)


def test_no_held_out_pair_in_training_and_every_focus_held_out_in_the_test_split(train):
    pairs = {(c, s) for objs in train["objects"] for c, s, _ in objs}
    assert pairs.isdisjoint(shapes.HELD_OUT)
    held = vqa.make_vqa(200, split="held_out", seed=1)
    assert all((objs[0][0], objs[0][1]) in shapes.HELD_OUT for objs in held["objects"])


def test_every_answer_follows_from_the_objects(train):
    """Each answer recomputed from the scene description by a separate reading of the
    question (a parser of the four templates)."""
    for question, answer, objs in zip(train["question"], train["answer"], train["objects"]):
        shape_list = [s for _, s, _ in objs]
        if m := re.fullmatch(r"what colour is the (\w+)\?", question):
            assert shape_list.count(m[1]) == 1
            assert answer == next(c for c, s, _ in objs if s == m[1])
        elif m := re.fullmatch(r"what shape is the (\w+) one\?", question):
            assert [c for c, _, _ in objs].count(m[1]) == 1
            assert answer == next(s for c, s, _ in objs if c == m[1])
        elif m := re.fullmatch(r"how many (\w+)\?", question):
            singular = {v: k for k, v in vqa.PLURALS.items()}[m[1]]
            assert answer == vqa.COUNT_WORDS[shape_list.count(singular)]
        else:
            m = re.fullmatch(r"is the (\w+) (left of|above) the (\w+)\?", question)
            a = next(cell for _, s, cell in objs if s == m[1])
            b = next(cell for _, s, cell in objs if s == m[3])
            axis = 1 if m[2] == "left of" else 0
            assert a[axis] != b[axis]
            assert answer == ("yes" if a[axis] < b[axis] else "no")


def test_each_object_is_drawn_in_its_colour_inside_its_cell():
    data = vqa.make_vqa(60, grid=2, max_objects=5, seed=2)
    cell = vqa.TILE_SIZE // 2
    for image, objs in zip(data["images"], data["objects"]):
        for colour, _, (row, col) in objs:
            close = np.abs(image - np.array(shapes.COLOURS[colour])[:, None, None]).max(0) < 0.08
            rows, cols = np.nonzero(close)
            inside = ((rows // cell == row) & (cols // cell == col)).sum()
            assert inside >= 5, (colour, row, col)


def test_question_types_come_in_equal_shares_and_answers_are_balanced(train):
    kinds = train["kind"]
    assert [kinds.count(k) for k in vqa.QUESTION_TYPES] == [100] * 4
    for kind, answers in vqa.answer_vocabulary().items():
        got = [a for a, k in zip(train["answer"], kinds) if k == kind]
        shares = np.array([got.count(a) for a in answers]) / len(got)
        assert set(got) <= set(answers)
        assert shares.min() > 0.5 / len(answers), (kind, shares)  # no answer is rare


def test_seeded_float32_images_of_the_grid_size():
    a, b = vqa.make_vqa(8, grid=2, seed=5), vqa.make_vqa(8, grid=2, seed=5)
    np.testing.assert_array_equal(a["images"], b["images"])
    assert a["question"] == b["question"]
    assert a["images"].dtype == np.float32 and a["images"].shape == (8, 3, 48, 48)
    assert not np.array_equal(a["images"], vqa.make_vqa(8, grid=2, seed=6)["images"])


@pytest.mark.parametrize("kwargs", [dict(split="test"), dict(grid=0), dict(max_objects=5),
                                    dict(types=("colour", "size")), dict(max_objects=1)])
def test_bad_arguments_raise_a_named_error(kwargs):
    with pytest.raises(TensorError, match="make_vqa"):
        vqa.make_vqa(4, **kwargs)

"""Visual question answering on the procedural shapes: questions whose answers a language model
writes as a short word, and a test split whose objects were never seen.

An image is a grid of cells (2 x 2 for one 24 x 24 image; ``grid`` x ``grid`` such images
side by side for a larger canvas, 2 grid x 2 grid cells), and 1 to ``max_objects`` small
shapes of data/shapes.py, each in its own cell, drawn by shapes.render at the position of its
cell inside its tile. Four kinds of question, each with one correct short answer:

    colour    "what colour is the square?"              "red"     (one square in the image)
    shape     "what shape is the red one?"              "square"  (one red object)
    count     "how many circles?"                       "zero" .. "three" (never more)
    relation  "is the triangle left of the circle?"     "yes" / "no"
              "is the triangle above the circle?"       (one of each, in different columns
                                                         for "left of", rows for "above")

Every question is about the image's first object, the *focus* (the others are its context):
its shape, its colour, how many of its shape there are (counting its own shape is asked
three times in four; the other times an absent or any shape), where it is against another
object. Answers are balanced by how the scene is drawn, not by rejection on the answer.

Held-out combinations: in split="train" no object is a colour + shape pair of
shapes.HELD_OUT (red triangle, green cross, blue circle, yellow square, purple triangle);
in split="held_out" the focus always is one, so every question asks about an object the
model never saw, made of a colour and a shape it saw separately. split="seen" draws like
"train" (another seed makes other images): the test of the same distribution.

All randomness comes from one numpy Generator seeded by ``seed``; nothing is downloaded.
"""

import numpy

from ..errors import ArgumentError
from .shapes import ALL_COMBINATIONS, COLOUR_NAMES, HELD_OUT, SHAPES, render

TILE_SIZE = 24  # pixels of one tile (2 x 2 cells), the vision encoder's input size
QUESTION_TYPES = ("colour", "shape", "count", "relation")
COUNT_WORDS = ("zero", "one", "two", "three")
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles",
           "cross": "crosses"}
RELATION_WORDS = ("left of", "above")
_QUADRANTS = ("top left", "top right", "bottom left", "bottom right")  # cell (row, col) order
_SPLITS = ("train", "seen", "held_out")
_BACKGROUND = 0.1  # shapes.render's background level when its noise is 0


def answer_vocabulary():
    """Every answer a question can have, by question type."""
    return {"colour": COLOUR_NAMES, "shape": SHAPES, "count": COUNT_WORDS,
            "relation": ("yes", "no")}


def render_cells(objects, grid=1, noise=0.03, rng=None):
    """Images (N, 3, 24 grid, 24 grid) float32 in [0, 1] for N lists of objects.

    objects[i] is a list of (colour, shape, (row, col)) with (row, col) a cell of the
    2 grid x 2 grid layout, at most one object per cell. Each object is drawn small by
    shapes.render on a noise-free 24 x 24 tile at its cell's quadrant, and pasted (its pixels
    differ from the background) into its tile of the canvas; the canvas background has the
    same level and noise as shapes.render's."""
    rng = numpy.random.default_rng(rng)
    n, side = len(objects), TILE_SIZE * grid
    canvas = _BACKGROUND + noise * rng.standard_normal((n, 3, side, side))
    most = max((len(o) for o in objects), default=0)
    for slot in range(most):  # a loop over object slots (at most max_objects), not images
        owners = [i for i, objs in enumerate(objects) if len(objs) > slot]
        drawn = [objects[i][slot] for i in owners]
        cells = [cell for _, _, cell in drawn]
        tiles = render([c for c, _, _ in drawn], [s for _, s, _ in drawn],
                       ["small"] * len(drawn),
                       [_QUADRANTS[2 * (r % 2) + c % 2] for r, c in cells], TILE_SIZE,
                       noise=0.0, rng=rng)
        mask = (tiles != numpy.float32(_BACKGROUND)).any(axis=1, keepdims=True)
        for index, (row, col), tile, inside in zip(owners, cells, tiles, mask):
            top, left = TILE_SIZE * (row // 2), TILE_SIZE * (col // 2)
            window = canvas[index, :, top:top + TILE_SIZE, left:left + TILE_SIZE]
            window[...] = numpy.where(inside, tile, window)
    return numpy.clip(canvas, 0.0, 1.0).astype(numpy.float32)


def _question(kind, objects, rng):
    """(question, answer) of type ``kind`` about objects[0], or None when the scene cannot
    ask it (the focus' shape or colour is not unique, no partner for a relation)."""
    colour, shape, (row, col) = objects[0]
    shapes_here = [s for _, s, _ in objects]
    colours_here = [c for c, _, _ in objects]
    if kind == "colour":
        return None if shapes_here.count(shape) > 1 else (f"what colour is the {shape}?", colour)
    if kind == "shape":
        return None if colours_here.count(colour) > 1 else (f"what shape is the {colour} one?",
                                                            shape)
    if kind == "count":
        asked = shape if rng.random() < 0.75 else SHAPES[rng.integers(len(SHAPES))]
        many = shapes_here.count(asked)
        return None if many >= len(COUNT_WORDS) else (f"how many {PLURALS[asked]}?",
                                                      COUNT_WORDS[many])
    relation = RELATION_WORDS[rng.integers(len(RELATION_WORDS))]
    axis = 1 if relation == "left of" else 0
    partners = [o for o in objects[1:] if shapes_here.count(o[1]) == 1
                and o[2][axis] != (row, col)[axis]]
    if shapes_here.count(shape) > 1 or not partners:
        return None
    other = partners[rng.integers(len(partners))]
    if rng.random() < 0.5:  # the focus first or second, so neither answer follows its place
        first, second = objects[0], other
    else:
        first, second = other, objects[0]
    truth = first[2][axis] < second[2][axis]
    return f"is the {first[1]} {relation} the {second[1]}?", "yes" if truth else "no"


def _draw_scene(rng, pool, focus_pool, cells, max_objects, kind):
    """Objects for one question of ``kind``: a focus from focus_pool, the rest from pool, each
    in its own random cell. Relation and count scenes get at least two objects (a relation
    needs a partner; a count of one would otherwise dominate)."""
    least = 2 if kind in ("relation", "count") else 1
    count = int(rng.integers(least, max_objects + 1))
    where = rng.choice(len(cells), size=count, replace=False)
    picks = [focus_pool[rng.integers(len(focus_pool))]]
    if kind == "count" and rng.random() < 0.5:  # repeat the focus' shape: counts above one
        same = [p for p in pool if p[1] == picks[0][1]]
        picks += [same[rng.integers(len(same))] for _ in range(count - 1)]
    else:
        picks += [pool[rng.integers(len(pool))] for _ in range(count - 1)]
    return [(c, s, cells[w]) for (c, s), w in zip(picks, where)]


def make_vqa(n, split="train", grid=1, max_objects=3, types=QUESTION_TYPES, seed=0,
             noise=0.03):
    """n (image, question, answer) triples.

    split: "train" or "seen" (no held-out colour + shape pair anywhere) or "held_out" (the
    focus of every question is one). grid: tiles per side (image side 24 grid pixels).
    max_objects: 1 to 4 grid^2 objects per image (each in its own cell). types: the question
    types to draw, in equal shares (cycled: item i is types[i % len(types)]).

    Returns a dict: images (n, 3, 24 grid, 24 grid) float32; question, answer, kind (lists of
    str); objects (list of lists of (colour, shape, (row, col)), the focus first).
    """
    if isinstance(n, bool) or not isinstance(n, (int, numpy.integer)) or n < 0:
        raise ArgumentError(f"make_vqa: n must be a non-negative integer, got {n!r}")
    if split not in _SPLITS:
        raise ArgumentError(f"make_vqa: split must be one of {_SPLITS}, got {split!r}")
    if isinstance(grid, bool) or not isinstance(grid, (int, numpy.integer)) or grid < 1:
        raise ArgumentError(f"make_vqa: grid must be a positive integer, got {grid!r}")
    cells = [(r, c) for r in range(2 * grid) for c in range(2 * grid)]
    if isinstance(max_objects, bool) or not isinstance(max_objects, (int, numpy.integer)) or \
            not 1 <= max_objects <= len(cells):
        raise ArgumentError(f"make_vqa: max_objects must be 1 to {len(cells)} (one per cell), "
                            f"got {max_objects!r}")
    unknown = [t for t in types if t not in QUESTION_TYPES]
    if unknown or not types:
        raise ArgumentError(f"make_vqa: types must be a non-empty subset of {QUESTION_TYPES}, "
                            f"got {list(types)}")
    if ("relation" in types or "count" in types) and max_objects < 2:
        raise ArgumentError("make_vqa: relation and count questions need max_objects >= 2")
    rng = numpy.random.default_rng(seed)
    seen = [pair for pair in ALL_COMBINATIONS if pair not in HELD_OUT]
    pool = seen if split in ("train", "seen") else list(ALL_COMBINATIONS)
    focus_pool = seen if split in ("train", "seen") else list(HELD_OUT)
    objects, questions, answers, kinds = [], [], [], []
    for i in range(n):
        kind = types[i % len(types)]
        while True:  # rejection: redraw the scene until it can ask this kind of question
            scene = _draw_scene(rng, pool, focus_pool, cells, max_objects, kind)
            qa = _question(kind, scene, rng)
            if qa is not None:
                break
        objects.append(scene)
        questions.append(qa[0])
        answers.append(qa[1])
        kinds.append(kind)
    images = render_cells(objects, grid, noise=noise, rng=rng)
    return {"images": images, "question": questions, "answer": answers, "kind": kinds,
            "objects": objects}

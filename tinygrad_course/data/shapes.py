"""A seeded generator of small images of shapes with captions, for a tiny CLIP.

Each image (RGB, size x size, float32 in [0, 1]) shows one shape on a dark noisy background:

    colour    red, green, blue, yellow, purple
    shape     circle, square, triangle, cross
    size      small, large
    position  top left, top right, bottom left, bottom right, centre

and its caption says so compositionally: "a small red circle at the top left". Captions may
leave out the size or the position ("a red circle", "a large red circle"), so the text
encoder also sees the short prompts used for zero-shot classification.

Some colour + shape combinations (HELD_OUT) are never generated for training: a CLIP that
learned "red" and "triangle" separately should still match a red triangle to "a red
triangle" (compositional zero-shot).

Everything is drawn from a numpy Generator and vectorised over images (no loop over pixels
or images): masks come from distances on a coordinate grid, one formula per shape.
"""

import numpy

COLOURS = {
    "red": (0.9, 0.15, 0.1),
    "green": (0.1, 0.8, 0.2),
    "blue": (0.15, 0.3, 0.95),
    "yellow": (0.95, 0.9, 0.1),
    "purple": (0.65, 0.2, 0.85),
}
SHAPES = ("circle", "square", "triangle", "cross")
SIZES = ("small", "large")
POSITIONS = ("top left", "top right", "bottom left", "bottom right", "centre")
COLOUR_NAMES = tuple(COLOURS)


def held_out_pairs(shift):
    """The held-out set number ``shift`` (0-3): colour i loses shape (i + shift) mod 4.

    One unseen combination per colour, and each shape is held out for at most 2 of the 5
    colours, so every colour and every shape is still seen in training."""
    if shift not in range(len(SHAPES)):
        raise ValueError(f"held_out_pairs: shift must be 0-{len(SHAPES) - 1}, got {shift!r}")
    return tuple((c, SHAPES[(i + shift) % len(SHAPES)]) for i, c in enumerate(COLOUR_NAMES))


# The default: red triangle, green cross, blue circle, yellow square, purple triangle.
HELD_OUT = held_out_pairs(2)
ALL_COMBINATIONS = tuple((c, s) for c in COLOUR_NAMES for s in SHAPES)
SEEN_COMBINATIONS = tuple(pair for pair in ALL_COMBINATIONS if pair not in HELD_OUT)

_CENTRES = {"top left": (0.28, 0.28), "top right": (0.28, 0.72), "bottom left": (0.72, 0.28),
            "bottom right": (0.72, 0.72), "centre": (0.5, 0.5)}  # (row, column) as fractions
_RADII = {"small": 0.13, "large": 0.22}


def caption(colour, shape, size=None, position=None):
    """'a [size] colour shape [at the position]'; size and position are optional."""
    words = ["a"] + ([size] if size else []) + [colour, shape]
    if position:
        words += ["at", "the"] + position.split()
    return " ".join(words)


def render(colours, shapes, sizes, positions, image_size=16, noise=0.03, rng=None):
    """Images (N, 3, image_size, image_size) for N lists of attribute names.

    The centre is jittered by up to 4% of the image and the colour by a little, so no two
    images are the same pixels.
    """
    rng = numpy.random.default_rng(rng)
    n = len(colours)
    centres = numpy.array([_CENTRES[p] for p in positions]) + rng.uniform(-0.04, 0.04, (n, 2))
    radii = numpy.array([_RADII[s] for s in sizes]) * rng.uniform(0.9, 1.1, n)
    shape_id = numpy.array([SHAPES.index(s) for s in shapes])
    grid = (numpy.arange(image_size) + 0.5) / image_size
    dy = grid[None, :, None] - centres[:, 0, None, None]     # (N, H, 1): row offset
    dx = grid[None, None, :] - centres[:, 1, None, None]     # (N, 1, W): column offset
    r = radii[:, None, None]
    circle = dx ** 2 + dy ** 2 <= r ** 2
    square = numpy.maximum(abs(dx), abs(dy)) <= 0.8 * r
    triangle = (dy <= 0.8 * r) & (dy >= -r) & (abs(dx) <= (dy + r) * 0.6)  # apex at the top
    arm = r / 3
    cross = ((abs(dx) <= arm) & (abs(dy) <= r)) | ((abs(dy) <= arm) & (abs(dx) <= r))
    masks = numpy.select([shape_id[:, None, None] == k for k in range(4)],
                         [circle, square, triangle, cross])           # (N, H, W)
    rgb = numpy.array([COLOURS[c] for c in colours]) + rng.uniform(-0.05, 0.05, (n, 3))
    background = 0.1 + noise * rng.standard_normal((n, 3, image_size, image_size))
    images = numpy.where(masks[:, None], rgb[:, :, None, None], background)
    return numpy.clip(images, 0.0, 1.0).astype(numpy.float32)


def make_shapes(n, split="train", image_size=16, short_caption_rate=0.3, seed=0,
                held_out=HELD_OUT):
    """n (image, caption) pairs with their attributes.

    split="train" draws only the combinations not in ``held_out`` (default HELD_OUT, see
    held_out_pairs for others); "held_out" only those in it; "all" any.
    short_caption_rate: fraction of captions that drop the size, the position or both.
    Returns a dict: images (n, 3, S, S) float32, captions (list of str), and the attribute
    lists colour, shape, size, position (str) and combination (index into ALL_COMBINATIONS).
    """
    held_out = tuple(tuple(pair) for pair in held_out)
    unknown = [pair for pair in held_out if pair not in ALL_COMBINATIONS]
    if unknown or not held_out:
        raise ValueError(f"make_shapes: held_out must be colour + shape pairs of "
                         f"ALL_COMBINATIONS, got {list(held_out)}")
    combos = {"train": tuple(p for p in ALL_COMBINATIONS if p not in held_out),
              "held_out": held_out, "all": ALL_COMBINATIONS}
    if split not in combos:
        raise ValueError(f"make_shapes: split must be one of {list(combos)}, got {split!r}")
    rng = numpy.random.default_rng(seed)
    pool = combos[split]
    picks = rng.integers(len(pool), size=n)
    colours = [pool[i][0] for i in picks]
    shapes = [pool[i][1] for i in picks]
    sizes = [SIZES[i] for i in rng.integers(len(SIZES), size=n)]
    positions = [POSITIONS[i] for i in rng.integers(len(POSITIONS), size=n)]
    images = render(colours, shapes, sizes, positions, image_size, rng=rng)
    drop = rng.random(n) < short_caption_rate
    which = rng.integers(3, size=n)  # 0: drop size, 1: drop position, 2: drop both
    captions = [caption(c, s, None if d and w != 1 else z, None if d and w != 0 else p)
                for c, s, z, p, d, w in zip(colours, shapes, sizes, positions, drop, which)]
    combination = numpy.array([ALL_COMBINATIONS.index(pair) for pair in zip(colours, shapes)])
    return {"images": images, "captions": captions, "colour": colours, "shape": shapes,
            "size": sizes, "position": positions, "combination": combination}


DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digit_captions(labels):
    """'a photo of the digit seven' for each label 0..9."""
    return [f"a photo of the digit {DIGIT_NAMES[int(k)]}" for k in labels]


def caption_vocabulary():
    """Every word a caption can contain (shapes and digits), for a fixed tokenizer."""
    words = {"a", "at", "the", "photo", "of", "digit"}
    words.update(COLOUR_NAMES, SHAPES, SIZES, DIGIT_NAMES)
    for position in POSITIONS:
        words.update(position.split())
    return sorted(words)

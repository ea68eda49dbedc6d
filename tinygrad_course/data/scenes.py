"""A seeded generator of two-object scenes with relational captions, and a swap test.

Each image (RGB, size x size, float32 in [0, 1]) shows two shapes from data/shapes.py (the
same colours, shapes and sizes, drawn by the same formulas) side by side or one above the
other, and its caption names both objects and how they are placed:

    "a red circle left of a blue square"
    "a small green triangle above a large red circle"

The two objects always differ in colour AND in shape, so that exchanging them, or
exchanging their colours, describes a different scene. Sizes are named in a fraction of the
captions (``size_rate``). Each layout has two true captions ("A left of B" = "B right of A");
one is drawn at random.

Held-out combinations: the colour + shape pairs of shapes.HELD_OUT never appear in a
training scene; split="held_out" puts at least one of them in every scene, so a model must
compose "red" and "triangle" learned separately.

The swap test (in the spirit of Winoground): for an image with caption c, a swapped caption
c' uses exactly the same words (the same multiset) but says something false:

    relation swap   "a red circle left of a blue square" -> "a blue square left of a red circle"
    attribute swap  "a red circle left of a blue square" -> "a blue circle left of a red square"

A model passes a trial when it scores c above c'. A bag-of-words model cannot tell them apart
(the two captions have the same words), so chance is 50%.
"""

import math

import numpy

from ..errors import ArgumentError, ShapeError
from .shapes import ALL_COMBINATIONS, COLOUR_NAMES, COLOURS, HELD_OUT, SHAPES, SIZES

RELATIONS = ("left of", "right of", "above", "below")
LAYOUTS = ("horizontal", "vertical")
SWAP_KINDS = ("relation", "attribute")

_RADII = {"small": 0.12, "large": 0.18}  # as fractions of the image side


def _object_phrase(colour, shape, size=None):
    return " ".join(["a"] + ([size] if size else []) + [colour, shape])


def scene_caption(first, second, relation, with_sizes=False):
    """'a [size] colour shape RELATION a [size] colour shape'.

    first, second: (colour, shape, size) triples; relation: one of RELATIONS, read as
    "first RELATION second"."""
    if relation not in RELATIONS:
        raise ArgumentError(f"scene_caption: relation must be one of {RELATIONS}, got "
                         f"{relation!r}")
    size_of = (lambda obj: obj[2]) if with_sizes else (lambda obj: None)
    return " ".join([_object_phrase(*first[:2], size_of(first)), relation,
                     _object_phrase(*second[:2], size_of(second))])


def scene_vocabulary():
    """Every word a scene caption can contain."""
    words = {"a"} | set(COLOUR_NAMES) | set(SHAPES) | set(SIZES)
    for relation in RELATIONS:
        words.update(relation.split())
    return sorted(words)


def _draw_objects(pool, n, rng):
    """n pairs of (colour, shape) from ``pool`` that differ in colour and in shape."""
    first, second = [], []
    pool = list(pool)
    while len(first) < n:  # rejection: about 40% of random pairs qualify, vectorised per round
        a = rng.integers(len(pool), size=2 * n)
        b = rng.integers(len(pool), size=2 * n)
        ok = [pool[i][0] != pool[j][0] and pool[i][1] != pool[j][1] for i, j in zip(a, b)]
        for i, j, keep in zip(a, b, ok):
            if keep and len(first) < n:
                first.append(pool[i])
                second.append(pool[j])
    return first, second


def render_scenes(objects_a, objects_b, layouts, image_size=24, noise=0.03, rng=None):
    """Images (N, 3, S, S): object a on the left (horizontal) or at the top (vertical), b on
    the other side. objects_*: lists of (colour, shape, size); layouts: list of LAYOUTS.

    Each centre is jittered along both axes, so the pixels never repeat; the two objects
    never overlap (their centres are at least 0.4 S apart along the layout's axis)."""
    rng = numpy.random.default_rng(rng)
    n = len(layouts)
    horizontal = numpy.array([layout == "horizontal" for layout in layouts])
    along = numpy.stack([0.27 + rng.uniform(-0.03, 0.03, n),
                         0.73 + rng.uniform(-0.03, 0.03, n)], axis=1)   # (N, 2): a, b
    across = 0.5 + rng.uniform(-0.15, 0.15, (n, 1)) + rng.uniform(-0.03, 0.03, (n, 2))
    rows = numpy.where(horizontal[:, None], across, along)             # (N, 2)
    cols = numpy.where(horizontal[:, None], along, across)
    grid = (numpy.arange(image_size) + 0.5) / image_size
    images = 0.1 + noise * rng.standard_normal((n, 3, image_size, image_size))
    for k, objects in enumerate((objects_a, objects_b)):  # two objects: a loop of length 2
        radii = numpy.array([_RADII[o[2]] for o in objects]) * rng.uniform(0.9, 1.1, n)
        shape_id = numpy.array([SHAPES.index(o[1]) for o in objects])
        dy = grid[None, :, None] - rows[:, k, None, None]              # (N, H, 1)
        dx = grid[None, None, :] - cols[:, k, None, None]              # (N, 1, W)
        r = radii[:, None, None]
        circle = dx ** 2 + dy ** 2 <= r ** 2
        square = numpy.maximum(abs(dx), abs(dy)) <= 0.8 * r
        triangle = (dy <= 0.8 * r) & (dy >= -r) & (abs(dx) <= (dy + r) * 0.6)
        arm = r / 3
        cross = ((abs(dx) <= arm) & (abs(dy) <= r)) | ((abs(dy) <= arm) & (abs(dx) <= r))
        masks = numpy.select([shape_id[:, None, None] == s for s in range(len(SHAPES))],
                             [circle, square, triangle, cross])
        rgb = numpy.array([COLOURS[o[0]] for o in objects]) + rng.uniform(-0.05, 0.05, (n, 3))
        images = numpy.where(masks[:, None], rgb[:, :, None, None], images)
    return numpy.clip(images, 0.0, 1.0).astype(numpy.float32)


def _check_count(where, name, value, smallest):
    """Refuse a count that is not an integer >= smallest, naming the entry point."""
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) \
            or value < smallest:
        raise ArgumentError(f"{where}: {name} must be an integer >= {smallest}, got {value!r}")


def make_scenes(n, split="train", image_size=24, size_rate=0.5, seed=0):
    """n two-object scenes with captions.

    split: "train" (no object is a held-out colour + shape pair), "held_out" (at least one
    object is), or "all". size_rate: the fraction of captions that name both sizes.
    Returns a dict: images (n, 3, S, S) float32; captions (list of str); first, second (the
    caption's objects in caption order, (colour, shape, size) triples); relation (str);
    layout (str); with_sizes (bool array).
    """
    _check_count("make_scenes", "n", n, 1)
    if not isinstance(split, str) or split not in ("train", "held_out", "all"):
        raise ArgumentError(f"make_scenes: split must be 'train', 'held_out' or 'all', got "
                            f"{split!r}")
    _check_count("make_scenes", "image_size", image_size, 1)
    if isinstance(size_rate, bool) or not isinstance(size_rate, (int, float, numpy.floating)) \
            or not 0.0 <= size_rate <= 1.0:
        raise ArgumentError(f"make_scenes: size_rate must be a number in [0, 1], got "
                            f"{size_rate!r}")
    rng = numpy.random.default_rng(seed)
    seen = [pair for pair in ALL_COMBINATIONS if pair not in HELD_OUT]
    if split == "train":
        pairs_a, pairs_b = _draw_objects(seen, n, rng)
    elif split == "all":
        pairs_a, pairs_b = _draw_objects(ALL_COMBINATIONS, n, rng)
    else:  # a held-out object, and a partner from any pair that differs in colour and shape
        held = [HELD_OUT[i] for i in rng.integers(len(HELD_OUT), size=n)]
        partners = []
        for colour, shape in held:
            options = [p for p in ALL_COMBINATIONS if p[0] != colour and p[1] != shape]
            partners.append(options[rng.integers(len(options))])
        flip = rng.random(n) < 0.5
        pairs_a = [p if f else h for h, p, f in zip(held, partners, flip)]
        pairs_b = [h if f else p for h, p, f in zip(held, partners, flip)]
    sizes = rng.integers(len(SIZES), size=(n, 2))
    objects_a = [(c, s, SIZES[z]) for (c, s), z in zip(pairs_a, sizes[:, 0])]
    objects_b = [(c, s, SIZES[z]) for (c, s), z in zip(pairs_b, sizes[:, 1])]
    layouts = [LAYOUTS[i] for i in rng.integers(2, size=n)]
    images = render_scenes(objects_a, objects_b, layouts, image_size, rng=rng)
    # a is left of / above b; the caption names a first ("a left of b") or b first ("b right
    # of a"), at random
    b_first = rng.random(n) < 0.5
    with_sizes = rng.random(n) < size_rate
    first, second, relations, captions = [], [], [], []
    for a, b, layout, flip, sized in zip(objects_a, objects_b, layouts, b_first, with_sizes):
        relation = {("horizontal", False): "left of", ("horizontal", True): "right of",
                    ("vertical", False): "above", ("vertical", True): "below"}[layout, flip]
        one, two = (b, a) if flip else (a, b)
        first.append(one)
        second.append(two)
        relations.append(relation)
        captions.append(scene_caption(one, two, relation, with_sizes=sized))
    return {"images": images, "captions": captions, "first": first, "second": second,
            "relation": relations, "layout": layouts, "with_sizes": with_sizes}


def swapped_caption(first, second, relation, kind, with_sizes=False):
    """The false caption of the swap test, with the same words as the true one.

    kind="relation": the two objects exchange places in the sentence (sizes go with them);
    kind="attribute": the two colours are exchanged, shapes and sizes stay."""
    if kind == "relation":
        return scene_caption(second, first, relation, with_sizes)
    if kind == "attribute":
        return scene_caption((second[0],) + tuple(first[1:]), (first[0],) + tuple(second[1:]),
                             relation, with_sizes)
    raise ArgumentError(f"swapped_caption: kind must be one of {SWAP_KINDS}, got {kind!r}")


def swap_negatives(scene_dict, rng=None):
    """One generated false caption per scene, with its caption's words: a relation or an
    attribute swap (swapped_caption), the kind drawn at random for each scene. These are the
    structured hard negatives of NegCLIP (Yuksekgonul et al. 2023), built from the scene
    description instead of a parser. scene_dict: a make_scenes dict. Returns (captions, kinds),
    two lists of str."""
    rng = numpy.random.default_rng(rng)
    kinds = [SWAP_KINDS[i] for i in rng.integers(len(SWAP_KINDS), size=len(scene_dict["first"]))]
    captions = [swapped_caption(f, s, r, k, z) for f, s, r, k, z in zip(
        scene_dict["first"], scene_dict["second"], scene_dict["relation"], kinds,
        scene_dict["with_sizes"])]
    return captions, kinds


def make_swap_test(n, split="train", image_size=24, seed=0):
    """n images, each with its true caption and one swapped caption of the same words.

    The first half of the images get a relation swap, the second half an attribute swap (one
    trial per image, so the trials are independent). Returns make_scenes' dict plus
    ``swapped`` (list of str) and ``kind`` (list of SWAP_KINDS)."""
    scenes = make_scenes(n, split=split, image_size=image_size, seed=seed)
    kinds = [SWAP_KINDS[0] if i < n // 2 else SWAP_KINDS[1] for i in range(n)]
    scenes["swapped"] = [swapped_caption(f, s, r, k, z) for f, s, r, k, z in zip(
        scenes["first"], scenes["second"], scenes["relation"], kinds, scenes["with_sizes"])]
    scenes["kind"] = kinds
    return scenes


def wilson_interval(successes, trials, z=1.96):
    """The Wilson score interval for a binomial proportion (95% for z = 1.96):

        centre = (p + z^2 / 2n) / (1 + z^2 / n)
        half   = z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)

    Unlike the normal approximation p +- z sqrt(p (1 - p) / n), it stays inside [0, 1] and is
    not empty at p = 0 or 1."""
    _check_count("wilson_interval", "trials", trials, 1)
    if isinstance(successes, bool) or not isinstance(successes, (int, numpy.integer)) \
            or not 0 <= successes <= trials:
        raise ArgumentError(f"wilson_interval: successes must be in [0, {trials}], got "
                            f"{successes!r}")
    p = successes / trials
    denominator = 1 + z ** 2 / trials
    centre = (p + z ** 2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z ** 2 / (4 * trials ** 2)) / denominator
    return centre - half, centre + half


def _canonical(first, second, relation):
    """(left-or-top object, right-or-bottom object, layout) of a caption's description."""
    if relation in ("right of", "below"):
        first, second = second, first
    return first, second, "horizontal" if relation in ("left of", "right of") else "vertical"


def caption_matches(scenes, captions=None):
    """(N_images, N_captions) bool: caption j is a true description of image i.

    A caption is true when it names the two objects' colours and shapes on the right sides
    of the right layout ("A left of B" and "B right of A" both are), and, if it names sizes,
    the right sizes. ``captions`` is a make_scenes dict whose captions are the candidates
    (default: ``scenes`` itself, so the diagonal is True)."""
    captions = scenes if captions is None else captions

    def table(data):
        keys = [_canonical(f, s, r) for f, s, r in zip(data["first"], data["second"],
                                                       data["relation"])]
        objects = numpy.array([[a[0], a[1], b[0], b[1], layout] for a, b, layout in keys])
        sizes = numpy.array([[a[2], b[2]] for a, b, _ in keys])
        return objects, sizes

    image_objects, image_sizes = table(scenes)
    caption_objects, caption_sizes = table(captions)
    same_objects = (image_objects[:, None] == caption_objects[None]).all(axis=2)
    same_sizes = (image_sizes[:, None] == caption_sizes[None]).all(axis=2)
    sized = numpy.asarray(captions["with_sizes"], dtype=bool)[None, :]
    return same_objects & (same_sizes | ~sized)


def recall_with_matches(similarity, matches, ks=(1, 5)):
    """Fraction of rows with a true match among their k highest-scoring columns, for each k.

    similarity, matches: (queries, candidates) host arrays; several candidates may be true
    (caption_matches). A row counts at k when its best-scoring true candidate is beaten by
    fewer than k false ones; ties with a false candidate count against it."""
    similarity = numpy.asarray(similarity, dtype=numpy.float64)
    matches = numpy.asarray(matches, dtype=bool)
    if similarity.shape != matches.shape:
        raise ShapeError(f"recall_with_matches: similarity {similarity.shape} and matches "
                         f"{matches.shape} must have the same shape")
    if not matches.any(axis=1).all():
        raise ArgumentError("recall_with_matches: every query needs at least one true candidate")
    best_true = numpy.where(matches, similarity, -numpy.inf).max(axis=1, keepdims=True)
    beaten_by = (~matches & (similarity >= best_true)).sum(axis=1)
    return {k: float((beaten_by < k).mean()) for k in ks}

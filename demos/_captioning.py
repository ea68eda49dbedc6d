"""What the captioning demos (coca_tradeoff, caption_samples) share: the caption vocabulary,
reading a generated caption back into a scene description, and the measurements.

A generated caption is judged three ways on held-out scenes (data/scenes.py):
    reference match  word for word the scene's own caption (one of two true orders, with or
                     without sizes: a strict measure, a perfect model gets about a quarter)
    correct          a well-formed scene caption that is true of the image
                     (scenes.caption_matches: right objects on the right sides; sizes, if
                     named, right): the exact match against every true caption
    token accuracy   teacher forcing on the reference captions: how often the most likely
                     next token is the reference's (words and [eos])
Zero-shot classification (a dual encoder's use): each image against every caption "a C1 S1
left of a C2 S2" and "a C1 S1 above a C2 S2" of two objects differing in colour and shape
(480 classes), right when the best-scoring one is true of it.
"""

import itertools

import numpy as np

import tinygrad_course as tg
from tinygrad_course.data import scenes, shapes
from tinygrad_course.models.caption_decoder import CaptionVocabulary

MAX_WORDS = 10


def make_vocabulary():
    return CaptionVocabulary(scenes.scene_vocabulary(), MAX_WORDS)


def parse_caption(text):
    """(first, second, relation, with_sizes) of a well-formed scene caption, or None.

    first, second: (colour, shape, size or None)."""
    words = text.split()
    for relation in scenes.RELATIONS:
        rel = relation.split()
        for at in range(len(words) - len(rel) + 1):
            if words[at:at + len(rel)] != rel:
                continue
            one, two = _object(words[:at]), _object(words[at + len(rel):])
            if one is not None and two is not None and (one[2] is None) == (two[2] is None):
                return one, two, relation, one[2] is not None
    return None


def _object(words):
    """'a [size] colour shape' -> (colour, shape, size or None), or None."""
    if len(words) == 3:
        words = [words[0], None] + words[1:]
    if len(words) != 4 or words[0] != "a" or words[2] not in shapes.COLOUR_NAMES or \
            words[3] not in shapes.SHAPES or words[1] not in (None,) + shapes.SIZES:
        return None
    return words[2], words[3], words[1]


def caption_scores(captions, test):
    """reference match and correct (module docstring) of generated ``captions`` for the
    scenes of ``test`` (a make_scenes dict), and the per-image correctness."""
    reference = np.array([c == r for c, r in zip(captions, test["captions"])])
    correct = np.zeros(len(captions), dtype=bool)
    for i, text in enumerate(captions):
        parsed = parse_caption(text)
        if parsed is None:
            continue
        first, second, relation, sized = parsed
        fill = (lambda obj: obj) if sized else (lambda obj: obj[:2] + ("small",))
        described = {"first": [fill(first)], "second": [fill(second)], "relation": [relation],
                     "with_sizes": np.array([sized])}
        one = {key: (value[i:i + 1] if isinstance(value, np.ndarray) else [value[i]])
               for key, value in test.items()}
        correct[i] = scenes.caption_matches(one, described)[0, 0]
    return {"reference_match": float(reference.mean()), "correct": float(correct.mean())}, \
        correct


def token_accuracy(logits_of, images, ids, chunk=250):
    """Teacher-forced next-token accuracy over the real targets (words and [eos]).
    logits_of(images, ids) -> (N, >= T - 1, V) Tensor."""
    hits = total = 0
    for start in range(0, len(ids), chunk):
        part = slice(start, start + chunk)
        with tg.no_grad():
            logits = logits_of(images[part], ids[part]).numpy()
        targets = ids[part, 1:]
        predicted = logits[:, :targets.shape[1]].argmax(axis=-1)
        real = targets != 0
        hits += int((predicted == targets)[real].sum())
        total += int(real.sum())
    return hits / total


def zero_shot_classes():
    """The 480 class captions of the zero-shot test as a make_scenes-like dict (no sizes)."""
    first, second, relation = [], [], []
    for a, b in itertools.permutations(shapes.ALL_COMBINATIONS, 2):
        if a[0] == b[0] or a[1] == b[1]:
            continue
        for rel in ("left of", "above"):
            first.append(a + ("small",))
            second.append(b + ("small",))
            relation.append(rel)
    captions = [scenes.scene_caption(f, s, r) for f, s, r in zip(first, second, relation)]
    return {"captions": captions, "first": first, "second": second, "relation": relation,
            "with_sizes": np.zeros(len(captions), dtype=bool)}


def zero_shot(embed, test, vocabulary, classes=None):
    """Accuracy of the best-scoring class caption (zero_shot_classes) being true of each test
    image, and of it naming the image's two objects (colour + shape, in any place).
    embed(images=None, ids=None) -> unit embeddings (host arrays)."""
    classes = classes or zero_shot_classes()
    (text,) = embed(ids=vocabulary(classes["captions"]))
    (images,) = embed(images=test["images"])
    best = (images @ text.T).argmax(axis=1)
    matches = scenes.caption_matches(test, classes)
    right = matches[np.arange(len(best)), best]
    objects = [{test["first"][i][:2], test["second"][i][:2]} ==
               {classes["first"][j][:2], classes["second"][j][:2]} for i, j in enumerate(best)]
    return {"accuracy": float(right.mean()), "objects": float(np.mean(objects)),
            "classes": len(classes["captions"]), "n": len(best)}

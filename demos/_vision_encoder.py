"""The frozen vision encoder of the connector demos: a small ViT trained once on the VQA shapes,
cached under demos/output.

Pretraining task (not the VQA questions): for each of the 2 x 2 cells of a 24 x 24 training
image of data/vqa.py, name the colour of the object in it (or "empty") and its shape (or
"empty"): 4 x (6 + 5) logits from the CLS token, the sum of the 8 cross-entropies. Colour and
shape are separate outputs, so the encoder learns them apart and can describe a held-out
pair (none is in its training images). The connectors read ``features``: every position's
output after the final LayerNorm, (N, 1 + 16, d), CLS first, then the 4 x 4 patches of 6 x 6
pixels.

The weights are cached in demos/output/vqa_vit_<size>.npz (checkpoint.save) with the
accuracy they reached; a cached file is reused when its configuration matches.
"""

import os
import time

import numpy as np

import tinygrad_course as tg
from tinygrad_course import checkpoint, optim
from tinygrad_course import functional as F
from tinygrad_course.data import vqa
from tinygrad_course.data.shapes import COLOUR_NAMES, SHAPES
from tinygrad_course.models.vit import ViT

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")
CELLS = 4
SIZES = {"quick": dict(images=1500, steps=150, d_model=32, layers=1),
         "full": dict(images=6000, steps=700, d_model=32, layers=2)}
PATCH_SIZE = 6


def cell_targets(objects):
    """(N, 4) colour ids and (N, 4) shape ids per cell (row-major), the last id = empty."""
    colours = np.full((len(objects), CELLS), len(COLOUR_NAMES))
    shapes = np.full((len(objects), CELLS), len(SHAPES))
    for i, objs in enumerate(objects):
        for colour, shape, (row, col) in objs:
            colours[i, 2 * row + col] = COLOUR_NAMES.index(colour)
            shapes[i, 2 * row + col] = SHAPES.index(shape)
    return colours, shapes


def _losses(model, images, colours, shapes):
    logits = model(tg.tensor(images)).reshape(-1, CELLS, len(COLOUR_NAMES) + len(SHAPES) + 2)
    c = len(COLOUR_NAMES) + 1
    return (F.cross_entropy(logits[:, :, :c].reshape(-1, c), tg.tensor(colours.reshape(-1)))
            + F.cross_entropy(logits[:, :, c:].reshape(-1, len(SHAPES) + 1),
                              tg.tensor(shapes.reshape(-1)))), logits


def _build(cfg):
    return ViT(vqa.TILE_SIZE, PATCH_SIZE, CELLS * (len(COLOUR_NAMES) + len(SHAPES) + 2),
               in_channels=3, d_model=cfg["d_model"], nhead=4, num_layers=cfg["layers"], seed=0)


def cell_accuracy(model, data):
    """Share of cells whose colour and shape (or emptiness) are both named right."""
    colours, shapes = cell_targets(data["objects"])
    with tg.no_grad():
        _, logits = _losses(model, data["images"], colours, shapes)
    logits = logits.numpy()
    c = len(COLOUR_NAMES) + 1
    right = (logits[:, :, :c].argmax(-1) == colours) & (logits[:, :, c:].argmax(-1) == shapes)
    return float(right.mean())


def load_encoder(quick):
    """(frozen ViT, info): trained now or read from the cache. info: cell accuracy on seen and
    held-out test images, training seconds (0 when read from the cache), parameters."""
    size = "quick" if quick else "full"
    cfg = SIZES[size]
    model = _build(cfg)
    path = os.path.join(OUTPUT, f"vqa_vit_{size}.npz")
    if os.path.exists(path):
        extra = checkpoint.load(path, model)
        if extra.get("config") == repr(cfg):
            print(f"vision encoder: {path} (cached; trained in {extra['seconds']:.0f} s)")
            return model.requires_grad_(False).eval(), dict(extra, seconds=0.0)
        model = _build(cfg)
    data = vqa.make_vqa(cfg["images"], split="train", seed=100)
    colours, shapes = cell_targets(data["objects"])
    opt = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["steps"])
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(cfg["steps"]):
        batch = rng.choice(len(colours), 64, replace=False)
        loss, _ = _losses(model, data["images"][batch], colours[batch], shapes[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    seconds = time.perf_counter() - start
    model.eval()
    info = {"config": repr(cfg), "seconds": seconds, "parameters": model.num_parameters(),
            "cell_accuracy_seen": cell_accuracy(model, vqa.make_vqa(400, "seen", seed=101)),
            "cell_accuracy_held_out": cell_accuracy(model, vqa.make_vqa(400, "held_out",
                                                                        seed=102))}
    os.makedirs(OUTPUT, exist_ok=True)
    checkpoint.save(path, model, **info)
    print(f"vision encoder: ViT trained in {seconds:.0f} s, cells right "
          f"{info['cell_accuracy_seen']:.1%} (seen), {info['cell_accuracy_held_out']:.1%} "
          f"(held-out pairs); cached in {path}")
    return model.requires_grad_(False), info


def features(encoder, images, batch=256):
    """The frozen encoder's features (N, 17, d) of host images (N, 3, 24, 24), host float32."""
    out = []
    with tg.no_grad():
        for start in range(0, len(images), batch):
            out.append(encoder.encode(tg.tensor(images[start:start + batch])).numpy())
    return np.concatenate(out)

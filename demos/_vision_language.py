"""What the vision-language demos share: the relational scenes, the tokenizer, a training loop,
and the two measurements (the swap test and retrieval) for any model that can score pairs.

A model is measured through two functions of host arrays:
    pair_score(images, ids) -> (N,)       how well caption n fits image n (higher: better)
    embed(images, ids)      -> (u, w)     unit features for retrieval by dot product
"""

import time

import numpy as np

import tinygrad_course as tg
from demos import _progress
from tinygrad_course import optim
from tinygrad_course.data import scenes
from tinygrad_course.models.albef import ALBEF
from tinygrad_course.models.clip import CLIP, TransformerTextEncoder, ViTImageEncoder, clip_loss
from tinygrad_course.models.fusion import SceneTokenizer
from tinygrad_course.optim.lr_scheduler import CosineAnnealingLR

MAX_WORDS = 10  # "a small green triangle left of a large red circle"
IMAGE_SIZE, PATCH_SIZE = 24, 4


def make_tokenizer():
    return SceneTokenizer(scenes.scene_vocabulary(), MAX_WORDS)


def make_data(quick, noise_rate=0.0, seed=0):
    """The training scenes, their token ids (a ``noise_rate`` fraction replaced by another
    scene's caption), and the two swap tests (seen and held-out colour + shape pairs)."""
    tokenizer = make_tokenizer()
    n_train, n_test = (600, 120) if quick else (8000, 1000)
    train = scenes.make_scenes(n_train, split="train", image_size=IMAGE_SIZE, seed=seed)
    rng = np.random.default_rng(seed + 100)
    wrong = np.flatnonzero(rng.random(n_train) < noise_rate)
    source = np.arange(n_train)  # image i is captioned with scene source[i]'s caption
    source[wrong] = rng.permutation(wrong)  # shuffled among the wrong ones
    return {"tokenizer": tokenizer, "train": train, "source": source,
            "ids": tokenizer([train["captions"][j] for j in source]), "noisy": wrong,
            "seen": scenes.make_swap_test(n_test, "train", IMAGE_SIZE, seed=seed + 1),
            "held_out": scenes.make_swap_test(n_test, "held_out", IMAGE_SIZE, seed=seed + 2)}


def build_clip(tokenizer, width=48, layers=1, seed=0):
    """The tiny CLIP of models/clip.py with a ViT image encoder, as wide and deep as the
    fusion models' unimodal encoders."""
    return CLIP(ViTImageEncoder(IMAGE_SIZE, PATCH_SIZE, 3, width=width, heads=4, layers=layers,
                                seed=seed),
                TransformerTextEncoder(len(tokenizer), MAX_WORDS + 1, width=width, heads=4,
                                       layers=layers, seed=seed + 1),
                embed_dim=32, seed=seed + 2)


def build_albef(tokenizer, width=48, layers=1, fusion_layers=2, seed=0):
    """ALBEF with ``layers`` image and text layers (as CLIP's) and ``fusion_layers``
    cross-attention layers: with one, the fused [CLS] cannot read what the words found in
    the image (it attends to the words before they attend to the image), so two."""
    return ALBEF(len(tokenizer), MAX_WORDS + 1, IMAGE_SIZE, PATCH_SIZE, width=width, heads=4,
                 image_layers=layers, text_layers=layers, fusion_layers=fusion_layers,
                 embed_dim=32, seed=seed)


def subset(scene_dict, index):
    """The scenes at ``index`` (an int array) of a make_scenes dict."""
    return {key: (value[index] if isinstance(value, np.ndarray) else [value[i] for i in index])
            for key, value in scene_dict.items()}


def batch_positives(data, batch):
    """(B, B) bool: the caption of j is true of image i (as far as the data knows: a caption
    swapped in as noise counts as what it says), so that it is never drawn as a negative."""
    train = data["train"]
    return scenes.caption_matches(subset(train, batch), subset(train, data["source"][batch]))


def clip_loss_of(data):
    images, ids = data["train"]["images"], data["ids"]

    def loss_of(model, batch, rng):
        return clip_loss(model(tg.tensor(images[batch]), tg.tensor(ids[batch])))
    return loss_of


def swap_negative_ids(data):
    """Token ids of both swaps of every training caption, {"relation": (N, T), "attribute":
    (N, T)}: the caption of image i (scene source[i]'s) with its two objects, or its two
    colours, exchanged; the same words, false of image i (data/scenes.swapped_caption)."""
    described = subset(data["train"], data["source"])
    return {kind: data["tokenizer"]([scenes.swapped_caption(f, s, r, kind, z) for f, s, r, z in
                                     zip(described["first"], described["second"],
                                         described["relation"], described["with_sizes"])])
            for kind in scenes.SWAP_KINDS}


def fusion_loss_of(data, swap_negatives=False, **options):
    """loss_of for a model with ``losses`` (ALBEF, ViLT, VLMo): the sum of its objectives, the
    batch's true pairs excluded from the negatives; options go to model.losses.
    swap_negatives: also give ALBEF's ITM one generated swap of each caption (relation or
    attribute, drawn per pair) as a negative: ``structured_negatives`` of ALBEF.losses."""
    images, ids, tokenizer = data["train"]["images"], data["ids"], data["tokenizer"]
    swapped = swap_negative_ids(data) if swap_negatives else None

    def loss_of(model, batch, rng):
        if swapped is not None:
            relation = rng.random(len(batch)) < 0.5
            options["structured_negatives"] = np.where(relation[:, None],
                                                       swapped["relation"][batch],
                                                       swapped["attribute"][batch])
        return model.losses(images[batch], ids[batch], rng, tokenizer.mask_id,
                            special_ids=(0, tokenizer.cls_id),
                            positives=batch_positives(data, batch), **options)["loss"]
    return loss_of


def paired_batches(data):
    """A batch sampler that draws scenes two by two with the same two objects (in any
    arrangement), so that a batch holds the confusable captions that in-batch negatives need:
    with 65 object pairs, a random batch of 32 rarely holds two scenes of the same pair."""
    train = data["train"]
    keys = [tuple(sorted([a[:2], b[:2]])) for a, b in zip(train["first"], train["second"])]
    groups = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    groups = [np.array(g) for g in groups.values() if len(g) >= 2]

    def sample(rng, batch_size):
        chosen = rng.choice(len(groups), batch_size // 2, replace=False)
        return np.concatenate([rng.choice(groups[g], 2, replace=False) for g in chosen])
    return sample


def random_batches(n):
    return lambda rng, batch_size: rng.choice(n, batch_size, replace=False)


def train(model, loss_of, n, steps, batch_size=32, lr=1e-3, seed=0, after_step=None,
          sampler=None):
    """AdamW with a cosine schedule on minibatches of indices into n training pairs (drawn by
    sampler(rng, batch_size), default uniformly); loss_of(model, batch, rng) returns the loss
    tensor; after_step() runs after each update (a momentum teacher's EMA). Returns (losses,
    seconds per step)."""
    sampler = sampler or random_batches(n)
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = CosineAnnealingLR(optimizer, T_max=steps)
    rng = np.random.default_rng(seed)
    losses = []
    start = time.perf_counter()
    for step in range(steps):
        _progress.epoch(step + 1, steps, "step")
        batch = sampler(rng, batch_size)
        loss = loss_of(model, batch, rng)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if after_step is not None:
            after_step()
        losses.append(loss.item())
    return losses, (time.perf_counter() - start) / steps


def clip_pair_score(model):
    def score(images, ids):
        with tg.no_grad():
            u = model.encode_image(tg.tensor(images)).numpy()
            w = model.encode_text(tg.tensor(ids)).numpy()
        return (u * w).sum(axis=1)
    return score


def clip_embed(model):
    def embed(images, ids):
        with tg.no_grad():
            return (model.encode_image(tg.tensor(images)).numpy(),
                    model.encode_text(tg.tensor(ids)).numpy())
    return embed


def dual_pair_score(embed):
    """The dot-product score of a dual encoder, from its embed function."""
    def score(images, ids):
        u, w = embed(images, ids)
        return (u * w).sum(axis=1)
    return score


def swap_test(pair_score, test, tokenizer, chunk=250):
    """Accuracy of picking the true caption over the swapped one (same words), with its 95%
    Wilson interval, overall and per kind of swap."""
    true_ids, swapped_ids = tokenizer(test["captions"]), tokenizer(test["swapped"])
    correct = []
    for start in range(0, len(true_ids), chunk):
        part = slice(start, start + chunk)
        images = test["images"][part]
        correct.append(pair_score(images, true_ids[part]) > pair_score(images, swapped_ids[part]))
    correct = np.concatenate(correct)
    kinds = np.array(test["kind"])
    result = {"accuracy": float(correct.mean()), "n": int(correct.size),
              "ci": scenes.wilson_interval(int(correct.sum()), correct.size)}
    for kind in scenes.SWAP_KINDS:
        result[kind] = float(correct[kinds == kind].mean())
    return result


def retrieval(embed, test, tokenizer, n=200, rerank=None, top=16):
    """Recall@1/5 among the first n images (all if fewer) and their n captions, both
    directions, a caption counted as a hit whenever it truly describes the image
    (scenes.caption_matches).
    rerank(images, ids) -> scores: re-order each image's ``top`` captions by this score (ALBEF's
    ITM re-ranking of the ITC shortlist)."""
    n = min(n, len(test["captions"]))
    subset = {key: value[:n] for key, value in test.items()}
    ids = tokenizer(subset["captions"])
    u, w = embed(subset["images"], ids)
    similarity = u @ w.T
    matches = scenes.caption_matches(subset)
    result = {"i2t": scenes.recall_with_matches(similarity, matches),
              "t2i": scenes.recall_with_matches(similarity.T, matches.T), "n": n}
    if rerank is not None:
        shortlist = np.argsort(-similarity, axis=1)[:, :top]              # (n, top)
        rows = np.repeat(np.arange(n), top)
        scores = rerank(subset["images"][rows], ids[shortlist.reshape(-1)]).reshape(n, top)
        reranked = np.full_like(similarity, -np.inf)
        # shortlisted captions get their fusion score, above everything left out
        reranked[rows, shortlist.reshape(-1)] = scores.reshape(-1) - scores.min() + 1
        result["i2t_rerank"] = scenes.recall_with_matches(reranked, matches)
    return result


def format_swap(name, result):
    low, high = result["ci"]
    return (f"  {name:<24} {result['accuracy']:6.1%}  [{low:.1%}, {high:.1%}]  "
            f"(relation {result['relation']:.1%}, attribute {result['attribute']:.1%}; "
            f"n = {result['n']})")


def compare_swap(name_a, a, name_b, b):
    """One sentence on two swap_test results: which is higher, and whether their 95% Wilson
    intervals are disjoint (a difference shown) or overlap (none shown at this n)."""
    (low_a, high_a), (low_b, high_b) = a["ci"], b["ci"]
    disjoint = high_b < low_a or high_a < low_b
    order = "above" if a["accuracy"] > b["accuracy"] else "below"
    return (f"{name_a} {a['accuracy']:.1%} vs {name_b} {b['accuracy']:.1%} on {a['n']} images: "
            + (f"{name_a} is {order} {name_b} (the 95% intervals are disjoint)" if disjoint else
               "the 95% intervals overlap, no difference shown"))


def format_retrieval(name, result):
    line = (f"  {name:<24} image->text R@1 {result['i2t'][1]:6.1%}  R@5 {result['i2t'][5]:6.1%}"
            f"   text->image R@1 {result['t2i'][1]:6.1%}  R@5 {result['t2i'][5]:6.1%}")
    if "i2t_rerank" in result:
        line += (f"\n  {name + ' + ITM rerank':<24} image->text R@1 "
                 f"{result['i2t_rerank'][1]:6.1%}  R@5 {result['i2t_rerank'][5]:6.1%}")
    return line

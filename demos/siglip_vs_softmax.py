"""The tiny CLIP trained with the softmax (InfoNCE) loss and with SigLIP's sigmoid loss, at batch
sizes 8, 32 and 128.

The softmax loss asks, for each picture, "which of the N captions in this batch is mine?": its
normaliser is a sum over the whole batch row, so the task (and the gradient) depends on how
many negatives the batch holds. The sigmoid loss (models/siglip.py) asks, for every pair
separately, "do these two match?": no normaliser, each term needs one picture and one caption.
The lecture's claim is that this makes it less dependent on a large batch. At this tiny
scale the recorded full run (demos/RESULTS.md, figure siglip_vs_softmax.png) does not bear
it out: from batch 128 down to 8 the sigmoid loss loses more than the softmax loss on
zero-shot accuracy over unseen pairs and on image->text recall, as much on text->image.

Same data, model and recipe as demos/clip_shapes.py (its build() and evaluation helpers, held-
out set 2: a red triangle, a green cross, a blue circle, a yellow square, a purple triangle are
never seen in training), AdamW lr 3e-3 with a cosine schedule. Every run takes the SAME NUMBER
OF STEPS (full 1500, quick 30), so a larger batch also sees more pairs; the comparison is
softmax vs sigmoid at each batch size. Measured for each run:

  - zero-shot accuracy over all 20 colour + shape classes (template ensemble) on pictures of
    the unseen pairs and of seen pairs (chance 5%);
  - retrieval recall@1 of the unseen pairs' pictures among all 200 distinct captions
    (image->text) and the reverse (text->image); chance 0.5%;
  - the learned temperature and bias of the sigmoid runs.

    OPENBLAS_NUM_THREADS=1 python -m demos.siglip_vs_softmax            full run (minutes)
    python -m demos.siglip_vs_softmax --quick                          seconds
"""

import argparse
import time

import numpy as np

from demos import _plotting, _progress, clip_shapes
from tinygrad_course.data import shapes
from tinygrad_course.models.clip import CaptionTokenizer
from tinygrad_course.models.siglip import SigLIP, train_contrastive

BATCH_SIZES = (8, 32, 128)
LOSSES = ("softmax", "sigmoid")


def run(loss, batch_size, args, tokenizer, train_set, ids, held, seen, ensemble):
    """Train one model with ``loss`` at ``batch_size`` and measure it (module docstring)."""
    model = clip_shapes.build(tokenizer, train_set["images"].shape[1:], seed=args.seed)
    if loss == "sigmoid":
        model = SigLIP(model)
    start = time.perf_counter()
    losses = train_contrastive(model, train_set["images"], ids, args.steps, batch_size, args.lr,
                               seed=args.seed)
    seconds = time.perf_counter() - start
    unseen = clip_shapes.zero_shot_breakdown(model, tokenizer, held, ensemble, shapes.HELD_OUT)
    seen_part = clip_shapes.zero_shot_breakdown(model, tokenizer, seen, ensemble,
                                                shapes.HELD_OUT)
    image_to_text, text_to_image, _, candidates = clip_shapes.held_out_retrieval(
        model, tokenizer, seed=3)
    result = {"zero_shot_unseen": unseen["accuracy"], "zero_shot_seen": seen_part["accuracy"],
              "i2t_recall@1": image_to_text[1], "t2i_recall@1": text_to_image[1],
              "first_loss": losses[0], "final_loss": float(np.mean(losses[-20:])),
              "train_seconds": seconds}
    if loss == "sigmoid":
        result["temperature"] = float(np.exp(model.log_temperature.item()))
        result["bias"] = model.bias.item()
    return result, candidates


def plot(results):
    """Save each measure against the batch size, one line per loss (matplotlib installed)."""
    plt = _plotting.pyplot()
    if plt is None:
        return None
    measures = (("zero_shot_unseen", "zero-shot, unseen pairs"),
                ("zero_shot_seen", "zero-shot, seen pairs"),
                ("i2t_recall@1", "recall@1 image->text"), ("t2i_recall@1", "recall@1 text->image"))
    fig, axes = plt.subplots(1, len(measures), figsize=(14, 3.6), sharey=True)
    for ax, (key, title) in zip(axes, measures):
        for loss, colour in zip(LOSSES, ("tab:blue", "tab:orange")):
            ax.plot(BATCH_SIZES, [results[f"{loss}_{b}"][key] for b in BATCH_SIZES], "o-",
                    color=colour, label=loss)
        chance = results["chance"] if key.startswith("zero") else results["retrieval_chance@1"]
        ax.axhline(chance, color="grey", linestyle=":", label="chance")
        ax.set(xscale="log", xticks=BATCH_SIZES, xticklabels=[str(b) for b in BATCH_SIZES],
               xlabel=f"batch size ({results['steps']} steps each)", title=title, ylim=(0, 1))
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="upper left")
    return _plotting.save(fig, "siglip_vs_softmax")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train_pairs, test_pairs = (1000, 300) if args.quick else (6000, 1000)
    args.steps, args.lr = (30 if args.quick else 1500), 3e-3

    tokenizer = CaptionTokenizer(shapes.caption_vocabulary())
    train_set = shapes.make_shapes(train_pairs, split="train", seed=10 * args.seed)
    ids = tokenizer(train_set["captions"], clip_shapes.MAX_LENGTH)
    held = shapes.make_shapes(test_pairs, split="held_out", seed=10 * args.seed + 1)
    seen = shapes.make_shapes(test_pairs, split="train", seed=10 * args.seed + 2)
    ensemble = [[shapes.caption(c, s, z, p) for z in (None,) + shapes.SIZES
                 for p in (None,) + shapes.POSITIONS] for c, s in shapes.ALL_COMBINATIONS]

    results = {"steps": args.steps, "batch_sizes": list(BATCH_SIZES),
               "chance": 1 / len(shapes.ALL_COMBINATIONS)}
    print(f"{args.steps} steps per run (same steps at every batch size), "
          f"{train_pairs} training pairs; zero-shot chance {results['chance']:.0%}")
    print(f"{'loss':8s} {'batch':>5s} {'zero-shot unseen':>16s} {'seen':>6s} {'i2t R@1':>8s} "
          f"{'t2i R@1':>8s} {'final loss':>10s} {'seconds':>8s}")
    done = 0
    for batch_size in BATCH_SIZES:
        for loss in LOSSES:
            done += 1
            _progress.epoch(done, len(BATCH_SIZES) * len(LOSSES), "run")
            result, candidates = run(loss, batch_size, args, tokenizer, train_set, ids, held,
                                     seen, ensemble)
            results[f"{loss}_{batch_size}"] = result
            extra = (f"  t={result['temperature']:.1f} b={result['bias']:.1f}"
                     if loss == "sigmoid" else "")
            print(f"{loss:8s} {batch_size:5d} {result['zero_shot_unseen']:16.1%} "
                  f"{result['zero_shot_seen']:6.1%} {result['i2t_recall@1']:8.1%} "
                  f"{result['t2i_recall@1']:8.1%} {result['final_loss']:10.3f} "
                  f"{result['train_seconds']:8.1f}{extra}")
    results["retrieval_chance@1"] = 1 / candidates
    for loss in LOSSES:  # how much each loss loses going from batch 128 to batch 8
        results[f"{loss}_drop_8_vs_128"] = {
            key: results[f"{loss}_128"][key] - results[f"{loss}_8"][key]
            for key in ("zero_shot_unseen", "zero_shot_seen", "i2t_recall@1", "t2i_recall@1")}
    print("drop from batch 128 to batch 8 (points):")
    for loss in LOSSES:
        drop = results[f"{loss}_drop_8_vs_128"]
        print(f"  {loss:8s} " + "  ".join(f"{key} {value:+.1%}" for key, value in drop.items()))
    plot(results)
    return results


if __name__ == "__main__":
    main()

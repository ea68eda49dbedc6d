"""CoCa: how much captioning costs or buys the contrastive model, and what one model does both.

Data (tinygrad_course/data/scenes.py, the relational captions of the fusion demos): 24x24
scenes of two coloured shapes side by side or one above the other, captioned "a red circle
left of a blue square" (sizes named in half the captions). Held-out colour + shape pairs
never appear in training; every held-out test scene has one.

Model (models/coca.py, width 48): a ViT, a causal text transformer cut in two (1 unimodal
layer whose last token, [cls], gives the text embedding; 1 multimodal layer with
cross-attention to 8 attentional-pooled image tokens), trained on the same batches with

    L = lambda_con L_con + lambda_cap L_cap,   lambda_con = 1, lambda_cap in {0, 0.5, 1, 2}

lambda_cap = 0 is CLIP (a causal text tower); its captioner is never trained.

Measured per lambda_cap, on held-out combinations (and seen ones for comparison):
  - zero-shot accuracy: each image against 480 class captions (every pair of objects, left
    of / above), right when the best-scoring one is true (chance 1/480); and how often the
    best one names the two right objects (in any arrangement);
  - captions (greedy decoding): correct (true of the image; the exact match against every
    true caption), reference match (word for word the scene's own caption), and token
    accuracy under teacher forcing.

    python -m demos.coca_tradeoff            full run (a few minutes)
    python -m demos.coca_tradeoff --quick    seconds
"""

import argparse
import time

from demos import _captioning as cap
from demos import _plotting
from demos import _vision_language as vl
from tinygrad_course.data import scenes
from tinygrad_course.models.coca import CoCa

LAMBDAS = (0.0, 0.5, 1.0, 2.0)


def build_coca(vocabulary, seed=0):
    return CoCa(vocabulary, image_size=vl.IMAGE_SIZE, patch_size=vl.PATCH_SIZE, width=48,
                heads=4, image_layers=1, text_layers=2, caption_queries=8, embed_dim=32,
                seed=seed)


def evaluate(model, test, vocabulary):
    ids = vocabulary(test["captions"])
    zero_shot = cap.zero_shot(model.embed, test, vocabulary)
    captions = model.caption(test["images"])
    scores, _ = cap.caption_scores(captions, test)
    accuracy = cap.token_accuracy(lambda x, i: model(x, i)["logits"], test["images"], ids)
    return {"zero_shot": zero_shot["accuracy"], "zero_shot_objects": zero_shot["objects"],
            "caption_correct": scores["correct"], "reference_match": scores["reference_match"],
            "token_accuracy": accuracy, "example": captions[0]}


def plot(results, lambdas):
    plt = _plotting.pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = range(len(lambdas))
    for ax, split in zip(axes, ("held_out", "seen")):
        runs = [results[f"cap_{lam:g}"][split] for lam in lambdas]
        for key, label in (("zero_shot", "zero-shot accuracy (480 classes)"),
                           ("zero_shot_objects", "zero-shot: right two objects"),
                           ("caption_correct", "greedy caption correct"),
                           ("token_accuracy", "next-token accuracy")):
            ax.plot(x, [r[key] for r in runs], "o-", label=label)
        ax.set_xticks(list(x), [f"{lam:g}" + (" (CLIP)" if lam == 0 else "")
                                for lam in lambdas])
        ax.set_xlabel("lambda_cap (lambda_con = 1)")
        ax.set_ylim(0, 1)
        ax.set_title(f"{split.replace('_', '-')} colour+shape pairs")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction")
    axes[1].legend(fontsize=8, loc="lower right")
    fig.suptitle("CoCa on relational scenes: one model, contrastive + captioning")
    return _plotting.save(fig, "coca_tradeoff")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model")
    args = parser.parse_args(argv)
    steps = args.steps or (40 if args.quick else 2000)
    n_train, n_test = (600, 60) if args.quick else (8000, 500)
    vocabulary = cap.make_vocabulary()
    train = scenes.make_scenes(n_train, split="train", image_size=vl.IMAGE_SIZE, seed=0)
    tests = {"held_out": scenes.make_scenes(n_test, "held_out", vl.IMAGE_SIZE, seed=2),
             "seen": scenes.make_scenes(n_test, "train", vl.IMAGE_SIZE, seed=1)}
    images, ids = train["images"], vocabulary(train["captions"])

    results = {"steps": steps, "train": n_train, "test": n_test, "lambdas": list(LAMBDAS),
               "zero_shot_classes": len(cap.zero_shot_classes()["captions"])}
    print(f"CoCa, {steps} steps at batch 32 on {n_train} scenes, lambda_con = 1; tested on "
          f"{n_test} scenes per split ({results['zero_shot_classes']} zero-shot classes, "
          f"chance {1 / results['zero_shot_classes']:.2%})")
    print(f"  {'lambda_cap':<12} {'split':<9} {'zero-shot':>9} {'objects':>8} "
          f"{'caption ok':>10} {'ref match':>9} {'token acc':>9} {'ms/step':>8}")
    for lam in LAMBDAS:
        model = build_coca(vocabulary)

        def loss_of(m, batch, rng, lam=lam):
            return m.losses(images[batch], ids[batch], lambda_con=1.0, lambda_cap=lam)["loss"]
        start = time.perf_counter()
        losses, seconds = vl.train(model, loss_of, n_train, steps)
        run = {"ms_per_step": seconds * 1e3, "final_loss": sum(losses[-20:]) / 20,
               "train_seconds": time.perf_counter() - start}
        for split, test in tests.items():
            run[split] = evaluate(model, test, vocabulary)
            r = run[split]
            print(f"  {lam:<12g} {split:<9} {r['zero_shot']:9.1%} "
                  f"{r['zero_shot_objects']:8.1%} {r['caption_correct']:10.1%} "
                  f"{r['reference_match']:9.1%} {r['token_accuracy']:9.1%} "
                  f"{run['ms_per_step']:8.0f}")
        results[f"cap_{lam:g}"] = run
    held = {lam: results[f"cap_{lam:g}"]["held_out"] for lam in LAMBDAS}
    best = max(LAMBDAS[1:], key=lambda lam: held[lam]["zero_shot"])
    results["clip_zero_shot"] = held[0.0]["zero_shot"]
    results["best_coca_lambda"] = best
    results["best_coca_zero_shot"] = held[best]["zero_shot"]
    print(f"held-out zero-shot: CLIP (lambda_cap 0) {held[0.0]['zero_shot']:.1%}, best CoCa "
          f"(lambda_cap {best:g}) {held[best]['zero_shot']:.1%}; example caption "
          f"(lambda_cap 2, held-out image 0): {held[2.0]['example']!r} for "
          f"{tests['held_out']['captions'][0]!r}")
    path = plot(results, LAMBDAS)
    if path:
        print(f"figure: {path}")
    return results


if __name__ == "__main__":
    main()

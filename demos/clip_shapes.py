"""A tiny CLIP learns to match pictures and captions, and classifies combinations it never saw.

Data (tinygrad_course/data/shapes.py): 16x16 pictures of a coloured shape with captions like
"a small red circle at the top left". Five colour + shape pairs, one per colour, never appear
in training: held-out set 2 (the default) is a red triangle, a green cross, a blue circle, a
yellow square, a purple triangle; sets 0, 1 and 3 pair each colour with another shape
(shapes.held_out_pairs). Full mode trains three models, seed k on held-out set (k + 2) mod 4
(sets 2, 3, 0), and reports the mean and the range over the three.

Model (tinygrad_course/models/clip.py): an MLP image encoder (or the ViT with
--image-encoder vit), a 2-layer pre-LN transformer
text encoder, projections to a 64-d joint space, L2 normalisation, a learned temperature,
the symmetric InfoNCE loss; AdamW.

Measured, on held-out pictures of the five unseen pairs:
  - zero-shot classification into all 20 colour + shape classes (chance 5%), with one prompt
    per class ("a red triangle") and with a template ensemble (the mean text embedding of
    every size/position phrasing of the class);
  - what that number hides, with the ensemble: the colour alone and the shape alone are
    right how often, how often pictures of seen pairs are classified right, and the 2 x 2
    confusion of seen vs unseen pairs: a picture of an unseen pair (a red triangle) is
    classified as a seen pair (a red square, a green triangle) how often, and the reverse;
  - retrieval recall@1/5 of the unseen pairs' pictures and captions among all 200 distinct
    full captions (and one picture each), image->text and text->image;
  - the same zero-shot recipe on scikit-learn's digits ("a photo of the digit seven") on
    held-out digits (chance 10%), when scikit-learn is installed.
Retrieval, digits and the checkpoint check use the first model only. The model is saved and
loaded back, and the reloaded model must give the same similarities.

    python -m demos.clip_shapes            full run (a few minutes)
    python -m demos.clip_shapes --quick    seconds
"""

import argparse
import os
import tempfile
import time

import numpy as np

import tinygrad_course as tg
from demos import _progress
from tinygrad_course import checkpoint, optim
from tinygrad_course.data import shapes
from tinygrad_course.models.clip import (
    CLIP,
    CaptionTokenizer,
    MLPImageEncoder,
    TransformerTextEncoder,
    ViTImageEncoder,
    clip_loss,
    recall_at_k,
    zero_shot_classifier,
)
from tinygrad_course.optim.lr_scheduler import CosineAnnealingLR

MAX_LENGTH = 9  # "a small red circle at the top left" is 8 words


def build(tokenizer, image_shape, seed=0, image_encoder="mlp"):
    if image_encoder == "vit":
        patch = 4 if image_shape[-1] % 4 == 0 else 2
        encoder = ViTImageEncoder(image_shape[-1], patch, image_shape[0], width=64, seed=seed)
    else:
        encoder = MLPImageEncoder(image_shape, width=128, seed=seed)
    return CLIP(encoder,
                TransformerTextEncoder(len(tokenizer), MAX_LENGTH, width=64, heads=4, layers=2,
                                       seed=seed + 1),
                embed_dim=64, seed=seed + 2)


def train(model, images, ids, steps, batch_size, lr, seed=0, log_every=0):
    """AdamW on random minibatches of (image, caption) pairs; a cosine lr schedule."""
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = CosineAnnealingLR(optimizer, T_max=steps)
    rng = np.random.default_rng(seed)
    losses = []
    for step in range(steps):
        batch = rng.choice(len(images), batch_size, replace=False)
        loss = clip_loss(model(tg.tensor(images[batch]), tg.tensor(ids[batch])))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if log_every and (step + 1) % log_every == 0:
            print(f"  step {step + 1:5d}  loss {np.mean(losses[-log_every:]):.3f}")
    return losses


def embed_images(model, images):
    with tg.no_grad():
        return model.encode_image(tg.tensor(images)).numpy()


def embed_texts(model, tokenizer, captions):
    with tg.no_grad():
        return model.encode_text(tokenizer(captions, MAX_LENGTH)).numpy()


def zero_shot_accuracy(model, tokenizer, images, labels, class_prompts):
    with tg.no_grad():
        classes = zero_shot_classifier(model, tokenizer, class_prompts, MAX_LENGTH)
    predictions = (embed_images(model, images) @ classes.T).argmax(axis=1)
    return float((predictions == labels).mean())


def zero_shot_breakdown(model, tokenizer, data, class_prompts, held_out):
    """Zero-shot predictions of ``data``'s pictures over all 20 classes, broken down.

    Returns the accuracy of the full class, of its colour alone and of its shape alone, and
    the share of pictures predicted as an unseen (held-out) pair."""
    with tg.no_grad():
        classes = zero_shot_classifier(model, tokenizer, class_prompts, MAX_LENGTH)
    predicted = (embed_images(model, data["images"]) @ classes.T).argmax(axis=1)
    pairs = [shapes.ALL_COMBINATIONS[k] for k in predicted]
    return {"accuracy": float((predicted == data["combination"]).mean()),
            "colour": float(np.mean([p[0] == c for p, c in zip(pairs, data["colour"])])),
            "shape": float(np.mean([p[1] == t for p, t in zip(pairs, data["shape"])])),
            "predicted_unseen": float(np.mean([p in held_out for p in pairs]))}


def class_similarity(model, tokenizer, class_prompts, seed):
    """(20, 20) cosine similarity: the mean unit image embedding of each class's pictures (one
    per size and position) against each class's ensemble text embedding."""
    rows = []
    for colour, kind in shapes.ALL_COMBINATIONS:
        layouts = [(z, p) for z in shapes.SIZES for p in shapes.POSITIONS]
        images = shapes.render([colour] * len(layouts), [kind] * len(layouts),
                               [z for z, _ in layouts], [p for _, p in layouts], rng=seed)
        mean = embed_images(model, images).mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    with tg.no_grad():
        classes = zero_shot_classifier(model, tokenizer, class_prompts, MAX_LENGTH)
    return np.stack(rows) @ classes.T


def held_out_retrieval(model, tokenizer, seed, held_out=shapes.HELD_OUT):
    """Recall@1/5 for the unseen pairs among all 200 distinct full captions (and pictures).

    One picture per full caption (20 colour+shape pairs x 2 sizes x 5 positions). Queries are
    the pictures (image->text) and the captions (text->image) of the unseen pairs; the
    candidates are all 200, seen pairs included. Returns the two recalls and the similarity
    matrix of the unseen pairs.
    """
    pairs = [(c, s, z, p) for c, s in shapes.ALL_COMBINATIONS for z in shapes.SIZES
             for p in shapes.POSITIONS]
    colours, kinds, sizes, positions = (list(column) for column in zip(*pairs))
    images = shapes.render(colours, kinds, sizes, positions, rng=seed)
    captions = [shapes.caption(*pair) for pair in pairs]
    similarity = embed_images(model, images) @ embed_texts(model, tokenizer, captions).T
    unseen = np.array([(c, s) in held_out for c, s, _, _ in pairs])
    image_to_text = recall_at_k(similarity[unseen], targets=np.flatnonzero(unseen))
    text_to_image = recall_at_k(similarity.T[unseen], targets=np.flatnonzero(unseen))
    return image_to_text, text_to_image, similarity[np.ix_(unseen, unseen)], len(pairs)


def shapes_experiment(args, seed, held_out, measure_all):
    """Train one CLIP (``seed``) without the pairs ``held_out``, and measure it.

    With ``measure_all``, also retrieval and the save/load check (the first model only)."""
    tokenizer = CaptionTokenizer(shapes.caption_vocabulary())
    train_set = shapes.make_shapes(args.train_pairs, split="train", seed=10 * seed,
                                   held_out=held_out)
    ids = tokenizer(train_set["captions"], MAX_LENGTH)
    model = build(tokenizer, train_set["images"].shape[1:], seed=100 * seed,
                  image_encoder=args.image_encoder)
    start = time.perf_counter()
    losses = train(model, train_set["images"], ids, args.steps, args.batch_size, args.lr,
                   seed=seed, log_every=0 if args.quick else 500)
    seconds = time.perf_counter() - start

    held = shapes.make_shapes(args.test_pairs, split="held_out", seed=10 * seed + 1,
                              held_out=held_out)
    seen = shapes.make_shapes(args.test_pairs, split="train", seed=10 * seed + 2,
                              held_out=held_out)
    single = [[f"a {c} {s}"] for c, s in shapes.ALL_COMBINATIONS]
    ensemble = [[shapes.caption(c, s, z, p) for z in (None,) + shapes.SIZES
                 for p in (None,) + shapes.POSITIONS] for c, s in shapes.ALL_COMBINATIONS]
    unseen_single = zero_shot_breakdown(model, tokenizer, held, single, held_out)
    unseen = zero_shot_breakdown(model, tokenizer, held, ensemble, held_out)
    seen_part = zero_shot_breakdown(model, tokenizer, seen, ensemble, held_out)
    results = {
        "train_seconds": seconds,
        "final_loss": float(np.mean(losses[-20:])),
        "zero_shot_unseen": unseen_single["accuracy"],
        "zero_shot_unseen_ensemble": unseen["accuracy"],
        "zero_shot_seen_ensemble": seen_part["accuracy"],
        "unseen_colour_accuracy": unseen["colour"],
        "unseen_shape_accuracy": unseen["shape"],
        "seen_colour_accuracy": seen_part["colour"],
        "seen_shape_accuracy": seen_part["shape"],
        # the 2 x 2 confusion of seen vs unseen pairs (rows: true, columns: predicted)
        "unseen_predicted_as_seen": 1.0 - unseen["predicted_unseen"],
        "seen_predicted_as_unseen": seen_part["predicted_unseen"],
    }
    figure_data = {"losses": losses,
                   "similarity": class_similarity(model, tokenizer, ensemble, seed=3)}
    if not measure_all:
        return results, figure_data
    image_to_text, text_to_image, similarity, candidates = held_out_retrieval(
        model, tokenizer, seed=3, held_out=held_out)
    results.update({"i2t_recall@1": image_to_text[1], "i2t_recall@5": image_to_text[5],
                    "t2i_recall@1": text_to_image[1], "t2i_recall@5": text_to_image[5],
                    "retrieval_candidates": candidates})

    # Save, load into a fresh model, and check the reloaded model computes the same thing.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tiny_clip.npz")
        checkpoint.save(path, model, vocabulary=tokenizer.vocabulary)
        reloaded = build(tokenizer, train_set["images"].shape[1:], seed=99,
                         image_encoder=args.image_encoder)
        checkpoint.load(path, reloaded)
    _, _, similarity_again, _ = held_out_retrieval(reloaded, tokenizer, seed=3,
                                                   held_out=held_out)
    results["reload_max_difference"] = float(np.abs(similarity - similarity_again).max())
    return results, figure_data


def digits_experiment(args):
    """CLIP on digits: captions "a photo of the digit k", zero-shot on held-out digits."""
    from tinygrad_course.data import load_digits, train_test_split

    X, y = load_digits(flatten=False)
    X = X[:, None]  # (N, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=0)
    tokenizer = CaptionTokenizer(shapes.caption_vocabulary())
    ids = tokenizer(shapes.digit_captions(y_train), MAX_LENGTH)
    model = build(tokenizer, X.shape[1:], seed=10, image_encoder=args.image_encoder)
    train(model, X_train, ids, args.digit_steps, 32, args.lr, seed=1)
    prompts = [[text] for text in shapes.digit_captions(range(10))]
    return zero_shot_accuracy(model, tokenizer, X_test, y_test, prompts)


def plot(figure_data, held_out, confusion):
    """Training loss; the 20 x 20 class similarity with its rows and columns named (unseen
    pairs starred); the seen/unseen confusion of the zero-shot classifier."""
    from demos import _plotting

    plt = _plotting.pyplot()
    if plt is None:
        return None
    fig, (left, middle, right) = plt.subplots(
        1, 3, figsize=(17, 6), gridspec_kw={"width_ratios": [1, 1.6, 0.8]})
    left.plot(figure_data["losses"])
    left.set(xlabel="step", ylabel="symmetric InfoNCE loss", title="training (first model)")
    names = [f"{c} {s}" + (" *" if (c, s) in held_out else "")
             for c, s in shapes.ALL_COMBINATIONS]
    image = middle.imshow(figure_data["similarity"], cmap="viridis")
    middle.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    middle.set_yticks(range(len(names)), names, fontsize=7)
    middle.set(xlabel="class prompt (ensemble)", ylabel="pictures of the class (mean embedding)")
    middle.set_title("cosine similarity, first model\n(* = pair never seen in training)",
                     fontsize=10)
    fig.colorbar(image, ax=middle, fraction=0.046)
    right.imshow(confusion, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(confusion):
        right.text(j, i, f"{value:.0%}", ha="center", va="center",
                   color="white" if value > 0.5 else "black")
    labels = ["seen pair", "unseen pair"]
    right.set_xticks([0, 1], labels)
    right.set_yticks([0, 1], labels)
    right.set(xlabel="predicted", ylabel="picture of a")
    right.set_title("zero-shot, mean over models\n(each row sums to 1)", fontsize=10)
    fig.tight_layout()
    return _plotting.save(fig, "clip_shapes")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--image-encoder", choices=["mlp", "vit"], default="mlp",
                        help="MLP (default, fast) or the Vision Transformer of models/vit.py")
    parser.add_argument("--held-out", type=int, nargs="+", default=None, metavar="SET",
                        help="held-out sets (shapes.held_out_pairs, 0-3), one model each, "
                             "seeds 0, 1, ...; default: 2 quick, 2 3 0 full")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    args.train_pairs, args.test_pairs = (1000, 300) if args.quick else (6000, 1000)
    args.steps, args.digit_steps = (80, 60) if args.quick else (2000, 600)
    args.batch_size, args.lr = 64, 3e-3
    sets = args.held_out or ([2] if args.quick else [2, 3, 0])

    runs = []
    for seed, number in enumerate(sets):
        _progress.epoch(seed + 1, len(sets), "model")
        held_out = shapes.held_out_pairs(number)
        run, data = shapes_experiment(args, seed, held_out, measure_all=seed == 0)
        runs.append(run)
        if seed == 0:
            first, figure_data = run, data
        print(f"model {seed + 1} (seed {seed}, held-out set {number}: "
              + ", ".join(f"{c} {s}" for c, s in held_out) + f"): {args.steps} steps in "
              f"{run['train_seconds']:.1f} s, final loss {run['final_loss']:.3f}")
        print(f"  zero-shot over 20 classes, pictures of unseen pairs: "
              f"{run['zero_shot_unseen']:.1%} (one prompt), "
              f"{run['zero_shot_unseen_ensemble']:.1%} (ensemble); colour right "
              f"{run['unseen_colour_accuracy']:.1%}, shape right "
              f"{run['unseen_shape_accuracy']:.1%}, predicted as a seen pair "
              f"{run['unseen_predicted_as_seen']:.1%}")
        print(f"  pictures of seen pairs: {run['zero_shot_seen_ensemble']:.1%} (ensemble), "
              f"predicted as an unseen pair {run['seen_predicted_as_unseen']:.1%}")

    results = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]
               if key in runs[-1]}
    results.update({f"{key}_per_model": [r[key] for r in runs] for key in
                    ("zero_shot_unseen", "zero_shot_unseen_ensemble", "zero_shot_seen_ensemble",
                     "unseen_colour_accuracy", "unseen_shape_accuracy",
                     "unseen_predicted_as_seen")})
    results.update({key: first[key] for key in first if key not in results})
    results.update({"held_out_sets": sets, "models": len(runs), "steps": args.steps,
                    "chance": 1 / len(shapes.ALL_COMBINATIONS),
                    "retrieval_chance@1": 1 / first["retrieval_candidates"]})
    print(f"mean over {len(runs)} model(s): unseen pairs {results['zero_shot_unseen']:.1%} (one "
          f"prompt), {results['zero_shot_unseen_ensemble']:.1%} (ensemble), chance "
          f"{results['chance']:.0%}; colour {results['unseen_colour_accuracy']:.1%}, shape "
          f"{results['unseen_shape_accuracy']:.1%}; seen pairs "
          f"{results['zero_shot_seen_ensemble']:.1%}")
    print(f"first model, retrieval of unseen-pair pictures/captions among all "
          f"{first['retrieval_candidates']} captions/pictures (chance@1 "
          f"{results['retrieval_chance@1']:.1%}):")
    print(f"  image->text recall@1 {first['i2t_recall@1']:.1%}  recall@5 "
          f"{first['i2t_recall@5']:.1%}")
    print(f"  text->image recall@1 {first['t2i_recall@1']:.1%}  recall@5 "
          f"{first['t2i_recall@5']:.1%}")
    print(f"saved and reloaded: max similarity difference {first['reload_max_difference']:.1e}")
    try:
        results["digits_zero_shot"] = digits_experiment(args)
        print(f"digits, zero-shot from 'a photo of the digit k' on held-out images: "
              f"{results['digits_zero_shot']:.1%} (chance 10%)")
    except ImportError as err:
        print(f"digits part skipped: {err}")
    confusion = np.array([[1 - results["seen_predicted_as_unseen"],
                           results["seen_predicted_as_unseen"]],
                          [results["unseen_predicted_as_seen"],
                           1 - results["unseen_predicted_as_seen"]]])
    path = None if args.no_plot else plot(figure_data, shapes.held_out_pairs(sets[0]), confusion)
    if path:
        print(f"figure: {path}")
    return results


if __name__ == "__main__":
    main()

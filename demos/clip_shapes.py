"""A tiny CLIP learns to match pictures and captions, and classifies combinations it never saw.

Data (tinygrad_course/data/shapes.py): 16x16 pictures of a coloured shape with captions like
"a small red circle at the top left". Five colour + shape pairs (a red triangle, a green
cross, a blue circle, a yellow square, a purple triangle) never appear in training.

Model (tinygrad_course/models/clip.py): an MLP image encoder (or the ViT with
--image-encoder vit), a 2-layer pre-LN transformer
text encoder, projections to a 64-d joint space, L2 normalisation, a learned temperature,
the symmetric InfoNCE loss; AdamW.

Measured, on held-out pictures of the five unseen pairs:
  - zero-shot classification into all 20 colour + shape classes (chance 5%), with one prompt
    per class ("a red triangle") and with a template ensemble (the mean text embedding of
    every size/position phrasing of the class);
  - retrieval recall@1/5 of the unseen pairs' pictures and captions among all 200 distinct
    full captions (and one picture each), image->text and text->image;
  - the same zero-shot recipe on scikit-learn's digits ("a photo of the digit seven") on
    held-out digits (chance 10%), when scikit-learn is installed.
The model is saved and loaded back, and the reloaded model must give the same similarities.

    python -m demos.clip_shapes            full run (a few minutes)
    python -m demos.clip_shapes --quick    seconds
"""

import argparse
import os
import tempfile
import time

import numpy as np

import tinygrad_course as tg
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


def held_out_retrieval(model, tokenizer, seed):
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
    unseen = np.array([(c, s) in shapes.HELD_OUT for c, s, _, _ in pairs])
    image_to_text = recall_at_k(similarity[unseen], targets=np.flatnonzero(unseen))
    text_to_image = recall_at_k(similarity.T[unseen], targets=np.flatnonzero(unseen))
    return image_to_text, text_to_image, similarity[np.ix_(unseen, unseen)], len(pairs)


def shapes_experiment(args):
    tokenizer = CaptionTokenizer(shapes.caption_vocabulary())
    train_set = shapes.make_shapes(args.train_pairs, split="train", seed=0)
    ids = tokenizer(train_set["captions"], MAX_LENGTH)
    model = build(tokenizer, train_set["images"].shape[1:], image_encoder=args.image_encoder)
    start = time.perf_counter()
    losses = train(model, train_set["images"], ids, args.steps, args.batch_size, args.lr,
                   log_every=0 if args.quick else 200)
    seconds = time.perf_counter() - start

    held = shapes.make_shapes(args.test_pairs, split="held_out", seed=1)
    seen = shapes.make_shapes(args.test_pairs, split="train", seed=2)
    single = [[f"a {c} {s}"] for c, s in shapes.ALL_COMBINATIONS]
    ensemble = [[shapes.caption(c, s, z, p) for z in (None,) + shapes.SIZES
                 for p in (None,) + shapes.POSITIONS] for c, s in shapes.ALL_COMBINATIONS]
    results = {
        "train_seconds": seconds,
        "final_loss": float(np.mean(losses[-20:])),
        "zero_shot_unseen": zero_shot_accuracy(model, tokenizer, held["images"],
                                               held["combination"], single),
        "zero_shot_unseen_ensemble": zero_shot_accuracy(model, tokenizer, held["images"],
                                                        held["combination"], ensemble),
        "zero_shot_seen_ensemble": zero_shot_accuracy(model, tokenizer, seen["images"],
                                                      seen["combination"], ensemble),
        "chance": 1 / len(shapes.ALL_COMBINATIONS),
    }
    image_to_text, text_to_image, similarity, candidates = held_out_retrieval(model, tokenizer,
                                                                              seed=3)
    results.update({"i2t_recall@1": image_to_text[1], "i2t_recall@5": image_to_text[5],
                    "t2i_recall@1": text_to_image[1], "t2i_recall@5": text_to_image[5],
                    "retrieval_candidates": candidates, "retrieval_chance@1": 1 / candidates})

    # Save, load into a fresh model, and check the reloaded model computes the same thing.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tiny_clip.npz")
        checkpoint.save(path, model, vocabulary=tokenizer.vocabulary)
        reloaded = build(tokenizer, train_set["images"].shape[1:], seed=99,
                         image_encoder=args.image_encoder)
        checkpoint.load(path, reloaded)
    _, _, similarity_again, _ = held_out_retrieval(reloaded, tokenizer, seed=3)
    results["reload_max_difference"] = float(np.abs(similarity - similarity_again).max())
    return results, losses, similarity


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


def plot(losses, similarity):
    from demos import _plotting

    plt = _plotting.pyplot()
    if plt is None:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(losses)
    left.set(xlabel="step", ylabel="symmetric InfoNCE loss", title="training")
    image = right.imshow(similarity, cmap="viridis")
    right.set(xlabel="caption", ylabel="picture",
              title="cosine similarity, unseen colour+shape pairs")
    fig.colorbar(image, ax=right)
    return _plotting.save(fig, "clip_shapes")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--image-encoder", choices=["mlp", "vit"], default="mlp",
                        help="MLP (default, fast) or the Vision Transformer of models/vit.py")
    args = parser.parse_args(argv)
    args.train_pairs, args.test_pairs = (1000, 300) if args.quick else (6000, 1000)
    args.steps, args.digit_steps = (80, 60) if args.quick else (2000, 600)
    args.batch_size, args.lr = 64, 3e-3

    results, losses, similarity = shapes_experiment(args)
    print(f"trained {args.steps} steps in {results['train_seconds']:.1f} s, "
          f"final loss {results['final_loss']:.3f}")
    print("zero-shot accuracy over 20 colour+shape classes (chance "
          f"{results['chance']:.0%}):")
    print(f"  unseen pairs, one prompt      : {results['zero_shot_unseen']:.1%}")
    print(f"  unseen pairs, prompt ensemble : {results['zero_shot_unseen_ensemble']:.1%}")
    print(f"  seen pairs,   prompt ensemble : {results['zero_shot_seen_ensemble']:.1%}")
    print(f"retrieval of unseen-pair pictures/captions among all {results['retrieval_candidates']}"
          f" captions/pictures (chance@1 {results['retrieval_chance@1']:.1%}):")
    print(f"  image->text recall@1 {results['i2t_recall@1']:.1%}  recall@5 "
          f"{results['i2t_recall@5']:.1%}")
    print(f"  text->image recall@1 {results['t2i_recall@1']:.1%}  recall@5 "
          f"{results['t2i_recall@5']:.1%}")
    print(f"saved and reloaded: max similarity difference {results['reload_max_difference']:.1e}")
    try:
        results["digits_zero_shot"] = digits_experiment(args)
        print(f"digits, zero-shot from 'a photo of the digit k' on held-out images: "
              f"{results['digits_zero_shot']:.1%} (chance 10%)")
    except ImportError as err:
        print(f"digits part skipped: {err}")
    path = plot(losses, similarity)
    if path:
        print(f"plot: {path}")
    return results


if __name__ == "__main__":
    main()

"""Captions written by an image-grounded text decoder for held-out scenes: greedy vs beam search.

Data (tinygrad_course/data/scenes.py, the relational captions of the fusion demos): 24x24
scenes of two coloured shapes, captioned "a red circle left of a blue square" (sizes named
in half the captions). Two test sets of new scenes: one of seen colour + shape pairs, one
where every scene holds a pair never seen in training.

Model (models/caption_decoder.py, width 48): a ViT (1 layer) whose every token is read by a
2-layer decoder (causal self-attention + cross-attention to the image tokens), trained with
the next-token cross-entropy (teacher forcing). Captions are decoded from [bos] with greedy
decoding and with beam search (beam 4, models/decoding.py).

Measured on each test set, for each decoder: correct (the caption is true of the
image: the exact match against every true caption), reference match (word for word the
scene's own caption), the mean log-probability of the decoded captions (beam search's
objective), and how often the two decoders disagree; the token accuracy under teacher
forcing (the same for both). The figure shows a grid of test images (8 of seen pairs, 4 of
held-out pairs) with both captions under each (green: true of the image, red: false).

    python -m demos.caption_samples            full run (a few minutes)
    python -m demos.caption_samples --quick    seconds
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _captioning as cap
from demos import _plotting
from demos import _vision_language as vl
from tinygrad_course.data import scenes
from tinygrad_course.models.caption_decoder import Captioner

BEAM = 4


def sequence_log_prob(model, images, ids):
    """Summed log-probability of each caption (words and [eos]) given its image, (N,)."""
    with tg.no_grad():
        logits = model.decoder(ids, model.image_encoder(images)).numpy().astype(np.float64)
    logits = logits[:, :-1]
    log_p = logits - logits.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    targets = ids[:, 1:]
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    return (picked * (targets != 0)).sum(axis=1)


def measure(model, test, vocabulary):
    """Greedy and beam captions of the test scenes and their scores (module docstring)."""
    decoded = {"greedy": model.caption(test["images"], vocabulary),
               "beam": model.caption(test["images"], vocabulary, beam_size=BEAM)}
    ids = vocabulary(test["captions"])
    run = {"token_accuracy": cap.token_accuracy(
               lambda x, i: model.decoder(i, model.image_encoder(x)), test["images"], ids),
           "reference_log_prob": float(sequence_log_prob(model, test["images"], ids).mean()),
           "captions": decoded, "correct": {}}
    for name, captions in decoded.items():
        scores, run["correct"][name] = cap.caption_scores(captions, test)
        log_prob = sequence_log_prob(model, test["images"], vocabulary(captions))
        run[name] = {**scores, "log_prob": float(log_prob.mean())}
    run["disagree"] = float(np.mean([g != b for g, b in zip(decoded["greedy"],
                                                            decoded["beam"])]))
    return run


def plot(figure_rows):
    """figure_rows: (image, greedy caption, beam caption, greedy ok, beam ok, split)."""
    plt = _plotting.pyplot()
    if plt is None:
        return None
    cols = 4
    rows = (len(figure_rows) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.3 * rows))
    for ax, row in zip(np.atleast_1d(axes).reshape(-1), figure_rows):
        image, greedy, beam, greedy_ok, beam_ok, split = row
        ax.imshow(image.transpose(1, 2, 0), interpolation="nearest")
        ax.set_title("held-out pair" if split == "held_out" else "seen pairs", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        for line, (label, text, ok) in enumerate((("greedy", greedy, greedy_ok),
                                                  (f"beam {BEAM}", beam, beam_ok))):
            ax.text(0.5, -0.04 - 0.17 * line, f"{label}: {_wrap(text)}", fontsize=7,
                    ha="center", va="top", transform=ax.transAxes,
                    color="tab:green" if ok else "tab:red")
    for ax in np.atleast_1d(axes).reshape(-1)[len(figure_rows):]:
        ax.axis("off")
    fig.suptitle("New test scenes (top: seen colour + shape pairs; bottom: a never-seen pair "
                 "in each): decoded captions, green if true of the image, red if false")
    fig.subplots_adjust(hspace=0.8)
    return _plotting.save(fig, "caption_samples")


def _wrap(text, width=30):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line]) if line or lines else "(empty)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--steps", type=int, default=None, help="training steps")
    args = parser.parse_args(argv)
    steps = args.steps or (60 if args.quick else 3000)
    n_train, n_test = (600, 40) if args.quick else (8000, 400)
    vocabulary = cap.make_vocabulary()
    train = scenes.make_scenes(n_train, split="train", image_size=vl.IMAGE_SIZE, seed=0)
    tests = {"seen": scenes.make_scenes(n_test, "train", vl.IMAGE_SIZE, seed=1),
             "held_out": scenes.make_scenes(n_test, "held_out", vl.IMAGE_SIZE, seed=2)}
    images, ids = train["images"], vocabulary(train["captions"])

    model = Captioner(len(vocabulary), vocabulary.max_tokens, vl.IMAGE_SIZE, vl.PATCH_SIZE,
                      width=48, heads=4, image_layers=1, decoder_layers=2, seed=0)
    losses, seconds = vl.train(model, lambda m, batch, rng: m.loss(images[batch], ids[batch]),
                               n_train, steps)
    print(f"captioner: {steps} steps at batch 32 on {n_train} scenes, {seconds * 1e3:.0f} "
          f"ms/step, final loss {sum(losses[-20:]) / 20:.3f}")

    results = {"steps": steps, "train": n_train, "test": n_test, "beam_size": BEAM}
    figure_rows = []
    for split, test in tests.items():
        results[split] = run = measure(model, test, vocabulary)
        print(f"{split.replace('_', '-')} colour+shape pairs, {n_test} new scenes: token "
              f"accuracy (teacher forcing) {run['token_accuracy']:.1%}; the reference captions' "
              f"mean log p {run['reference_log_prob']:.3f}")
        for name in ("greedy", "beam"):
            r = run[name]
            print(f"  {name:<7} correct {r['correct']:6.1%}   reference match "
                  f"{r['reference_match']:6.1%}   mean log p(caption) {r['log_prob']:7.3f}")
        print(f"  the two decoders disagree on {run['disagree']:.1%} of the images")
        for i in range(3):
            print(f"  image {i}: truth {test['captions'][i]!r}\n           greedy "
                  f"{run['captions']['greedy'][i]!r}\n           beam   "
                  f"{run['captions']['beam'][i]!r}")
        shown = 8 if split == "seen" else 4
        figure_rows += [(test["images"][i], run["captions"]["greedy"][i],
                         run["captions"]["beam"][i], run["correct"]["greedy"][i],
                         run["correct"]["beam"][i], split) for i in range(min(shown, n_test))]
        del run["captions"], run["correct"]  # shown in the figure, not recorded
    path = plot(figure_rows)
    if path:
        print(f"figure: {path}")
    return results


if __name__ == "__main__":
    main()

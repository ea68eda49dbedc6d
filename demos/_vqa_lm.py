"""What the connector demos share: questions and answers as the LM's characters, a training
loop for the trainable part only, and answers written by the LM (greedy, one character at a
time) scored by exact match.

Text seen by the LM:

    "      what colour is the square? [image tokens] red."
     ^ prompt: left-padded with spaces  ^ inserted here    ^ the answer and a full stop,
       to one length for every question  (PrefixLM)          written by the LM

The prompts all have the same length, so the image tokens of a PrefixLM go to the same
position (insert_at) in every row; Flamingo's image enters through its cross-attention
blocks and ignores insert_at. The loss is the cross-entropy of the answer's characters and
the full stop only (the question is given, not predicted). A model answers by reading the
prompt and writing characters until a full stop (at most the longest answer + 1).
"""

import time

import numpy as np

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course import optim
from tinygrad_course.data import vqa
from tinygrad_course.models.connectors import trainable_parameters
from tinygrad_course.optim.lr_scheduler import CosineAnnealingLR

END = "."
IGNORE = -100
MAX_ANSWER = max(len(a) for answers in vqa.answer_vocabulary().values() for a in answers)


PROMPT_LENGTH = 1 + max(len(f"is the {a} left of the {b}?") for a in vqa.PLURALS
                        for b in vqa.PLURALS)  # every question fits, with the space after it


def prompts(questions):
    """Each question and a space, left-padded with spaces to PROMPT_LENGTH characters."""
    return [f"{q} ".rjust(PROMPT_LENGTH) for q in questions]


def encode_qa(vocab, questions, answers):
    """inputs (N, T) int64 and targets (N, T) for teacher forcing: targets[t] = the character
    after inputs[t] where it belongs to the answer (or the full stop), IGNORE elsewhere. The
    answer starts at position PROMPT_LENGTH; rows are right-padded with spaces after the
    full stop (ignored; causal attention keeps them out of the earlier positions)."""
    texts = [p + a + END for p, a in zip(prompts(questions), answers)]
    width = max(len(t) for t in texts) - 1
    pad = int(vocab.encode(" ")[0])
    inputs = np.full((len(texts), width), pad, dtype=np.int64)
    targets = np.full((len(texts), width), IGNORE, dtype=np.int64)
    for i, text in enumerate(texts):
        ids = vocab.encode(text)
        inputs[i, :len(ids) - 1] = ids[:-1]
        targets[i, PROMPT_LENGTH - 1:len(ids) - 1] = ids[PROMPT_LENGTH:]
    return inputs, targets


def answer_loss(model, features, inputs, targets):
    logits = model(tg.tensor(inputs), tg.tensor(features), insert_at=PROMPT_LENGTH)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tg.tensor(targets.reshape(-1)),
                           ignore_index=IGNORE)


def train(model, features, inputs, targets, steps, batch_size=32, lr=3e-3, seed=0,
          every=None, record=None):
    """AdamW (cosine schedule) on the model's trainable parameters only. record(step) runs
    every ``every`` steps (and after the last). Returns (losses, seconds)."""
    params = trainable_parameters(model)
    optimizer = optim.AdamW(params, lr=lr, weight_decay=0.0)
    schedule = CosineAnnealingLR(optimizer, T_max=steps)
    rng = np.random.default_rng(seed)
    losses = []
    start = time.perf_counter()
    for step in range(steps):
        if record is not None and every and step % every == 0:
            record(step)
        batch = rng.choice(len(inputs), batch_size, replace=False)
        loss = answer_loss(model, features[batch], inputs[batch], targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    if record is not None:
        record(steps)
    return losses, seconds


def write_answers(model, features, vocab, questions, batch=256):
    """The LM's greedy answer to each question: the characters it writes after the prompt, up
    to the full stop (or MAX_ANSWER + 1 characters)."""
    end = int(vocab.encode(END)[0])
    answers = []
    with tg.no_grad():
        model.eval()
        for first in range(0, len(questions), batch):
            rows = slice(first, first + batch)
            ids = np.stack([vocab.encode(p) for p in prompts(questions[rows])])
            written = np.empty((len(ids), 0), dtype=np.int64)
            for _ in range(MAX_ANSWER + 1):
                logits = model(tg.tensor(np.concatenate([ids, written], axis=1)),
                               tg.tensor(features[rows]), insert_at=PROMPT_LENGTH).numpy()
                written = np.concatenate([written, logits[:, -1].argmax(-1)[:, None]], axis=1)
                if (written == end).any(axis=1).all():
                    break
            answers += [vocab.decode(row).split(END)[0] for row in written]
        model.train()
    return answers


def accuracy_by_type(predicted, data):
    """Exact-match accuracy per question type and overall."""
    right = np.array([p == a for p, a in zip(predicted, data["answer"])])
    kinds = np.array(data["kind"])
    result = {kind: float(right[kinds == kind].mean()) for kind in vqa.QUESTION_TYPES
              if (kinds == kind).any()}
    result["all"] = float(right.mean())
    return result


def chance_by_type(data):
    """The best answer-blind accuracy per type: always the type's most frequent answer."""
    kinds = np.array(data["kind"])
    answers = np.array(data["answer"])
    result = {}
    for kind in vqa.QUESTION_TYPES:
        these = answers[kinds == kind]
        if these.size:
            result[kind] = float(np.unique(these, return_counts=True)[1].max() / these.size)
    return result

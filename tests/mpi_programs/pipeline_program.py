"""Per-rank program: a model cut into one stage per rank gives, with GPipe and 1F1B and m
micro-batches, the loss and parameter gradients of the unsplit model on the whole batch;
GPipe holds m micro-batches' activations, 1F1B at most p - s on stage s."""

import numpy as np
from checks import Checks

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course import nn
from tinygrad_course.distributed.pipeline import Pipeline, split_stages

checks = Checks("pipeline")
p, s = checks.size, checks.rank
rng = np.random.default_rng(0)
layers = [nn.Sequential(nn.Linear(6, 6, generator=rng, dtype="float64"), nn.Tanh())
          for _ in range(4)] + [nn.Linear(6, 3, generator=rng, dtype="float64")]
full = nn.Sequential(*layers)  # every rank builds the whole model: the reference
x = tg.tensor(rng.standard_normal((12, 6)), dtype="float64")
y = tg.tensor(rng.integers(0, 3, 12))
loss = F.cross_entropy(full(x), y)
loss.backward()
reference = {id(q): q.grad.numpy().copy() for q in full.parameters()}

stage = nn.Sequential(*split_stages(layers, p)[s])
pipeline = Pipeline(stage)
for schedule in ("gpipe", "1f1b"):
    for m in (1, 4, 6):
        full.zero_grad()
        pieces = np.split(np.arange(12), m)
        stats = pipeline.step(m, inputs=[x[idx] for idx in pieces],
                              targets=[y[idx] for idx in pieces], loss_fn=F.cross_entropy,
                              schedule=schedule)
        worst = max(float(np.max(np.abs(q.grad.numpy() - reference[id(q)])))
                    for q in stage.parameters())
        checks.true(f"{schedule}, m={m}: stage {s}'s gradients = the unsplit model's "
                    f"(max |difference| {worst:.2g})", worst < 1e-12)
        if s == p - 1:
            checks.close(f"{schedule}, m={m}: the loss", stats.loss, loss.item(), 1e-12)
        else:
            checks.true(f"{schedule}, m={m}: no loss before the last stage", stats.loss is None)
        expected_peak = m if schedule == "gpipe" else min(p - s, m)
        checks.true(f"{schedule}, m={m}: peak activations held {stats.peak_activations} = "
                    f"{expected_peak}", stats.peak_activations == expected_peak)
checks.done()

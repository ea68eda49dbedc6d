"""PyTorch-style programs (tests/torch_programs/) run with `import tinygrad_course.torch as
torch` and no other change, and their loss falls.

Each program is written as its PyTorch tutorial is (regression, MLP classifier, LSTM
language model, LSTMCell time series with L-BFGS, GRU name classifier, Transformer
encoder) and keeps its losses in a module-level list ``losses``."""

import pathlib
import re
import runpy

import pytest

PROGRAMS = pathlib.Path(__file__).parent / "torch_programs"

# program -> how far the mean of its last losses must fall below the mean of its first
FALLS_TO = {
    "regression.py": 0.2,
    "mlp_classifier.py": 0.5,
    "lstm_language_model.py": 0.6,
    "lstmcell_time_series.py": 0.5,
    "gru_name_classifier.py": 0.8,
    "transformer_encoder.py": 0.6,
}


def test_every_program_is_listed():
    assert sorted(FALLS_TO) == sorted(p.name for p in PROGRAMS.glob("*.py"))


@pytest.mark.parametrize("name", sorted(FALLS_TO))
def test_program_runs_and_its_loss_falls(name, capsys):
    source = (PROGRAMS / name).read_text()
    assert "import tinygrad_course.torch as torch" in source
    assert not re.search(r"^(import torch\b|from torch\b)", source, re.MULTILINE)
    losses = runpy.run_path(str(PROGRAMS / name), run_name="__main__")["losses"]
    k = max(1, len(losses) // 5)
    first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
    assert last < FALLS_TO[name] * first, (name, losses)

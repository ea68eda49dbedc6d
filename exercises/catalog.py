"""The list of exercises, in the order to do them, and where each one's files live.

Numbers 14-16 are kept free for exercises on features still to come (the straight-through
estimator, LoRA, distributed gradient averaging), so that the numbers here never change.
"""

import dataclasses
import importlib
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
STUBS = HERE / "_stubs"


@dataclasses.dataclass(frozen=True)
class Exercise:
    number: int
    name: str
    topic: str

    @property
    def stem(self):
        return f"ex{self.number:02d}_{self.name}"

    @property
    def filename(self):
        return self.stem + ".py"

    @property
    def stub_path(self):
        """The pristine stub, as shipped (``reset`` copies it back)."""
        return STUBS / self.filename

    def checks(self):
        """The exercise's list of Checks, from exercises/checks/<stem>.py."""
        return importlib.import_module(f"exercises.checks.{self.stem}").CHECKS

    def hints(self):
        """(title, text) of each hint, read from the stub's statement: the blocks
        ``<details><summary>Hint N: title</summary> ... </details>`` that a notebook shows
        folded, one at a time."""
        text = self.stub_path.read_text()
        found = re.findall(r"^# <details><summary>Hint \d+: (.*?)</summary>\n(.*?)^# </details>",
                           text, flags=re.S | re.M)
        return [(title, "\n".join(line[2:] for line in body.splitlines()).strip())
                for title, body in found]


EXERCISES = [
    Exercise(1, "sigmoid_tanh", "activations: the backward from the output"),
    Exercise(2, "sum_to_shape", "unbroadcasting a gradient"),
    Exercise(3, "matmul", "matmul with batches and 1-d vectors"),
    Exercise(4, "softmax_cross_entropy", "(softmax - onehot) / N; a stable forward"),
    Exercise(5, "layer_batch_norm", "LayerNorm's three terms, BatchNorm in training"),
    Exercise(6, "conv1d_maxpool", "conv1d by im2col; max-pooling with ties"),
    Exercise(7, "embedding", "scatter-add with repeated ids"),
    Exercise(8, "attention", "softmax(QK^T/sqrt(d))V by hand"),
    Exercise(9, "lstm", "an LSTM step by hand; backprop through time"),
    Exercise(10, "word2vec", "skip-gram with negative sampling"),
    Exercise(11, "own_gradcheck", "write your own gradcheck"),
    Exercise(12, "second_derivatives", "Hessian-vector products; a Newton step"),
    Exercise(13, "find_the_bug", "five ops with a planted bug each"),
]


def available():
    """The exercises whose files exist (all of EXERCISES in a complete checkout)."""
    return [e for e in EXERCISES if e.stub_path.exists()]


def find(name):
    """An exercise by name ('matmul'), number ('3', '03') or file name ('ex03_matmul.py')."""
    key = str(name).strip()
    key = key[:-3] if key.endswith(".py") else key
    for exercise in available():
        if key in (exercise.name, exercise.stem) or (key.isdigit() and int(key) == exercise.number):
            return exercise
    names = ", ".join(e.name for e in available())
    raise KeyError(f"no exercise {name!r}; the exercises are: {names}")

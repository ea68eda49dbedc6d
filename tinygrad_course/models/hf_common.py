"""What the Hugging Face loaders (hf_gpt2, hf_bert, hf_vit, hf_clip) share: reading the
weights and the config, taking tensors by name, and loading the result with every check.

Where the weights come from (``source``):
    a directory          as ``save_pretrained`` writes it: config.json and model.safetensors,
                         or model.safetensors.index.json and its shards
    a .safetensors file  with the config given separately (``config=``)
    a state dict         {name: array} of NumPy arrays or torch tensors (model.state_dict())
PyTorch's pickled ``pytorch_model.bin`` is refused: unpickling runs code from the file. The
safetensors files are read with the safetensors package (the ``interop`` extra).

A mapping takes each tensor it needs by name (a name may have spellings: the files on the
Hub use transformers' original names, transformers 5 renamed some of its modules in memory),
reshapes or transposes it into the project's layout, and gives the project's state dict to
``load_mapped``, which first lists every tensor of the source that the mapping did not take
(a sign of a different architecture) and every one it lacked, then calls load_state_dict
(names, shapes, dtypes and finiteness checked before anything is assigned).
"""

import json
import os
from collections.abc import Mapping

import numpy

from .. import safetensors_io
from ..errors import CheckpointError


def to_numpy(value):
    """A NumPy array from a NumPy array, a Tensor or a torch tensor (bfloat16 widened to
    float32: NumPy has no bfloat16)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch, without importing it
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    if hasattr(value, "numpy") and not isinstance(value, numpy.ndarray):
        return value.numpy()
    return numpy.asarray(value)


def config_dict(config, what):
    """A config as a dict: None, a dict, a path to config.json, or an object with to_dict()
    (a transformers config)."""
    if config is None or isinstance(config, Mapping):
        return dict(config or {})
    if hasattr(config, "to_dict"):
        return config.to_dict()
    if isinstance(config, (str, os.PathLike)):
        try:
            with open(config, encoding="utf-8") as file:
                loaded = json.load(file)
        except (OSError, ValueError) as err:
            raise CheckpointError(f"{what}: cannot read the config {os.fspath(config)!r} "
                                  f"({type(err).__name__}: {err})") from err
        if not isinstance(loaded, dict):
            raise CheckpointError(f"{what}: the config {os.fspath(config)!r} is not a JSON "
                                  "object")
        return loaded
    raise CheckpointError(f"{what}: config must be None, a dict, a path to config.json or a "
                          f"transformers config, got {type(config).__name__}")


def _read_directory(directory, what):
    index = os.path.join(directory, "model.safetensors.index.json")
    single = os.path.join(directory, "model.safetensors")
    if os.path.exists(single):
        files = [single]
    elif os.path.exists(index):
        with open(index, encoding="utf-8") as file:
            shards = sorted(set(json.load(file).get("weight_map", {}).values()))
        files = [os.path.join(directory, shard) for shard in shards]
    else:
        pickled = [name for name in ("pytorch_model.bin", "tf_model.h5")
                   if os.path.exists(os.path.join(directory, name))]
        raise CheckpointError(
            f"{what}: {directory!r} holds no model.safetensors"
            + (f" (only {pickled}: pickled or TensorFlow weights, which this loader does not "
               "open; download model.safetensors instead)" if pickled else ""))
    state = {}
    for path in files:
        state.update(safetensors_io.read(path, what)[0])
    return state


def read_source(source, config, what):
    """(state dict of NumPy arrays, config dict) from a directory, a file or a state dict."""
    if isinstance(source, Mapping):
        return {str(k): to_numpy(v) for k, v in source.items()}, config_dict(config, what)
    if not isinstance(source, (str, os.PathLike)):
        raise CheckpointError(f"{what}: expected a directory, a .safetensors file or a state "
                              f"dict, got {type(source).__name__}")
    path = os.fspath(source)
    if os.path.isdir(path):
        json_path = os.path.join(path, "config.json")
        if config is None and os.path.exists(json_path):
            config = json_path
        return _read_directory(path, what), config_dict(config, what)
    if not os.path.exists(path):
        raise CheckpointError(f"{what}: {path!r} does not exist")
    return safetensors_io.read(path, what)[0], config_dict(config, what)


def strip_prefix(state, prefix):
    """The entries under ``prefix`` without it, when any is there (a task model such as
    GPT2LMHeadModel keeps the bare model under "transformer."); otherwise ``state``."""
    if any(name.startswith(prefix) for name in state):
        return {(name[len(prefix):] if name.startswith(prefix) else name): value
                for name, value in state.items()}
    return state


class Source:
    """Tensors taken by name; remembers what was taken and what was missing."""

    def __init__(self, state, what):
        self.state, self.what = state, what
        self.taken, self.missing = set(), []

    def has(self, *names):
        return any(name in self.state for name in names)

    def take(self, *names):
        """The first of ``names`` present (spellings of one tensor), as float-compatible
        NumPy; records the first name as missing when none is."""
        for name in names:
            if name in self.state:
                self.taken.add(name)
                return self.state[name]
        self.missing.append(names[0])
        return None

    def take_linear(self, prefix, *spellings):
        """(weight, bias) of an nn.Linear stored as prefix.weight and prefix.bias."""
        prefixes = (prefix, *spellings)
        return (self.take(*(p + ".weight" for p in prefixes)),
                self.take(*(p + ".bias" for p in prefixes)))

    def check(self, ignore=()):
        """CheckpointError listing the missing tensors and those nobody took (apart from names
        that end with one of ``ignore``: buffers such as GPT-2's causal mask)."""
        left = sorted(name for name in self.state if name not in self.taken
                      and not any(name.endswith(suffix) for suffix in ignore))
        problems = []
        if self.missing:
            problems.append(f"missing tensors: {self.missing}")
        if left:
            problems.append(f"tensors this mapping does not use: {left}")
        if problems:
            raise CheckpointError(f"{self.what}: the weights do not match the architecture "
                                  "(nothing was loaded):\n  " + "\n  ".join(problems))


def stack_qkv(q, k, v):
    """Separate query, key and value projections -> MultiheadAttention's packed in_proj:
    weights (3E, E) = [W_q; W_k; W_v], biases (3E,)."""
    return numpy.concatenate([q, k, v], axis=0)


def load_mapped(model, source, mapped, ignore=()):
    """Check that ``source`` was used whole, then model.load_state_dict(mapped) (which checks
    names, shapes, dtypes and values before assigning anything); returns the model."""
    source.check(ignore)
    if any(value is None for value in mapped.values()):  # only after check(): it names them
        raise CheckpointError(f"{source.what}: some tensors are missing")
    model.load_state_dict(mapped)
    return model.eval()


def get(config, key, default, *aliases):
    """config[key] (or an alias, e.g. GPT-2's n_embd = hidden_size), else the default."""
    for name in (key, *aliases):
        if name in config and config[name] is not None:
            return config[name]
    return default

"""Initialising weights: where the random numbers of a fresh network come from.

Every function takes ``generator`` (a numpy.random.Generator) or ``seed``; without either it
uses the package's default generator (tinygrad_course.random: seeded with 0 at import and
reset by ``tg.manual_seed``), so a script that seeds once gets the same weights every run.

Scales (fan_in = inputs per output unit):
    uniform_(a, b)               U(a, b)
    xavier_uniform_              U(-s, s), s = gain * sqrt(6 / (fan_in + fan_out))
    kaiming_uniform_ (He)        U(-s, s), s = gain * sqrt(3 / fan_in), gain = sqrt(2) for ReLU
    PyTorch's Linear default     U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias
"""

import math

import numpy

from .. import backend, random
from ..random import manual_seed  # noqa: F401  (nn.init.manual_seed, as before)


def get_generator(seed=None, generator=None):
    """``generator``, else one seeded with ``seed``, else the package's default generator."""
    if generator is not None:
        return generator
    if seed is not None:
        return numpy.random.default_rng(seed)
    return random.default_generator()


def _fill(tensor, host_values):
    tensor.data = backend.from_numpy(host_values.astype(tensor.dtype), tensor.device)
    return tensor


def fan_in_and_out(shape):
    """(fan_in, fan_out) of a weight: Linear (out, in); Conv1d (out, in, kernel)."""
    if len(shape) < 2:
        raise ValueError(f"init: fan in/out needs a weight with >= 2 axes, got shape {shape}")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def uniform_(tensor, a=0.0, b=1.0, seed=None, generator=None):
    rng = get_generator(seed, generator)
    return _fill(tensor, rng.uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, seed=None, generator=None):
    rng = get_generator(seed, generator)
    return _fill(tensor, rng.normal(mean, std, size=tensor.shape))


def zeros_(tensor):
    return _fill(tensor, numpy.zeros(tensor.shape))


def ones_(tensor):
    return _fill(tensor, numpy.ones(tensor.shape))


def xavier_uniform_(tensor, gain=1.0, seed=None, generator=None):
    fan_in, fan_out = fan_in_and_out(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, seed, generator)


def kaiming_uniform_(tensor, gain=math.sqrt(2.0), seed=None, generator=None):
    fan_in, _ = fan_in_and_out(tensor.shape)
    bound = gain * math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -bound, bound, seed, generator)

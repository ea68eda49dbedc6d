"""The default random generator: where random numbers come from when no seed is given.

randn, rand, randint, the *_like samplers, dropout and the layers' initialisation
(nn.init) all draw from one numpy.random.Generator when they are given neither ``seed`` nor
``generator``. It starts seeded with 0, and ``manual_seed(s)`` replaces it with a fresh one
seeded with s, so

    tg.manual_seed(0)
    model = build(); x = tg.randn(4, 3)

makes a whole script repeatable without passing seeds around (as torch.manual_seed does).
An explicit ``seed=`` or ``generator=`` is used as given and leaves the default alone.
Samples are drawn on the host, so a seed gives the same numbers on every device.
"""

import numbers

import numpy

from .errors import ArgumentError

_default = numpy.random.default_rng(0)


def manual_seed(seed):
    """Replace the default generator by numpy.random.default_rng(seed); returns it."""
    global _default
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ArgumentError(f"manual_seed: seed must be a non-negative int, got "
                            f"{type(seed).__name__} {seed!r:.40}")
    _default = numpy.random.default_rng(int(seed))
    return _default


def default_generator():
    """The generator used when none is given (the one manual_seed last made)."""
    return _default


def generator_for(seed=None, generator=None, op="random"):
    """``generator`` if given, else a new one seeded with ``seed``, else the default one.
    ``seed`` may also be a Generator (used as it is)."""
    if generator is not None:
        if not isinstance(generator, numpy.random.Generator):
            raise ArgumentError(f"{op}: generator must be a numpy.random.Generator, got "
                                f"{type(generator).__name__}")
        return generator
    if seed is None:
        return _default
    if isinstance(seed, numpy.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ArgumentError(f"{op}: seed must be a non-negative int, a numpy.random.Generator "
                            f"or None, got {type(seed).__name__} {seed!r:.40}")
    return numpy.random.default_rng(seed)

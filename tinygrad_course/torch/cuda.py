"""torch.cuda: whether a GPU can be used (through CuPy; see backend.py)."""

from .. import backend


def is_available():
    return backend.cuda_available()


def manual_seed(seed):
    """One default generator serves every device here: the same as torch.manual_seed."""
    from .. import random
    random.manual_seed(seed)


manual_seed_all = manual_seed

"""Real images that ship inside a package: scikit-learn's 8x8 handwritten digits.

1,797 greyscale images of the digits 0-9 (about 180 of each), 8 x 8 pixels with values
0..16, from the UCI "Optical Recognition of Handwritten Digits" set. scikit-learn bundles
them in its wheel, so nothing is downloaded; it is part of the ``demos`` extra.
"""

import numpy

INSTALL_HINT = ("the 8x8 digits ship with scikit-learn: pip install -e '.[demos]'  "
                "(or: pip install scikit-learn)")


def load_digits(flatten=True, scale=True):
    """(X, y): X float32 (1797, 64) (or (1797, 8, 8) with flatten=False), y int64 (1797,).

    scale=True divides the pixels by 16, so they lie in [0, 1].
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as err:
        raise ImportError(f"load_digits: {INSTALL_HINT}") from err
    bunch = sklearn_load_digits()
    X = bunch.images.astype(numpy.float32)
    if scale:
        X /= 16.0
    if flatten:
        X = X.reshape(len(X), -1)
    return X, bunch.target.astype(numpy.int64)

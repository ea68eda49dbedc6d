"""Optimisers (SGD, Adam, AdamW) and learning-rate schedules (lr_scheduler)."""

from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]

"""Optimisers (SGD, Adam, AdamW) and learning-rate schedules (lr_scheduler)."""

from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import linear_scaling_rule
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", "linear_scaling_rule"]

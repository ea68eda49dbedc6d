"""Optimisers (SGD, Adam and its relatives, Adagrad/RMSprop/Adadelta, L-BFGS) and
learning-rate schedules (lr_scheduler)."""

from . import lr_scheduler
from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .lbfgs import LBFGS
from .lr_scheduler import linear_scaling_rule
from .optimizer import Optimizer
from .rmsprop import Adadelta, Adagrad, RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad",
           "RMSprop", "Adadelta", "LBFGS", "lr_scheduler", "linear_scaling_rule"]

"""torch.optim.lr_scheduler: the core's schedulers (they already take PyTorch's arguments);
ReduceLROnPlateau.step takes a Tensor loss too."""

from ...optim import lr_scheduler as _core
from ...optim.lr_scheduler import *  # noqa: F403 (the same names as the core's)
from .._tensor import unwrap


class ReduceLROnPlateau(_core.ReduceLROnPlateau):
    __doc__ = _core.ReduceLROnPlateau.__doc__

    def step(self, metrics):
        return super().step(float(unwrap(metrics)))

"""torch.optim: the core optimisers, given Tensors (model.parameters()) and closures that
return Tensors. The update rules are the core's (optim/)."""

from ... import optim as _core_optim
from .._tensor import Tensor, unwrap, wrap
from . import lr_scheduler


def _core_groups(params):
    """Parameters (views) or parameter-group dicts, with core tensors inside."""
    if isinstance(params, Tensor):
        return unwrap(params)  # the core optimiser names this mistake
    params = list(params) if not isinstance(params, (dict, str)) else params
    if isinstance(params, list):
        return [dict(g, params=unwrap(list(g["params"]))) if isinstance(g, dict) else unwrap(g)
                for g in params]
    return params


def from_core(core_class):
    """``core_class`` taking Tensors: parameters unwrapped, the closure's loss unwrapped."""

    def __init__(self, params, *args, **kwargs):
        core_class.__init__(self, _core_groups(params), *args, **kwargs)

    def add_param_group(self, group):
        core_class.add_param_group(self, _core_groups([group])[0])

    def step(self, closure=None):
        if closure is None:
            return wrap(core_class.step(self))
        return wrap(core_class.step(self, lambda: unwrap(closure())))

    return type(core_class.__name__, (core_class,), {
        "__init__": __init__, "add_param_group": add_param_group, "step": step,
        "__doc__": core_class.__doc__, "__module__": __name__})


OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "RMSprop",
              "Adadelta", "LBFGS"]
globals().update({name: from_core(getattr(_core_optim, name)) for name in OPTIMIZERS})
Optimizer = _core_optim.Optimizer

__all__ = ["Optimizer", "lr_scheduler", *OPTIMIZERS]

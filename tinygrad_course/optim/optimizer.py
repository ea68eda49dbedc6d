"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimiser turns gradients into steps. It keeps the parameters in ``param_groups`` (each a
dict of hyper-parameters, e.g. {"params": [...], "lr": 0.1}), so a scheduler can change
``group["lr"]`` between steps, and per-parameter memory (momentum, Adam's moments) in
``state[param]``. Steps change ``param.data`` directly: an update is not part of the graph.
"""

import numpy

from .. import backend
from ..errors import ShapeError
from ..tensor import Tensor


class Optimizer:
    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of tensors "
                            "(e.g. model.parameters()), got a single Tensor")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        group = dict(group)
        group["params"] = list(group["params"])
        known = {id(p) for g in self.param_groups for p in g["params"]}
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: every parameter must be a Tensor "
                                 "with requires_grad=True")
            if id(p) in known:
                raise ValueError(f"{type(self).__name__}: a parameter appears twice (in one "
                                 "group or in two); it would be updated twice per step")
            known.add(id(p))
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._from_op(p.xp.zeros_like(p.grad.data), p.device, False)

    def step(self):
        """Update every parameter that has a gradient, one group at a time."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                new = self.update(p.data, p.grad.data, state, group, p.xp)
                p.data = new if new.dtype == p.data.dtype else new.astype(p.data.dtype)

    def update(self, param, grad, state, group, xp):
        """Return the new value of one parameter (arrays in, array out)."""
        raise NotImplementedError(f"{type(self).__name__} must define update()")

    # ----- checkpoints: state by parameter position, as host arrays ---------------------------
    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {}
        for p, s in self.state.items():
            state[index[id(p)]] = {k: (backend.to_numpy(v).copy() if backend.is_device_array(v)
                                       else v) for k, v in s.items()}
        groups = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
        for g, group in zip(groups, self.param_groups):
            g["params"] = [index[id(p)] for p in group["params"]]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state; checks everything before changing anything."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in groups]
        if sizes != [len(g["params"]) for g in self.param_groups]:
            raise ShapeError(f"{name}.load_state_dict: the saved optimiser has groups of sizes "
                             f"{sizes}, this one "
                             f"{[len(g['params']) for g in self.param_groups]}")
        params = self._params()
        new_state = {}
        for i, s in state_dict["state"].items():
            i = int(i)
            if not 0 <= i < len(params):
                raise ShapeError(f"{name}.load_state_dict: state for parameter {i}, but there "
                                 f"are only {len(params)}")
            p = params[i]
            converted = {}
            for k, v in s.items():
                if backend.is_device_array(v):  # a buffer like the momentum: one per weight
                    v = backend.to_numpy(v)
                    if v.shape != p.shape:
                        raise ShapeError(f"{name}.load_state_dict: state '{k}' of parameter {i} "
                                         f"has shape {v.shape}, the parameter has {p.shape}")
                    v = backend.from_numpy(v.astype(p.dtype), p.device)
                elif isinstance(v, numpy.generic):  # a counter like Adam's step
                    v = v.item()
                converted[k] = v
            new_state[p] = converted
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = v
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} tensors, {settings}")
        return "\n".join(lines + [")"])

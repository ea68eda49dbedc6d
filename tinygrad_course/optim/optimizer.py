"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimiser turns gradients into steps. It keeps the parameters in ``param_groups`` (each a
dict of hyper-parameters, e.g. {"params": [...], "lr": 0.1}), so a scheduler can change
``group["lr"]`` between steps, and per-parameter memory (momentum, Adam's moments) in
``state[param]``. Steps change ``param.data`` directly: an update is not part of the graph.
"""

import math
import numbers
from collections.abc import Mapping

import numpy

from .. import backend
from ..autograd import set_grad_enabled
from ..errors import ArgumentError, CheckpointError, DTypeError, ShapeError
from ..state import checked_array, checked_count, checked_setting, raise_problems, require_mapping
from ..tensor import Tensor, constant


def check_hyperparameter(owner, name, value, what, low=0.0, below=None):
    """Refuse, naming ``owner`` (the optimiser or scheduler), a hyper-parameter that is not a
    finite real number >= low (and < below when given): lr=nan, lr=inf, lr="0.1", a
    negative weight decay would otherwise surface steps later as NaN weights."""
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Real):
        raise DTypeError(f"{owner}: invalid {what} {name}={value!r}; expected a real number")
    if not (math.isfinite(value) and value >= low and (below is None or value < below)):
        allowed = f"in [{low}, {below})" if below is not None else f">= {low}"
        raise ArgumentError(f"{owner}: invalid {what} {name}={value!r}; expected a finite "
                            f"number {allowed}")


def check_flag(owner, name, value):
    if not isinstance(value, (bool, numpy.bool_)):
        raise DTypeError(f"{owner}: {name} must be True or False, got {value!r}")


class Optimizer:
    def __init__(self, params, defaults):
        if (isinstance(params, (Tensor, str, dict)) or not hasattr(params, "__iter__")):
            what = "a single Tensor" if isinstance(params, Tensor) else type(params).__name__
            raise DTypeError(f"{type(self).__name__}: params should be an iterable of tensors "
                             f"(e.g. model.parameters()), got {what}")
        params = list(params)
        if not params:
            raise ArgumentError(f"{type(self).__name__}: got an empty parameter list")
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
            if not isinstance(p, Tensor):
                raise DTypeError(f"{type(self).__name__}: every parameter must be a Tensor "
                                 f"with requires_grad=True, got a {type(p).__name__}")
            if not p.requires_grad:
                raise ArgumentError(f"{type(self).__name__}: every parameter must be a Tensor "
                                    "with requires_grad=True")
            if id(p) in known:
                raise ArgumentError(f"{type(self).__name__}: a parameter appears twice (in one "
                                 "group or in two); it would be updated twice per step")
            known.add(id(p))
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check_hyperparameters(group)
        self.param_groups.append(group)

    def check_hyperparameters(self, group):
        """Raise, naming the optimiser, if a group's settings cannot be used (see SGD, Adam)."""

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = constant(p.xp.zeros_like(p.grad.data), like=p)

    def step(self, closure=None):
        """Update every parameter that has a gradient, one group at a time.

        closure: optional function that clears the gradients, recomputes the loss, calls
        backward() and returns the loss; it is called first (with gradients recorded) and
        its loss returned, as in PyTorch (LBFGS needs it: it evaluates the loss many times).
        A group with maximize=True steps up the gradient instead of down (g <- -g first).
        Every gradient is checked first: one of another shape would broadcast into the
        update and silently change the parameter's shape, so it raises before anything changes.
        """
        loss = None
        if closure is not None:
            with set_grad_enabled(True):
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is not None and (not isinstance(grad, Tensor)
                                         or grad.data.shape != p.data.shape):
                    self._refuse_gradient(p, grad)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                grad = -p.grad.data if group.get("maximize") else p.grad.data
                new = self.update(p.data, grad, state, group, p.xp)
                p.data = new if new.dtype == p.data.dtype else new.astype(p.data.dtype)
        return loss

    def _refuse_gradient(self, param, grad):
        position = next(i for i, p in enumerate(self._params()) if p is param)
        if not isinstance(grad, Tensor):
            raise DTypeError(f"{type(self).__name__}.step: parameter {position} has a .grad of "
                             f"type {type(grad).__name__}; expected a Tensor of its shape "
                             f"{param.shape}")
        raise ShapeError(f"{type(self).__name__}.step: parameter {position} has shape "
                         f"{param.shape} but its gradient has shape {grad.shape}; nothing was "
                         "updated")

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

    def state_layout(self, group):
        """The per-parameter state update() reads, checked when state is loaded: a dict
        {key: "count" | "number" | "array" | "optional array"} ("array": like the parameter,
        "number": one finite float such as NAdam's mu_product; a
        parameter with any state must have every key that is not optional), or None when
        the optimiser does not say (then any key loads; arrays must fit the parameter)."""
        return None

    def load_state_dict(self, state_dict, allow_nonfinite=False):
        """Restore hyper-parameters and state; checks everything before changing anything.

        Refused, with every problem listed and the optimiser left as it was: groups of other
        sizes or state for a parameter that does not exist (ShapeError), a hyper-parameter of
        the wrong type such as lr as a string (DTypeError), a state key update() needs that
        is missing, or one it does not know (CheckpointError), moments of the wrong shape or
        dtype, and NaN or inf in a moment or a hyper-parameter (unless allow_nonfinite=True,
        which admits non-finite moments only).
        """
        new_state, new_settings, problems = self._stage_state_dict(state_dict, allow_nonfinite)
        raise_problems(f"{type(self).__name__}.load_state_dict: cannot load this state",
                       problems)
        self._assign_staged(new_state, new_settings)

    def _assign_staged(self, new_state, new_settings):
        """Phase two of loading: store what _stage_state_dict built (plain stores only)."""
        for own, settings in zip(self.param_groups, new_settings):
            own.update(settings)
        self.state = new_state

    def _stage_state_dict(self, state_dict, allow_nonfinite=False):
        """Phase one of loading: check and convert, changing nothing.

        Returns (state, settings, problems): the new ``self.state``, per group the settings
        to store into it, and (error class, message) problems.
        """
        header = f"{type(self).__name__}.load_state_dict"
        require_mapping(header, state_dict, "an optimiser state_dict")
        groups, saved_state = state_dict.get("param_groups"), state_dict.get("state")
        if not isinstance(groups, (list, tuple)) or not all(
                isinstance(g, Mapping) and isinstance(g.get("params"), (list, tuple))
                for g in groups):
            return {}, [], [(CheckpointError, "'param_groups' is not a list of groups with "
                                              "'params' lists")]
        if not isinstance(saved_state, Mapping):
            return {}, [], [(CheckpointError, "'state' is not a dict")]
        sizes = [len(g["params"]) for g in groups]
        own_sizes = [len(g["params"]) for g in self.param_groups]
        if sizes != own_sizes:
            return {}, [], [(ShapeError, f"the saved optimiser has groups of sizes {sizes}, "
                                         f"this one {own_sizes}")]
        problems, settings, merged = [], [], []
        for g, (saved, own) in enumerate(zip(groups, self.param_groups)):
            new, before = {}, len(problems)
            for key, value in saved.items():
                if key == "params":
                    continue
                value, problem = checked_setting(f"group {g} '{key}'", value, own.get(key))
                if problem:
                    problems.append(problem)
                else:
                    new[key] = value
            settings.append(new)
            group = {**own, **new}
            if len(problems) == before:  # each setting has its type: now the ranges
                try:
                    self.check_hyperparameters(group)
                except (DTypeError, ArgumentError) as err:
                    problems.append((type(err), f"group {g}: {err}"))
            merged.extend([group] * len(own["params"]))
        params = self._params()
        new_state = {}
        for i, saved in saved_state.items():
            if isinstance(i, str) and i.isdigit():
                i = int(i)
            if not isinstance(i, (int, numpy.integer)) or not 0 <= i < len(params):
                problems.append((ShapeError, f"state for parameter {i!r}, but there are only "
                                             f"{len(params)}"))
                continue
            if not isinstance(saved, Mapping):
                problems.append((CheckpointError, f"the state of parameter {i} is not a dict"))
                continue
            converted, found = self._stage_parameter_state(i, params[i], saved, merged[i],
                                                           allow_nonfinite)
            problems.extend(found)
            new_state[params[i]] = converted
        return new_state, settings, problems

    def _stage_parameter_state(self, i, param, saved, group, allow_nonfinite):
        layout = self.state_layout(group) if saved else {}
        problems, converted = [], {}
        if layout is not None:
            required = [k for k, kind in layout.items() if kind != "optional array"]
            missing = [k for k in required if k not in saved]
            unknown = [k for k in saved if k not in layout]
            name = type(self).__name__
            if missing:
                problems.append((CheckpointError, f"the state of parameter {i} lacks {missing}, "
                                                  f"which {name}.step() needs"))
            if unknown:
                problems.append((CheckpointError, f"the state of parameter {i} has keys {name} "
                                                  f"does not keep: {unknown} (it keeps "
                                                  f"{list(layout)})"))
        for key, value in saved.items():
            kind = None if layout is None else layout.get(key)
            what = f"state '{key}' of parameter {i}"
            if kind == "count":
                value, problem = checked_count(what, value)
            elif kind == "number":
                value, problem = checked_setting(what, value, 1.0)
            elif kind is not None or backend.is_device_array(value):
                value, problem = checked_array(what, value, param.shape, param.dtype,
                                               allow_nonfinite, expected="the parameter has")
                if problem is None:
                    value = backend.from_numpy(value, param.device)
            else:
                value, problem = checked_setting(what, value)
            if problem:
                problems.append(problem)
            converted[key] = value
        return converted, problems

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} tensors, {settings}")
        return "\n".join(lines + [")"])

"""Module and Parameter: how layers hold their weights and find each other.

A ``Module`` is a function with state. Assigning a ``Parameter`` or another ``Module`` to an
attribute registers it, so ``model.parameters()`` walks the whole tree and finds every weight
an optimiser must update, and ``state_dict()`` names each one by its path
("encoder.layers.0.weight"). ``__call__`` runs ``forward``.
"""

from collections import OrderedDict

import numpy

from .. import backend
from ..errors import DeviceError, DTypeError
from ..state import checked_array, raise_problems, require_mapping
from ..tensor import Tensor, constant


class RemovableHandle:
    """What register_forward_hook returns: handle.remove() takes the hook off (once is
    enough; removing twice does nothing). Usable as ``with module.register_...(h):``."""

    _next_id = 0

    def __init__(self, registry, hook):
        RemovableHandle._next_id += 1
        self.id, self._registry = RemovableHandle._next_id, registry
        registry[self.id] = hook

    def remove(self):
        self._registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Parameter(Tensor):
    """A tensor that is a learnable weight: requires_grad=True, found by Module.parameters()."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            super().__init__(data.data, requires_grad=requires_grad, dtype=data.dtype,
                             device=data.device)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.

    Subclasses set attributes in ``__init__`` (parameters, sub-modules, buffers) and define
    ``forward``. ``training`` switches behaviour of layers like Dropout and BatchNorm.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration ---------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 "assigning attributes")
        plain_tensor = isinstance(value, Tensor) and not isinstance(value, Parameter)
        if name in self._buffers and (value is None or plain_tensor):
            self._buffers[name] = value  # a re-assigned buffer stays a buffer (saved, not trained)
            object.__setattr__(self, name, value)
            return
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif value is None and name in self.__dict__.get("_none_parameters", ()):
            self._parameters[name] = None
        object.__setattr__(self, name, value)

    def register_parameter(self, name, parameter):
        """Register ``parameter`` (may be None, e.g. a Linear without bias) under ``name``."""
        if parameter is None:
            self.__dict__.setdefault("_none_parameters", set()).add(name)
        setattr(self, name, parameter)

    def register_buffer(self, name, tensor):
        """State that is saved in state_dict but not trained (e.g. BatchNorm running mean)."""
        object.__setattr__(self, name, tensor)
        self._buffers[name] = tensor

    def __delattr__(self, name):
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    # ----- calling ------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        """forward(*args, **kwargs), with the hooks around it: each forward pre-hook
        hook(module, args) may return new args (a tuple, or one value); each forward hook
        hook(module, args, output) may return a new output. None keeps what there was."""
        hooks = self.__dict__.get("_forward_hooks")
        if not hooks:
            return self.forward(*args, **kwargs)
        for hook in list(hooks["pre"].values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(hooks["post"].values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(self, hook):
        """Call hook(module, args) before every forward; returns a handle whose .remove()
        takes the hook off again."""
        return self._add_hook("pre", hook)

    def register_forward_hook(self, hook):
        """Call hook(module, args, output) after every forward (e.g. to print or keep the
        activations of a layer); returns a handle whose .remove() takes it off again."""
        return self._add_hook("post", hook)

    def _add_hook(self, kind, hook):
        if not callable(hook):
            raise DTypeError(f"{type(self).__name__}: a hook must be callable, got "
                             f"{type(hook).__name__}")
        hooks = self.__dict__.setdefault("_forward_hooks", {"pre": {}, "post": {}})
        return RemovableHandle(hooks[kind], hook)

    # ----- walking the tree ---------------------------------------------------------------------
    def named_children(self):
        yield from ((name, m) for name, m in self._modules.items() if m is not None)

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix=""):
        """(path, module) for this module and everything below it, each module once."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = list(module.named_children())
            for name, child in reversed(children):
                stack.append((f"{path}.{name}" if path else name, child))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, recurse=True):
        """(path, parameter) pairs; a parameter shared by two layers is listed once."""
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for path, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{path}.{name}" if path else name), param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse):
            yield param

    def named_buffers(self):
        for path, module in self.named_modules():
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{path}.{name}" if path else name), buf

    def buffers(self):
        for _, buf in self.named_buffers():
            yield buf

    def num_parameters(self):
        """How many numbers the model learns."""
        return sum(p.size for p in self.parameters())

    # ----- modes and housekeeping -----------------------------------------------------------
    def train(self, mode=True):
        """Set ``training`` of this module and every module below it (Dropout and BatchNorm
        read it); eval() is train(False)."""
        if not isinstance(mode, (bool, numpy.bool_)):
            raise DTypeError(f"{type(self).__name__}.train: mode must be True or False, got "
                             f"{mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def requires_grad_(self, requires_grad=True):
        """Turn gradients of every parameter on or off (False freezes the module, e.g. a
        pretrained encoder while a new head trains). Returns the module."""
        if not isinstance(requires_grad, (bool, numpy.bool_)):
            raise DTypeError(f"{type(self).__name__}.requires_grad_: expected True or False, "
                             f"got {requires_grad!r}")
        for param in self.parameters():
            param.requires_grad = bool(requires_grad)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = constant(param.xp.zeros_like(param.grad.data), like=param)

    def apply(self, fn):
        """Call ``fn(module)`` on every module below this one and then on this one (children
        before their parent, as PyTorch), e.g. to initialise every Linear. Returns self."""
        for child in list(self.children()):
            child.apply(fn)
        fn(self)
        return self

    # ----- devices and dtypes: change the data of every parameter and buffer in place -------
    def _convert(self, convert):
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for tensor in registry.values():
                    if tensor is None:
                        continue
                    tensor.data, tensor.device = convert(tensor)
                    if tensor.grad is not None:
                        tensor.grad = None
        return self

    def to(self, device):
        """Move every parameter and buffer to ``device`` in place (optimisers keep working:
        the Parameter objects stay the same, only their data moves)."""
        device = backend.normalize_device(device)
        if device == "cuda" and not backend.cuda_available():
            raise DeviceError("to: device 'cuda' asked for, but CuPy or a GPU is not "
                                      "available (pip install -e '.[gpu]')")
        return self._convert(lambda t: (t.data if t.device == device else
                                        backend.from_numpy(t.numpy(), device), device))

    def _cast_floats(self, dtype):
        return self._convert(lambda t: (t.data.astype(dtype) if t.dtype.kind == "f" else t.data,
                                        t.device))

    def double(self):
        """float64 parameters: what gradcheck needs."""
        return self._cast_floats(numpy.float64)

    def float(self):
        return self._cast_floats(numpy.float32)

    # ----- saving and loading -------------------------------------------------------------------
    def state_dict(self):
        """Every parameter and buffer by path, as NumPy copies on the host."""
        state = OrderedDict()
        for name, param in self.named_parameters():
            state[name] = param.numpy().copy()
        for name, buf in self.named_buffers():
            state[name] = buf.numpy().copy()
        return state

    def load_state_dict(self, state_dict, strict=True, allow_nonfinite=False):
        """Copy values from ``state_dict`` into the parameters and buffers.

        Everything is checked before anything changes (see tinygrad_course.state): a missing
        or unexpected key (with strict=True) raises KeyError, a shape that differs ShapeError,
        a dtype the tensor cannot take (an integer, complex or string array for a float
        weight) DTypeError, NaN or inf CheckpointError unless allow_nonfinite=True; the error
        lists every problem and the model is left as it was.
        Returns (missing_keys, unexpected_keys).
        """
        assignments, missing, unexpected, problems = self._stage_state_dict(
            state_dict, strict, allow_nonfinite)
        raise_problems(f"load_state_dict: {type(self).__name__} cannot load this state_dict",
                       problems)
        for tensor, data in assignments:
            tensor.data = data
        return missing, unexpected

    def _stage_state_dict(self, state_dict, strict=True, allow_nonfinite=False):
        """Phase one of loading: check ``state_dict`` and convert every value, changing nothing.

        Returns (assignments, missing, unexpected, problems): (tensor, new data) pairs ready
        to store, the missing and unexpected names, and (error class, message) problems.
        """
        require_mapping("load_state_dict", state_dict, "a state_dict")
        targets = OrderedDict(self.named_parameters())
        targets.update(self.named_buffers())
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = []
        if strict and (missing or unexpected):
            names = [f"{what} keys {keys}" for what, keys in (("missing", missing),
                                                              ("unexpected", unexpected)) if keys]
            problems.append((KeyError, ", ".join(names)))
        assignments = []
        for name, target in targets.items():
            if name not in state_dict:
                continue
            value, problem = checked_array(f"'{name}'", state_dict[name], target.shape,
                                           target.dtype, allow_nonfinite,
                                           expected="the model expects")
            if problem:
                problems.append(problem)
            else:
                assignments.append((target, backend.from_numpy(value, target.device)))
        return assignments, missing, unexpected, problems

    # ----- printing -------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after the other: y = f_n(... f_2(f_1(x)))."""

    def __init__(self, *modules):
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*list(self._modules.values())[i])
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters the parent can find (a plain list would hide them)."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of modules by name, registered like attributes."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules or {}).items():
            setattr(self, name, module)

    def __getitem__(self, name):
        return self._modules[name]

    def __setitem__(self, name, module):
        setattr(self, name, module)

    def __contains__(self, name):
        return name in self._modules

    def __len__(self):
        return len(self._modules)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()


class ParameterList(Module):
    """A list of Parameters registered under "0", "1", ... (a plain list would hide them
    from parameters() and the optimiser). Tensors appended are made Parameters."""

    def __init__(self, values=()):
        super().__init__()
        for value in values:
            self.append(value)

    def append(self, value):
        if not isinstance(value, Parameter):
            if not isinstance(value, Tensor):
                raise DTypeError(f"ParameterList: expected a Tensor or Parameter, got "
                                 f"{type(value).__name__}")
            value = Parameter(value)
        setattr(self, str(len(self._parameters)), value)
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __getitem__(self, i):
        return list(self._parameters.values())[i]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

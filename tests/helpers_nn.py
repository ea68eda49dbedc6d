"""Gradient checks for whole layers: check_module_gradients(module, *inputs).

tg.gradcheck needs a function of the tensors it checks, computing in float64 all the way. A
layer reads its weights from its own attributes, so this helper converts the module to
float64 (module.double(), in place), and gradchecks

    fn(*weights, *inputs) = module(*inputs) with each parameter replaced by the given tensor

against central finite differences, for every parameter and every floating input at once.
The module must be deterministic (Dropout in eval mode or with p = 0). A mismatch is
reported with the parameter's name ("input 0" of gradcheck is the first named parameter).
"""

import numpy as np

import tinygrad_course as tg


def _slots(module):
    """(owner module, attribute name, parameter path) for every parameter, in order."""
    slots = []
    for path, owner in module.named_modules():
        for name, param in owner._parameters.items():
            if param is not None:
                slots.append((owner, name, f"{path}.{name}" if path else name))
    return slots


def check_module_gradients(module, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Gradcheck every parameter of ``module`` and every floating input; True or raise.

    Inputs are used as given: floating arrays/tensors are checked (made float64), integer
    ones (labels, token ids) are passed as constants.
    """
    module.double()
    slots = _slots(module)
    params = [getattr(owner, name) for owner, name, _ in slots]
    inputs = [x if isinstance(x, tg.Tensor) else tg.tensor(np.asarray(x)) for x in inputs]
    inputs = [tg.tensor(x, dtype=np.float64, requires_grad=True) if x.dtype.kind == "f" else x
              for x in inputs]

    def fn(*tensors):
        weights, xs = tensors[:len(slots)], tensors[len(slots):]
        try:
            for (owner, name, _), weight in zip(slots, weights):
                object.__setattr__(owner, name, weight)  # bypass registration: a swap only
            return module(*xs)
        finally:
            for (owner, name, _), param in zip(slots, params):
                object.__setattr__(owner, name, param)

    weights = [tg.tensor(p.numpy(), dtype=np.float64, requires_grad=True) for p in params]
    try:
        return tg.gradcheck(fn, *weights, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    except tg.GradcheckError as err:
        names = [path for _, _, path in slots] + [f"input {i}" for i in range(len(inputs))]
        legend = ", ".join(f"{i} = {name}" for i, name in enumerate(names))
        raise tg.GradcheckError(f"{type(module).__name__}: {err}\n(gradcheck inputs: {legend})"
                                ) from err


def gradcheck_parameter(model, path, loss_of):
    """Gradcheck loss_of(model) in float64 as a function of the one parameter at ``path``."""
    model.double()
    *owners, attribute = path.split(".")
    owner = model
    for name in owners:
        owner = owner[int(name)] if name.isdigit() else getattr(owner, name)
    original = getattr(owner, attribute)

    def fn(weight):
        object.__setattr__(owner, attribute, weight)
        try:
            return loss_of(model).reshape(1)
        finally:
            object.__setattr__(owner, attribute, original)

    weight = tg.tensor(original.numpy(), dtype=np.float64, requires_grad=True)
    return tg.gradcheck(fn, weight)

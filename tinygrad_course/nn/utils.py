"""Gradient clipping: keep one bad batch from throwing the weights far away.

clip_grad_norm_: with the global norm ||g|| = (sum over all parameters of sum g^2)^(1/2),
    g <- g * min(1, max_norm / (||g|| + 1e-6))
so the direction of the step is kept and only its length is capped (the usual fix for
exploding gradients in RNNs). clip_grad_value_ clips each element to [-clip, clip].

parameters_to_vector / vector_to_parameters: all the weights as one flat vector and back.
"""

import math

import numpy

from ..errors import BackwardError, DeviceError, DTypeError, ShapeError
from ..tensor import Tensor, constant


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients in place so their global norm is at most max_norm.

    Returns the total norm before clipping, as a 0-d Tensor (``float(norm)`` gives the number)
    in the gradients' dtype (float64 when they are; the wider one when they differ), on
    their device. A NaN or infinite norm leaves the gradients as they are (PyTorch would
    scale them by NaN); error_if_nonfinite=True raises BackwardError instead.
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor(0.0)
    xp = params[0].xp
    dtype = numpy.result_type(*(p.grad.dtype for p in params))
    device = params[0].grad.device
    if norm_type == math.inf:
        total = max(float(xp.abs(p.grad.data).max().item()) for p in params)
    else:
        total = sum(float((xp.abs(p.grad.data) ** norm_type).sum().item())
                    for p in params) ** (1.0 / norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise BackwardError(f"clip_grad_norm_: the total gradient norm is {total}")
        return Tensor(total, dtype=dtype, device=device)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad = constant((p.grad.data * coef).astype(p.grad.dtype), like=p)
    return Tensor(total, dtype=dtype, device=device)


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element to [-clip_value, clip_value] in place."""
    for p in _with_grads(parameters):
        clipped = p.xp.clip(p.grad.data, -clip_value, clip_value)
        p.grad = constant(clipped, like=p)


def parameters_to_vector(parameters):
    """Every parameter flattened and joined into one 1-d Tensor (a copy, outside the graph),
    in the order given: what a second-order method or a weight average works on."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params or not all(isinstance(p, Tensor) for p in params):
        raise DTypeError("parameters_to_vector: expected an iterable of Tensors, got "
                         f"{[type(p).__name__ for p in params][:3] or 'nothing'}")
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise DeviceError(f"parameters_to_vector: the parameters are on several devices "
                          f"{sorted(devices)}")
    xp = params[0].xp
    flat = xp.concatenate([p.data.reshape(-1).astype(params[0].dtype) for p in params])
    return constant(flat, like=params[0])


def vector_to_parameters(vec, parameters):
    """The inverse: slice ``vec`` (1-d, one entry per parameter element) back into the
    parameters, in place and in order."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise ShapeError(f"vector_to_parameters: vec must be a 1-d Tensor, got "
                         f"{getattr(vec, 'shape', type(vec).__name__)}")
    total = sum(p.size for p in params)
    if vec.size != total:
        raise ShapeError(f"vector_to_parameters: vec has {vec.size} entries but the "
                         f"parameters have {total}")
    offset = 0
    for p in params:
        p.data = vec.data[offset:offset + p.size].reshape(p.shape).astype(p.dtype)
        offset += p.size

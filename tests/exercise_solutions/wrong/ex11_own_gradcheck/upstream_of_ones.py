"""Backward with an upstream gradient of ones: a backward that forgets to multiply by g
comes out right."""

import numpy as np

import tinygrad_course as tg

CAUGHT_BY = "planted bugs caught"
SLIPS_PAST = ("correct backwards pass",)

EPS, RTOL, ATOL = 1e-6, 1e-5, 1e-7


def _value(fn, arrays, v):
    out = fn(*[tg.tensor(a, dtype=np.float64) for a in arrays])
    return float(np.sum(v * out.numpy()))


def my_gradcheck(fn, *inputs):
    arrays = [np.asarray(x, dtype=np.float64) for x in inputs]  # float32 too: float64 here
    tensors = [tg.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    v = np.ones(out.shape)
    out.backward(tg.tensor(v, dtype=np.float64))
    for i, (array, tensor) in enumerate(zip(arrays, tensors)):
        analytic = np.zeros(array.shape) if tensor.grad is None else tensor.grad.numpy()
        numeric = np.zeros(array.shape)
        for j in np.ndindex(*array.shape):
            moved = [a.copy() for a in arrays]
            moved[i][j] += EPS
            plus = _value(fn, moved, v)
            moved[i][j] -= 2 * EPS
            numeric[j] = (plus - _value(fn, moved, v)) / (2 * EPS)
        if not np.all(np.abs(analytic - numeric) <= ATOL + RTOL * np.abs(numeric)):
            return False
    return True

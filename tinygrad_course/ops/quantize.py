"""The straight-through estimator (Bengio et al. 2013; VQ-VAE, van den Oord et al. 2017).

Rounding to the nearest codebook vector has gradient 0 almost everywhere, so nothing before
it would learn. The straight-through estimator pretends the rounding was the identity:

    forward    y = z_q                  (the quantised values, exactly)
    backward   dL/dz_e = dL/dy          (copied straight through to the encoder output)
               dL/dz_q = none           (the codebook learns from its own loss instead)

Written as z_e + stop_gradient(z_q - z_e) it would give the same gradient but values off by
a rounding error; as one op the values are z_q's bit for bit and the gradient is exactly the
identity (its backward returns dL/dy itself, so it is differentiable again).
"""

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import as_tensor


class StraightThrough(Function):
    """y = z_q;   dL/dz_e = dL/dy,   no gradient to z_q."""

    def forward(self, z_e, z_q):
        return z_q.copy()

    def backward(self, grad):
        return grad, None


def straight_through(z_e, z_q):
    """z_q's values with z_e's gradient: the decoder sees the codes, the encoder learns as if
    the quantiser were the identity. z_e and z_q have the same shape."""
    z_e, z_q = as_tensor(z_e, "straight_through"), as_tensor(z_q, "straight_through")
    if z_e.shape != z_q.shape or z_e.dtype != z_q.dtype:
        raise ShapeError(f"straight_through: z_e {z_e.shape} {z_e.dtype} and z_q {z_q.shape} "
                         f"{z_q.dtype} must have the same shape and dtype")
    return StraightThrough.apply(z_e, z_q)

"""Undoing broadcasting in backward.

If ``y = x + b`` broadcast ``b`` of shape (3,) to (2, 3), every element of ``b`` was used twice,
so its gradient is the sum of the upstream gradient over the broadcast axis:
    dL/db_j = sum_i dL/dy_ij
``sum_to_shape`` does that for any broadcast: it sums over the leading axes that were added and
over the axes that were stretched from size 1.
"""


def sum_to_shape(grad, shape):
    """Sum the Tensor ``grad`` down to ``shape`` (the inverse of broadcasting ``shape`` up)."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    leading = grad.ndim - len(shape)
    stretched = tuple(leading + i for i, size in enumerate(shape)
                      if size == 1 and grad.shape[leading + i] != 1)
    axes = tuple(range(leading)) + stretched
    return grad.sum(axis=axes, keepdims=True).reshape(shape)

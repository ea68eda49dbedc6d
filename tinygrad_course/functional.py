"""Activations and losses built from the differentiable ops (``from tinygrad_course import
functional as F``). Names and arguments follow ``torch.nn.functional``.

Nothing here has a backward of its own: every function is a few ops from ``ops/``, so its
gradient comes from the chain rule, and gradcheck tests it like any other composition.

Losses and the lecture's equations (p: the true distribution, q: the model's, over classes c):

    entropy          H(p)    = -sum_c p_c log p_c
    cross-entropy    H(p, q) = -sum_c p_c log q_c  = H(p) + KL(p || q)
    KL divergence    KL(p||q) = sum_c p_c (log p_c - log q_c)  >= 0, = 0 only when p = q
    MSE              mean (x - y)^2            MAE (L1)   mean |x - y|
    BCE              -(y log p + (1 - y) log(1 - p))

Conventions shared by every loss:
  * ``reduction``: "none" (one loss per element), "sum", or "mean" (see each loss for what
    it divides by). kl_div also takes "batchmean".
  * Class scores have the class axis at position 1, as in PyTorch: input (N, C) or
    (N, C, d1, ...), or (C,) for a single example.
  * Bad input raises an error that names the loss: a wrong shape (ShapeError), labels that
    are not integers (DTypeError), labels outside [0, C) (ShapeError), and NaN or inf values
    (ValueError), which would otherwise surface later as a NaN loss.
"""

import math

import numpy

from .errors import DeviceError, DTypeError, ShapeError
from .ops.attention import scaled_dot_product_attention
from .ops.conv2d import conv2d, conv_transpose2d, fold, unfold
from .ops.elementwise import gelu, leaky_relu, maximum, relu, tanh, where  # noqa: F401
from .ops.nn import binary_cross_entropy as _binary_cross_entropy
from .ops.nn import check_finite as _check_finite
from .ops.nn import softmax_cross_entropy, squared_error
from .ops.pool import (
    adaptive_avg_pool2d,
    avg_pool2d,
    interpolate,
    max_pool2d,
    pixel_shuffle,
    pixel_unshuffle,
)
from .ops.quantize import straight_through
from .tensor import Tensor, as_tensor, host_array

REDUCTIONS = ("none", "mean", "sum")


# ----- checks shared by the losses ------------------------------------------------------------
def _as_tensor(value, like, name, what):
    """A target given as a Tensor, array or list, as a Tensor on ``like``'s device."""
    if isinstance(value, Tensor):
        if value.device != like.device:
            raise DeviceError(f"{name}: {what} is on '{value.device}' but the input is on "
                              f"'{like.device}'")
        return value
    host = host_array(value, name)
    dtype = like.dtype if host.dtype.kind == "f" else None
    return Tensor(host, dtype=dtype, device=like.device)


def _check_floating(name, t, what):
    if not isinstance(t, Tensor):
        raise DTypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise DTypeError(f"{name}: {what} must be floating, got dtype {t.dtype}")


def _check_same_shape(name, input, target):
    if input.shape != target.shape:
        raise ShapeError(f"{name}: input has shape {input.shape} but target has shape "
                         f"{target.shape}; they must match")


def _check_reduction(name, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{name}: reduction must be one of {allowed}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


def _class_axis(name, input):
    if input.ndim == 0:
        raise ShapeError(f"{name}: input must be (C,), (N, C) or (N, C, d1, ...), got a 0-d "
                         "tensor")
    return 0 if input.ndim == 1 else 1


# ----- activations -----------------------------------------------------------------------------
def sigmoid(x, temperature=1.0):
    """The soft step: sigma(x / tau) = 1 / (1 + exp(-x / tau)).

    tau = 1 is the ordinary sigmoid. As tau -> 0 it sharpens towards the step function
    [x > 0]: outside +-delta it is within sigma(-delta / tau) of the step, which goes to 0.
    Large tau flattens it towards 1/2. x: any shape; output: same shape.
    """
    if not temperature > 0:
        raise ValueError(f"sigmoid: temperature must be > 0, got {temperature}")
    x = as_tensor(x, "sigmoid")
    return x.sigmoid() if temperature == 1.0 else (x * (1.0 / temperature)).sigmoid()


def softmax(x, dim=-1):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``dim`` (shape unchanged)."""
    return as_tensor(x, "softmax").softmax(axis=dim)


def log_softmax(x, dim=-1):
    """log softmax(x)_i = x_i - log sum_j exp(x_j) along ``dim``, without overflow."""
    return as_tensor(x, "log_softmax").log_softmax(axis=dim)


def _xlogy(x, y):
    """x * log(y) with 0 * log(0) = 0 (the limit), so zero probabilities add nothing.

    Where x > 0 the gradient is the usual one; where x == 0 nothing flows into log(y).
    """
    positive = x > 0
    safe = where(positive, y, 1.0)
    return where(positive, x * safe.log(), 0.0)


def entropy(p, dim=-1):
    """H(p) = -sum_c p_c log p_c in nats, along ``dim``; p: probabilities (..., C, ...).

    Output: p's shape without ``dim``. 0 log 0 counts as 0. H is 0 for a one-hot p and
    log C for the uniform distribution, the most uncertain one.
    """
    _check_floating("entropy", p, "p")
    _check_finite("entropy", p, "probabilities p")
    return -_xlogy(p, p).sum(axis=dim)


# ----- losses over classes ---------------------------------------------------------------------
def _class_weights(name, input, weight):
    """``weight`` (C,) as an array shaped to broadcast along input's class axis, or None."""
    if weight is None:
        return None
    axis = _class_axis(name, input)
    weight = _as_tensor(weight, input, name, "weight")
    _check_floating(name, weight, "weight")
    if weight.shape != (input.shape[axis],):
        raise ShapeError(f"{name}: weight must have one entry per class, shape "
                         f"({input.shape[axis]},), got {weight.shape}")
    _check_finite(name, weight, "weight")
    return weight.data.astype(input.dtype).reshape((-1,) + (1,) * (input.ndim - axis - 1))


def _class_index_targets(name, input, target, ignore_index, label_smoothing=0.0,
                         weight=None):
    """The target distribution of class-index labels, laid out like ``input``.

    target: integers of input's shape without the class axis. Returns (distribution, count):
    distribution[n, c] = (1 - eps) [c == target_n] + eps / C for counted positions and 0 at
    positions whose label is ignore_index; count = the number of counted positions. With a
    class ``weight`` w (C,), distribution[n, c] is also multiplied by w_c, and count becomes
    sum over counted positions of w[target_n] (PyTorch's denominator for "mean").
    """
    axis = _class_axis(name, input)
    num_classes = input.shape[axis]
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if target.dtype.kind not in "iu":
        raise DTypeError(f"{name}: class-index targets must be integers, got dtype "
                         f"{target.dtype} and shape {target.shape} (for class probabilities, "
                         f"pass a floating target of the input's shape {input.shape})")
    if target.shape != expected:
        raise ShapeError(f"{name}: input of shape {input.shape} needs class-index targets of "
                         f"shape {expected}, got {target.shape}")
    xp, labels = input.xp, target.data
    with_class_axis = labels.shape[:axis] + (1,) + labels.shape[axis:]  # broadcasts to input
    classes = xp.arange(num_classes).reshape((num_classes,) + (1,) * (len(expected) - axis))
    one_hot = labels.reshape(with_class_axis) == classes
    ignorable = 0 <= ignore_index < num_classes  # (ignore_index may name a real class)
    if labels.size and not ignorable and 0 <= labels.min() and labels.max() < num_classes:
        counted = xp.ones(with_class_axis, dtype=bool)  # the usual case: every label is a
        hits = one_hot.astype(input.dtype)              # class, and every one is counted
    else:
        counted = labels != ignore_index
        out_of_range = counted & ((labels < 0) | (labels >= num_classes))
        if bool(out_of_range.any()):
            bad = int(labels[out_of_range].reshape(-1)[0])
            raise ShapeError(f"{name}: class labels must be in [0, {num_classes}) (or "
                             f"ignore_index={ignore_index}), got label {bad}")
        counted = counted.reshape(with_class_axis)
        hits = (one_hot & counted).astype(input.dtype)  # one-hot rows, zero where ignored
    dist = hits
    if label_smoothing:
        dist = dist * (1.0 - label_smoothing) + counted.astype(input.dtype) * (
            label_smoothing / num_classes)
    weights = _class_weights(name, input, weight)
    if weights is None:
        count = int(counted.sum())
    else:
        dist = dist * weights
        count = float((hits * weights).sum())  # sum of w[target_n] over counted positions
    return Tensor._from_op(dist, input.device, False), count


def _mean_over_counted(name, loss, count, weighted=False):
    """loss.sum() / count; ``weighted``: count is the sum of the targets' class weights."""
    if count == 0 and weighted:
        raise ValueError(f"{name}: the class weights of the counted targets sum to 0, so the "
                         "weighted mean is undefined (use reduction='sum')")
    if count == 0:
        raise ValueError(f"{name}: every target equals ignore_index, so the mean over the "
                         "counted targets is undefined (use reduction='sum')")
    return loss.sum() / float(count)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of the true class: loss_n = -w[target_n] input[n, target_n].

    input: log-probabilities (C,), (N, C) or (N, C, d1, ...) (e.g. from log_softmax);
    target: integer class labels of shape (), (N,) or (N, d1, ...); weight: optional (C,)
    class weights w (default all 1). Labels equal to ignore_index add nothing. "mean" divides
    by the sum of w[target_n] over the labels not ignored (their number when unweighted).
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    _check_floating(name, input, "input (log-probabilities)")
    target = _as_tensor(target, input, name, "target")
    dist, count = _class_index_targets(name, input, target, ignore_index, weight=weight)
    _check_finite(name, input, "input (log-probabilities)")
    loss = -(dist * input).sum(axis=_class_axis(name, input))
    if reduction == "mean":
        return _mean_over_counted(name, loss, count, weighted=weight is not None)
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between the softmax of the logits and the target distribution.

        q = softmax(input) over the class axis,   loss_n = -sum_c w_c y_nc log q_nc

    input: logits (C,), (N, C) or (N, C, d1, ...).
    target, either
      * class indices: integers of shape (), (N,) or (N, d1, ...); y is one-hot. Labels equal
        to ignore_index add nothing, and "mean" divides by the sum of w[target_n] over the
        labels counted (their number when unweighted).
      * class probabilities: floats of the input's shape; "mean" divides by the number of
        distributions (input.size / C). ignore_index does not apply.
    weight: optional (C,) class weights w (default all 1), e.g. to count a rare class more.
    label_smoothing eps mixes y with the uniform distribution: y <- (1 - eps) y + eps / C
    (before the weights). Arguments and formulas as torch.nn.functional.cross_entropy.

    The gradient with respect to the logits is (q - y) per example (divided by the count
    for "mean"): the model's probabilities minus the target's.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    _check_floating(name, input, "input (logits)")
    axis = _class_axis(name, input)
    target = _as_tensor(target, input, name, "target")
    probabilities = target.dtype.kind == "f" and target.shape == input.shape
    if probabilities:
        _check_finite(name, target, "target probabilities")
        dist, count = target, input.size // input.shape[axis]
        if label_smoothing:
            dist = dist * (1.0 - label_smoothing) + label_smoothing / input.shape[axis]
        weights = _class_weights(name, input, weight)
        if weights is not None:
            dist = dist * Tensor._from_op(weights, input.device, False)
    else:
        dist, count = _class_index_targets(name, input, target, ignore_index, label_smoothing,
                                           weight)
    _check_finite(name, input, "input (logits)")
    loss = softmax_cross_entropy(input, dist, axis=axis)  # -sum(dist * log_softmax), one op
    if reduction == "mean":  # class indices + weights: count is the sum of w[target_n]
        weighted = weight is not None and not probabilities
        return _mean_over_counted(name, loss, count, weighted=weighted)
    return _reduce(loss, reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """KL(p || q) = sum p (log p - log q), elementwise, with input = log q (log-probabilities)
    and target = p (or log p when log_target=True). Shapes must match.

    Pointwise loss: p * (log p - input), 0 where p = 0. Reduction:
      "mean"       the mean over ALL elements (PyTorch's default, rarely what the math means)
      "batchmean"  the sum divided by the batch size input.shape[0]: the KL per example
      "sum"        the sum;  "none": the pointwise values
    """
    name = "kl_div"
    _check_reduction(name, reduction, REDUCTIONS + ("batchmean",))
    _check_floating(name, input, "input (log-probabilities)")
    target = _as_tensor(target, input, name, "target")
    _check_floating(name, target, "target")
    _check_same_shape(name, input, target)
    _check_finite(name, input, "input (log-probabilities)")
    _check_finite(name, target, "target")
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        pointwise = _xlogy(target, target) - target * input
    if reduction == "batchmean":
        return pointwise.sum() / float(input.shape[0] if input.ndim else 1)
    return _reduce(pointwise, reduction)


# ----- regression losses -----------------------------------------------------------------------
def _regression_operands(name, input, target, reduction, scan_for_non_finite=True):
    """Check a pointwise loss's arguments (floating, same shape, finite); the target as a Tensor.
    scan_for_non_finite=False leaves the NaN/inf check to the caller (see mse_loss)."""
    _check_reduction(name, reduction)
    _check_floating(name, input, "input")
    target = _as_tensor(target, input, name, "target")
    _check_floating(name, target, "target")
    _check_same_shape(name, input, target)
    if scan_for_non_finite:
        _check_finite(name, input, "input")
        _check_finite(name, target, "target")
    return target


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: (x - y)^2 per element, then reduced ("mean" over all elements).

    "mean" and "sum" run as one fused op (ops.nn.SquaredError); their NaN/inf check looks at
    the loss itself (any NaN or inf in the input or target makes it non-finite) and scans the
    arrays only to say which one it was, so a correct call pays no extra pass for the check.
    """
    name = "mse_loss"
    if reduction == "none":
        target = _regression_operands(name, input, target, reduction)
        diff = input - target
        return diff * diff
    target = _regression_operands(name, input, target, reduction, scan_for_non_finite=False)
    if reduction == "sum":
        scale = 1.0
    else:  # the mean of nothing is NaN, as NumPy and PyTorch give
        scale = 1.0 / input.size if input.size else float("nan")
    loss = squared_error(input, target.astype(input.dtype), scale)
    if input.size and not math.isfinite(loss.item()):
        _check_finite(name, input, "input")
        _check_finite(name, target, "target")
        raise ValueError(f"{name}: the loss overflowed to {loss.item()} although the input and "
                         f"target (shape {input.shape}) are finite; their differences are "
                         f"too large for {input.dtype}")
    return loss


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error (MAE): |x - y| per element, then reduced. Less swayed by outliers
    than MSE: its gradient is sign(x - y), whatever the size of the error."""
    target = _regression_operands("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


# ----- binary classification -------------------------------------------------------------------
def _elementwise_weight(name, input, weight, what):
    """A weight for each element (``weight``, ``pos_weight``) as a Tensor of input's dtype, or
    None. Its shape must broadcast to input's shape without changing it (a (C,) weight for
    (N, C) input, say): a weight of shape (N, 1) for input (N,) would silently turn N
    losses into N x N. NaN or inf raises, as in the input."""
    if weight is None:
        return None
    weight = _as_tensor(weight, input, name, what)
    try:
        fits = numpy.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{name}: {what} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {input.shape} (it may drop leading axes or have size "
                         "1 where the input has more, never add or enlarge an axis)")
    _check_finite(name, weight, what)
    return weight.astype(input.dtype)


def _binary_operands(name, input, target, weight, reduction):
    target = _regression_operands(name, input, target, reduction)
    return target, _elementwise_weight(name, input, weight, "weight")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """BCE of probabilities p = input in [0, 1] and targets y in [0, 1] (same shape):

        loss = -w (y log p + (1 - y) log(1 - p))      (each log clamped to >= -100)
        dloss/dp = w (p - y) / max(p (1 - p), 1e-12)

    PyTorch's rules, both: the clamp keeps the loss finite at p = 0 or 1, and the gradient's
    floored denominator keeps a confidently wrong prediction learning (p = 0 with y = 1 gets
    -1e12 w, pushing p up) where the clamped log's own derivative would be 0. One fused op
    (ops.nn.BinaryCrossEntropy). weight w: broadcasts to the input's shape.
    For logits use binary_cross_entropy_with_logits: it is exact where this one clamps.
    """
    name = "binary_cross_entropy"
    target, weight = _binary_operands(name, input, target, weight, reduction)
    low = float(input.data.min()) if input.size else 0.0
    high = float(input.data.max()) if input.size else 1.0
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name}: input must be probabilities in [0, 1], got values from "
                         f"{low:.4g} to {high:.4g} (apply sigmoid first, or use "
                         "binary_cross_entropy_with_logits)")
    loss = _binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _softplus(z):
    """log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): no overflow at any z."""
    return maximum(z, 0.0) + ((-z.abs()).exp() + 1.0).log()


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE of sigmoid(input) and y, computed from the logit x without forming sigmoid:

        loss = (1 - y) x + (1 + (pos_weight - 1) y) log(1 + e^-x)      (times weight)

    which is -(pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) rewritten so that
    log(1 + e^-x) is evaluated stably (see _softplus): exact and finite even at x = +-1e4,
    where sigmoid(x) rounds to exactly 0 or 1, and so is its gradient: a confidently wrong
    logit keeps learning. pos_weight weighs the positive examples; it and weight broadcast to
    the input's shape (a (C,) pos_weight for (N, C) input: one per class). Gradient:
    sigmoid(x) - y when pos_weight is None.
    """
    name = "binary_cross_entropy_with_logits"
    target, weight = _binary_operands(name, input, target, weight, reduction)
    pos_weight = _elementwise_weight(name, input, pos_weight, "pos_weight")
    softplus_neg = _softplus(-input)  # = -log sigmoid(x)
    if pos_weight is None:
        loss = (1.0 - target) * input + softplus_neg
    else:
        loss = (1.0 - target) * input + ((pos_weight - 1.0) * target + 1.0) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def one_hot(labels, num_classes):
    """(...,) integer labels -> (..., num_classes) int64 rows with a single 1 (no gradient)."""
    if not isinstance(labels, Tensor):
        labels = Tensor(numpy.asarray(labels))
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    xp = labels.xp
    if labels.size and (int(labels.data.min()) < 0 or int(labels.data.max()) >= num_classes):
        raise ShapeError(f"one_hot: labels must be in [0, {num_classes}), got values from "
                         f"{int(labels.data.min())} to {int(labels.data.max())}")
    rows = xp.expand_dims(labels.data, -1) == xp.arange(num_classes)
    return Tensor._from_op(rows.astype(numpy.int64), labels.device, False)


__all__ = [
    "sigmoid", "softmax", "log_softmax", "relu", "tanh", "gelu", "leaky_relu", "entropy",
    "cross_entropy", "nll_loss", "kl_div", "mse_loss", "l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "one_hot", "REDUCTIONS",
    "scaled_dot_product_attention",
    "conv2d", "conv_transpose2d", "unfold", "fold", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "interpolate", "pixel_shuffle", "pixel_unshuffle", "straight_through",
]

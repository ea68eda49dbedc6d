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
import numbers

import numpy

from . import backend
from .errors import ArgumentError, DeviceError, DTypeError, ShapeError
from .ops.attention import scaled_dot_product_attention
from .ops.conv import conv1d as _conv1d
from .ops.conv2d import _edge_index, conv2d, conv_transpose2d, fold, unfold
from .ops.elementwise import (  # noqa: F401 (relu, tanh, gelu, leaky_relu: F.relu and so on)
    floating,
    gelu,
    leaky_relu,
    log1p,
    maximum,
    minimum,
    relu,
    tanh,
    where,
)
from .ops.embedding import embedding as _embedding
from .ops.linear import linear as _linear
from .ops.movement import pad as _pad
from .ops.nn import binary_cross_entropy as _binary_cross_entropy
from .ops.nn import check_finite as _check_finite
from .ops.nn import softmax_cross_entropy, squared_error
from .ops.normalization import layer_norm as _layer_norm
from .ops.pool import (
    adaptive_avg_pool2d,
    avg_pool2d,
    interpolate,
    max_pool2d,
    pixel_shuffle,
    pixel_unshuffle,
)
from .ops.quantize import straight_through
from .tensor import Tensor, as_tensor, constant, host_array

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


# ----- more activations (each composed from differentiable ops: exact, second-order) -----------
SELU_ALPHA = 1.6732632423543772848170429916717  # the fixed point of SELU's self-normalising map
SELU_SCALE = 1.0507009873554804934193349852946  # (Klambauer et al., 2017), as in PyTorch


def _is_number(value):
    """A real number (not a bool, not NaN): what a scalar setting of a function must be."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and not math.isnan(value))


def _activation_input(x, name):
    """x as a floating Tensor: integers and bools become float32 (as exp and log do)."""
    return floating(as_tensor(x, name))


def silu(x):
    """SiLU (swish): x * sigmoid(x);  d/dx = sigma(x) (1 + x (1 - sigma(x))). Any shape."""
    x = _activation_input(x, "silu")
    return x * x.sigmoid()


def _negative_part(x):
    """x where x <= 0, else 0: an exp of it never overflows, and the positive values get no
    gradient through this branch (``where`` sends the gradient to the side it took)."""
    return where(x > 0, 0.0, x)


def elu(x, alpha=1.0):
    """ELU: x for x > 0, alpha (e^x - 1) for x <= 0;  d/dx = 1, or alpha e^x (alpha at 0,
    as PyTorch). Any shape."""
    x = _activation_input(x, "elu")
    if not _is_number(alpha):
        raise ArgumentError(f"elu: alpha must be a number, got {alpha!r}")
    return where(x > 0, x, alpha * (_negative_part(x).exp() - 1.0))


def selu(x):
    """SELU: scale * elu(x, alpha) with the fixed constants SELU_SCALE and SELU_ALPHA that
    keep activations near mean 0, variance 1 through many layers. Any shape."""
    return SELU_SCALE * elu(_activation_input(x, "selu"), SELU_ALPHA)


def softplus(x, beta=1.0, threshold=20.0):
    """Softplus: (1 / beta) log(1 + e^(beta x)), a smooth relu;  d/dx = sigmoid(beta x).

    Where beta x > threshold it is x itself (as in PyTorch; the two differ by less than
    e^-threshold there). Evaluated as max(z, 0) + log(1 + e^-|z|), z = beta x: no overflow.
    """
    x = _activation_input(x, "softplus")
    if not _is_number(beta) or not beta > 0 or not _is_number(threshold):
        raise ArgumentError(f"softplus: beta must be a number > 0 and threshold a number, got "
                            f"{beta!r} and {threshold!r}")
    scaled = x * beta
    return where(scaled > threshold, x, _softplus(scaled) * (1.0 / beta))


def mish(x):
    """Mish: x * tanh(softplus(x)). Any shape."""
    x = _activation_input(x, "mish")
    return x * _softplus(x).tanh()


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val];  d/dx = 1 strictly inside, 0 at and beyond the bounds
    (PyTorch's rule at the bounds, where ``clip`` would pass the gradient)."""
    x = _activation_input(x, "hardtanh")
    if not (_is_number(min_val) and _is_number(max_val) and min_val < max_val):
        raise ArgumentError(f"hardtanh: need min_val < max_val, got {min_val} and {max_val}")
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x))


def softsign(x):
    """x / (1 + |x|), a slow-saturating tanh;  d/dx = 1 / (1 + |x|)^2. Any shape."""
    x = _activation_input(x, "softsign")
    return x / (x.abs() + 1.0)


def logsigmoid(x):
    """log sigmoid(x) = -softplus(-x), stable at both ends;  d/dx = 1 - sigmoid(x)."""
    return -_softplus(-_activation_input(x, "logsigmoid"))


def glu(x, dim=-1):
    """Gated linear unit: x split in halves a, b along ``dim``, out = a * sigmoid(b).

    x: (..., 2n, ...) -> (..., n, ...);  d/da = sigma(b), d/db = a sigma(b) (1 - sigma(b)).
    """
    x = _activation_input(x, "glu")
    if x.ndim == 0 or not -x.ndim <= dim < x.ndim or x.shape[dim] % 2:
        raise ShapeError(f"glu: the size along dim {dim} must be even, got shape {x.shape}")
    axis, half = dim % x.ndim, x.shape[dim] // 2
    a = x[(slice(None),) * axis + (slice(0, half),)]
    b = x[(slice(None),) * axis + (slice(half, None),)]
    return a * b.sigmoid()


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
    return constant(dist, like=input), count


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
            dist = dist * constant(weights, like=input)
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
    if input.size and not bool(loss.xp.isfinite(loss.data)):  # (an array test: tg.compile)
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


# ----- more regression and embedding losses -----------------------------------------------------
def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Smooth L1: with d = x - y,  0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.

    Quadratic near 0 (a gradient d / beta that shrinks as the fit improves), linear beyond
    beta (gradient sign(d), so outliers pull no harder than that). beta = 0 is L1.
    """
    name = "smooth_l1_loss"
    target = _regression_operands(name, input, target, reduction)
    _check_nonnegative(name, "beta", beta)
    diff = input - target
    if beta == 0:
        return _reduce(diff.abs(), reduction)
    small = diff.abs() < beta
    return _reduce(where(small, diff * diff * (0.5 / beta), diff.abs() - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber: with d = x - y,  0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta).

    huber_loss(delta) = delta * smooth_l1_loss(beta=delta): the same shape, with a gradient
    that saturates at +-delta instead of +-1.
    """
    name = "huber_loss"
    target = _regression_operands(name, input, target, reduction)
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta > 0:
        raise ArgumentError(f"{name}: delta must be a number > 0, got {delta!r}")
    diff = input - target
    small = diff.abs() <= delta
    return _reduce(where(small, diff * diff * 0.5, (diff.abs() - 0.5 * delta) * delta),
                   reduction)


def _check_nonnegative(name, what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ArgumentError(f"{name}: {what} must be a number >= 0, got {value!r}")


def _sign_labels(name, target, like, shape):
    """Labels y in {1, -1} of ``shape``, as a Tensor of like's dtype."""
    target = _as_tensor(target, like, name, "target")
    if target.shape != shape:
        raise ShapeError(f"{name}: target must have shape {shape}, got {target.shape}")
    values = target.data
    if target.size and not bool(((values == 1) | (values == -1)).all()):
        raise ArgumentError(f"{name}: target must hold only 1 and -1, got values "
                            f"{sorted(set(backend.to_numpy(values).ravel().tolist()))[:5]}")
    return target.astype(like.dtype)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """For distances x and labels y in {1, -1}:  x where y = 1,  max(0, margin - x) where
    y = -1. Similar pairs (y = 1) are pulled together, dissimilar ones pushed at least
    ``margin`` apart."""
    name = "hinge_embedding_loss"
    _check_reduction(name, reduction)
    _check_floating(name, input, "input")
    y = _sign_labels(name, target, input, input.shape)
    return _reduce(where(y > 0, input, relu(margin - input)), reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """max(0, -y (x1 - x2) + margin) for y in {1, -1}: y = 1 says x1 should rank higher than
    x2 by at least ``margin``, y = -1 the reverse. x1, x2, y: the same shape."""
    name = "margin_ranking_loss"
    _check_reduction(name, reduction)
    _check_floating(name, input1, "input1")
    input2 = _regression_operands(name, input1, input2, reduction)
    y = _sign_labels(name, target, input1, input1.shape)
    return _reduce(relu(-y * (input1 - input2) + margin), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """For pairs of vectors x1, x2 (N, D) (or (D,)) and labels y (N,) (or ()) in {1, -1}:

        1 - cos(x1, x2)              where y = 1   (make them point the same way)
        max(0, cos(x1, x2) - margin) where y = -1  (make them at most ``margin`` alike)

    cos = x1 . x2 / sqrt((||x1||^2 + 1e-12) (||x2||^2 + 1e-12)), as PyTorch computes it.
    """
    name = "cosine_embedding_loss"
    _check_reduction(name, reduction)
    _check_floating(name, input1, "input1")
    input2 = _as_tensor(input2, input1, name, "input2")
    if input1.ndim not in (1, 2) or input1.shape != input2.shape:
        raise ShapeError(f"{name}: input1 and input2 must both be (N, D) or (D,), got "
                         f"{input1.shape} and {input2.shape}")
    y = _sign_labels(name, target, input1, input1.shape[:-1])
    dot = (input1 * input2).sum(axis=-1)
    squares = ((input1 * input1).sum(axis=-1) + 1e-12) * ((input2 * input2).sum(axis=-1)
                                                         + 1e-12)
    cos = dot / squares.sqrt()
    return _reduce(where(y > 0, 1.0 - cos, relu(cos - margin)), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d = pairwise_distance(., ., p, eps): the
    anchor should be closer to the positive than to the negative by ``margin``. With
    swap=True, d(a, n) becomes min(d(a, n), d(p, n)) (the harder negative distance).
    anchor, positive, negative: (N, D) or (D,); output (N,) or () before reduction."""
    name = "triplet_margin_loss"
    _check_reduction(name, reduction)
    _check_floating(name, anchor, "anchor")
    positive = _as_tensor(positive, anchor, name, "positive")
    negative = _as_tensor(negative, anchor, name, "negative")
    if anchor.ndim not in (1, 2) or not anchor.shape == positive.shape == negative.shape:
        raise ShapeError(f"{name}: anchor, positive and negative must have one shape, (N, D) "
                         f"or (D,), got {anchor.shape}, {positive.shape}, {negative.shape}")
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = minimum(to_negative, pairwise_distance(positive, negative, p, eps))
    return _reduce(relu(to_positive - to_negative + margin), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """Negative log-likelihood of counts y under a Poisson of rate lambda (constant log y!
    dropped):  lambda - y log lambda.

    log_input=True: input is log lambda, loss = exp(input) - y input;  else input is lambda,
    loss = input - y log(input + eps). full=True adds Stirling's log y! ~ y log y - y +
    0.5 log(2 pi y) where y > 1.
    """
    name = "poisson_nll_loss"
    target = _regression_operands(name, input, target, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        counts = target.data
        safe = input.xp.where(counts > 1, counts, 1.0)
        stirling = input.xp.where(counts > 1, safe * input.xp.log(safe) - safe
                                  + 0.5 * input.xp.log(2 * math.pi * safe), 0.0)
        loss = loss + constant(stirling.astype(input.dtype), like=input)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of y under N(mean = input, variance = var):

        0.5 (log max(var, eps) + (input - y)^2 / max(var, eps))   (+ 0.5 log(2 pi) if full)

    var: input's shape, or with its last axis 1 or dropped (one variance per row). The
    clamp to eps changes the value only; the gradient flows to var as if unclamped (as in
    PyTorch, which clamps a copy without recording it).
    """
    name = "gaussian_nll_loss"
    target = _regression_operands(name, input, target, reduction)
    var = _as_tensor(var, input, name, "var")
    _check_floating(name, var, "var")
    if var.shape != input.shape and input.ndim and var.shape == input.shape[:-1]:
        var = var.unsqueeze(-1)
    if var.shape != input.shape and not (input.ndim and var.shape == input.shape[:-1] + (1,)):
        raise ShapeError(f"{name}: var must have the input's shape {input.shape}, or it with "
                         f"the last axis 1 or dropped, got {var.shape}")
    _check_finite(name, var, "var")
    if var.size and float(var.data.min()) < 0:
        raise ArgumentError(f"{name}: var must be >= 0, got a minimum of "
                            f"{float(var.data.min()):.4g}")
    clamped = var + (var.clip(eps, None) - var).detach()
    loss = 0.5 * (clamped.log() + (input - target) ** 2 / clamped)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


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
    """log(1 + e^z), with no overflow at any z: z + log(1 + e^-z) for z > 0, log(1 + e^z)
    otherwise. Each branch is smooth and exps only a value <= 0, so every derivative is
    right, at z = 0 too (sigmoid(z), sigmoid(z) (1 - sigmoid(z)), ...), and a tiny value
    such as softplus(-40) = 4e-18 keeps its digits."""
    positive = z > 0
    return where(positive, z + log1p((-where(positive, z, 0.0)).exp()),
                 log1p(_negative_part(z).exp()))


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


# ----- functional forms of the layers ----------------------------------------------------------
def linear(input, weight, bias=None):
    """y = x W^T + b;  x (..., in), W (out, in), b (out,) -> y (..., out). One op
    (ops/linear.py), the one nn.Linear calls."""
    return _linear(as_tensor(input, "linear"), weight, bias)


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Inverted dropout: y = x * m / (1 - p), m_i ~ Bernoulli(1 - p), when ``training``;
    y = x otherwise. The mask is drawn on the host from ``generator`` (default: nn.init's
    generator, reset by manual_seed) and moved to x's device. inplace is accepted for
    PyTorch's signature; the result is always a new tensor (x is left as it was)."""
    x = as_tensor(input, "dropout")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    if generator is None:
        from .nn import init  # (here, not at the top: nn imports this module)
        generator = init.get_generator()
    keep = generator.random(x.shape) >= p
    # 1 / (1 - p) is divided out in float64 and then rounded once, to x's own dtype
    scale = (keep / (1.0 - p)).astype(x.dtype)
    return x * constant(backend.from_numpy(scale, x.device), like=x)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) axes
    (biased variance); one op (ops/normalization.py), the one nn.LayerNorm calls."""
    x = as_tensor(input, "layer_norm")
    if isinstance(normalized_shape, (int, numpy.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if x.ndim < k or x.shape[x.ndim - k:] != normalized_shape:
        raise ShapeError(f"layer_norm: expected input of shape (..., "
                         f"{', '.join(map(str, normalized_shape))}), got {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"layer_norm: needs a floating input, got dtype {x.dtype}")
    return _layer_norm(x, normalized_shape, weight, bias, eps)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) of x (N, C, ...) with statistics over every other axis.

    training:  y = (x - mean_B) / sqrt(var_B + eps) * weight + bias  (biased var_B), and the
               running statistics (when given) move in place towards the batch's:
               running <- (1 - momentum) running + momentum batch   (unbiased var here)
    eval:      running_mean and running_var replace the batch's statistics.
    weight, bias, running_mean, running_var: (C,) or None. As torch.nn.functional.batch_norm.
    """
    name = "batch_norm"
    x = as_tensor(input, name)
    if x.dtype.kind != "f":
        raise DTypeError(f"{name}: needs a floating input, got dtype {x.dtype}")
    if x.ndim < 2:
        raise ShapeError(f"{name}: expected input (N, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (channels,)):
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ShapeError(f"{name}: {what} must be a Tensor of shape ({channels},), got "
                             f"{got}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if training or running_mean is None or running_var is None:
        count = x.size // max(channels, 1)
        if training and count < 2:
            raise ShapeError(f"{name}: training needs more than one value per channel, got "
                             f"input of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        if training and running_mean is not None and running_var is not None:
            unbiased = var.data.reshape(-1) * (count / max(count - 1, 1))
            for running, batch in ((running_mean, mean.data.reshape(-1)),
                                   (running_var, unbiased)):
                running.data = ((1 - momentum) * running.data
                                + momentum * batch).astype(running.dtype)
    else:
        mean = running_mean.detach().reshape(shape)
        var = running_var.detach().reshape(shape)
    y = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ids ``input`` (...):
    y (..., dim). The padding_idx row gets no gradient. One op (ops/embedding.py)."""
    ids = as_tensor(input, "embedding") if not isinstance(input, Tensor) else input
    if ids.dtype.kind not in "iu":
        raise DTypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be a 2-d Tensor (num_embeddings, dim), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    rows = weight.shape[0]
    if ids.size and (int(ids.data.min()) < 0 or int(ids.data.max()) >= rows):
        raise ShapeError(f"embedding: ids must be in [0, {rows}), got values from "
                         f"{int(ids.data.min())} to {int(ids.data.max())}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += rows
    if ids.device != weight.device:
        ids = Tensor(ids.numpy(), device=weight.device)
    return _embedding(ids, weight, padding_idx)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation), as torch.nn.functional.conv1d:

        y[n, o, l] = b[o] + sum over c in o's group, k of w[o, c, k] x[n, c, l*s + k*d]
        x (N, C_in, L) or (C_in, L);  w (C_out, C_in / groups, K);  b (C_out,)

    padding: an int, 'same' or 'valid' (zeros; other modes: pad first with F.pad). groups=1
    is the Conv1d op (ops/conv.py); groups > 1 is conv2d over an image of height 1."""
    x = as_tensor(input, "conv1d")
    if groups == 1:
        return _conv1d(x, weight, bias, stride, padding, dilation)
    if x.ndim not in (2, 3) or not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ShapeError(f"conv1d: expected input (N, C_in, L) or (C_in, L) and weight "
                         f"(C_out, C_in / groups, K), got {x.shape} and "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    height = 0 if isinstance(padding, str) else (0, padding)
    y = conv2d(x.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, stride),
               padding if isinstance(padding, str) else height, (1, dilation), groups)
    return y.squeeze(-2)


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad the last axes, as torch.nn.functional.pad: ``pad`` = (left, right) for the last
    axis, then (left, right) for the one before, and so on (at most two per axis).

    constant:  ``value`` (default 0) around x        reflect:  mirrored, edge not repeated
    replicate: the edge value repeated               circular: wrapped around
    The gradient of reflect/replicate/circular is a scatter-add: each copy sends its
    gradient back to the element it copies. (For NumPy-style widths use tg.pad.)"""
    x = as_tensor(input, "pad")
    widths = list(pad) if isinstance(pad, (tuple, list)) else None
    if (widths is None or len(widths) % 2 or len(widths) > 2 * x.ndim
            or not all(isinstance(w, (int, numpy.integer)) and w >= 0 for w in widths)):
        raise ShapeError(f"pad: pad must be an even-length tuple of ints >= 0, two per padded "
                         f"axis and at most {2 * x.ndim} for shape {x.shape}, got {pad!r}")
    if mode not in PAD_MODES:
        raise ArgumentError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    pairs = [(int(widths[i]), int(widths[i + 1])) for i in range(0, len(widths), 2)]
    per_axis = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]  # first axis first
    if mode == "constant":
        return _pad(x, per_axis, value=0.0 if value is None else value)
    if value is not None:
        raise ArgumentError(f"pad: value applies to mode 'constant' only, got mode {mode!r}")
    for axis, (before, after) in enumerate(per_axis):
        if not (before or after):
            continue
        size = x.shape[axis]
        limit = size - 1 if mode == "reflect" else size if mode == "circular" else None
        if size == 0 or (limit is not None and max(before, after) > limit):
            raise ShapeError(f"pad: padding ({before}, {after}) of axis {axis} (size {size}) "
                             f"is too large for mode {mode!r} (at most {limit})")
        index = _edge_index(size, before, after, "reflect" if mode == "reflect" else mode)
        x = x[(slice(None),) * axis + (index,)]
    return x


def _p_norm(x, p, dim, keepdim):
    """(sum |x|^p)^(1/p) along dim; max |x| for p = inf. A zero vector's norm is 0 with a zero
    gradient (the root is taken of a safe value there: 0^(1/p) has an infinite slope)."""
    if p == math.inf:
        return x.abs().max(axis=dim, keepdims=keepdim)
    if p == 1:
        return x.abs().sum(axis=dim, keepdims=keepdim)
    total = (x * x if p == 2 else x.abs() ** p).sum(axis=dim, keepdims=keepdim)
    nonzero = total > 0
    return where(nonzero, where(nonzero, total, 1.0) ** (1.0 / p), 0.0)


def _check_norm_order(name, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ArgumentError(f"{name}: p must be a number > 0 (or math.inf), got {p!r}")


def _check_dim(name, x, dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, numpy.integer)) \
            or not -x.ndim <= dim < x.ndim:
        raise ShapeError(f"{name}: dim {dim!r} is out of range for shape {x.shape}")


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """v / max(||v||_p, eps) for each vector v along ``dim`` (shape unchanged), as
    torch.nn.functional.normalize. eps keeps a zero vector at 0 instead of 0/0."""
    x = as_tensor(input, "normalize")
    _check_norm_order("normalize", p)
    _check_dim("normalize", x, dim)
    return x / maximum(_p_norm(x, p, dim, keepdim=True), eps)


def _broadcast_pair(name, x1, x2):
    x1 = as_tensor(x1, name)
    x2 = _as_tensor(x2, x1, name, "x2")
    try:
        shape = numpy.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"{name}: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not "
                         "broadcast") from None
    return x1, x2, shape


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` of their broadcast shape
    (that axis removed), as torch.nn.functional.cosine_similarity."""
    x1, x2, shape = _broadcast_pair("cosine_similarity", x1, x2)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    _check_dim("cosine_similarity", x1, dim)
    dot = (x1 * x2).sum(axis=dim)
    norms = maximum(_p_norm(x1, 2, dim, False), eps) * maximum(_p_norm(x2, 2, dim, False), eps)
    return dot / norms


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last axis, as torch.nn.functional.pairwise_distance
    (eps keeps the norm's gradient finite when x1 = x2). (N, D), (N, D) -> (N,)."""
    x1, x2, shape = _broadcast_pair("pairwise_distance", x1, x2)
    _check_norm_order("pairwise_distance", p)
    if not shape:
        raise ShapeError("pairwise_distance: needs vectors (at least 1-d), got 0-d inputs")
    return _p_norm(x1 - x2 + eps, p, -1, keepdim)


# ----- 1-d pooling: the 2-d pooling of an image of height 1 ------------------------------------
def _as_sequence_image(name, input):
    x = as_tensor(input, name)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected input (N, C, L) or (C, L), got {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{name}: needs a floating input, got dtype {x.dtype}")
    return x.unsqueeze(-2)  # (N, C, 1, L)


def _single(name, what, value, low=1):
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or value < low:
        raise ShapeError(f"{name}: {what} must be an int >= {low}, got {value!r}")
    return int(value)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1):
    """The largest value of each window of kernel_size positions: (N, C, L) -> (N, C, L_out),
    L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1."""
    name = "max_pool1d"
    x = _as_sequence_image(name, input)
    k = _single(name, "kernel_size", kernel_size)
    s = k if stride is None else _single(name, "stride", stride)
    return max_pool2d(x, (1, k), (1, s), (0, _single(name, "padding", padding, 0)),
                      (1, _single(name, "dilation", dilation))).squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, count_include_pad=True):
    """The mean of each window of kernel_size positions (zero padding, counted in the mean
    unless count_include_pad=False): (N, C, L) -> (N, C, L_out)."""
    name = "avg_pool1d"
    x = _as_sequence_image(name, input)
    k = _single(name, "kernel_size", kernel_size)
    s = k if stride is None else _single(name, "stride", stride)
    return avg_pool2d(x, (1, k), (1, s), (0, _single(name, "padding", padding, 0)),
                      count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Averages over output_size nearly equal cells, whatever L: (N, C, L) -> (N, C, out);
    cell i covers positions floor(i L / out) to ceil((i + 1) L / out) (as PyTorch)."""
    name = "adaptive_avg_pool1d"
    x = _as_sequence_image(name, input)
    size = _single(name, "output_size", output_size)
    return adaptive_avg_pool2d(x, (1, size)).squeeze(-2)


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
    return constant(rows.astype(numpy.int64), like=labels)


__all__ = [
    "sigmoid", "softmax", "log_softmax", "relu", "tanh", "gelu", "leaky_relu", "entropy",
    "cross_entropy", "nll_loss", "kl_div", "mse_loss", "l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "one_hot", "REDUCTIONS",
    "scaled_dot_product_attention",
    "conv2d", "conv_transpose2d", "unfold", "fold", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "interpolate", "pixel_shuffle", "pixel_unshuffle", "straight_through",
    "silu", "elu", "selu", "softplus", "mish", "hardtanh", "softsign", "logsigmoid", "glu",
    "linear", "dropout", "layer_norm", "batch_norm", "embedding", "conv1d", "pad", "normalize",
    "cosine_similarity", "pairwise_distance", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
    "smooth_l1_loss", "huber_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
]

"""Elementwise ops. Each output element depends on the matching input elements only, so each
backward is the upstream gradient times the local derivative:  dL/dx = dL/dy * dy/dx.

Binary ops broadcast like NumPy; their backward sums the gradient back to each input's shape
(``sum_to_shape``). Python numbers take the dtype of the tensor they meet (no silent float64).
"""

import math

import numpy

from .. import backend
from ..autograd import Function, is_grad_enabled
from ..errors import DeviceError, DTypeError, ShapeError
from ..inplace import mark_modified_in_place
from ..tensor import NUMERIC_KINDS, Tensor, as_dtype, as_tensor, constant, host_array
from .broadcast import sum_to_shape


def as_operand(value, like, op):
    """Turn a number or array into a constant Tensor on ``like``'s device, keeping its dtype;
    None, text, objects and complex numbers raise DTypeError naming the op (``host_array``)."""
    if isinstance(value, Tensor):
        return value
    if type(value) in (float, int) and like.dtype.kind == "f":  # the common x * 0.5: no detour
        return constant(like.xp.asarray(value, dtype=like.dtype), like=like)
    if backend.is_device_array(value):
        if value.dtype.kind not in NUMERIC_KINDS:  # object, text or complex arrays
            host_array(value, op)  # raises, naming the op
        if backend.device_of(value) != like.device:
            raise DeviceError(
                f"{op}: got a {backend.device_of(value)} array to combine with a tensor on "
                f"'{like.device}'; wrap it as tensor(array, device='{like.device}') first"
            )
        return Tensor(value, dtype=like.dtype if value.dtype.kind == "f" else None,
                      device=like.device)
    host = host_array(value, op)
    if host.dtype.kind == "f" or like.dtype.kind == "f":
        dtype = like.dtype if like.dtype.kind == "f" else backend.DEFAULT_FLOAT
    else:
        dtype = host.dtype
    data = like.xp.asarray(backend.from_numpy(host.astype(dtype), like.device))
    return constant(data, like=like)


def _operands(a, b, like, op):
    if like is None:  # the first Tensor sets the device and dtype; without one, a's own
        like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else as_tensor(a, op)
    a, b = as_operand(a, like, op), as_operand(b, like, op)
    # An integer tensor meeting a floating one takes its dtype, as in PyTorch (NumPy would
    # silently turn int64 with float32 into float64).
    if a.dtype.kind == "f" and b.dtype.kind != "f":
        b = b.astype(a.dtype)
    elif b.dtype.kind == "f" and a.dtype.kind != "f":
        a = a.astype(b.dtype)
    return a, b


def floating(x):
    """``x`` as is when floating, else in float32: exp, log, 1/x ... of integers give float32,
    as in PyTorch (NumPy would give float64)."""
    return x if x.dtype.kind == "f" else x.astype(backend.DEFAULT_FLOAT)


# ----- arithmetic ---------------------------------------------------------------------------
class Add(Function):
    """y = a + b;   dL/da = dL/dy,   dL/db = dL/dy   (summed over broadcast axes).
    inplace=True writes y into a's array (see ``add``)."""

    def forward(self, a, b, inplace=False):
        return self.xp.add(a, b, out=a) if inplace else a + b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to_shape(grad, a.shape) if need_a else None,
                sum_to_shape(grad, b.shape) if need_b else None)


class Sub(Function):
    """y = a - b;   dL/da = dL/dy,   dL/db = -dL/dy."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to_shape(grad, a.shape) if need_a else None,
                sum_to_shape(-grad, b.shape) if need_b else None)


class Mul(Function):
    """y = a * b;   dL/da = dL/dy * b,   dL/db = dL/dy * a."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        grad_a = sum_to_shape(grad * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = sum_to_shape(grad * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """y = a / b;   dL/da = dL/dy / b,   dL/db = -dL/dy * a / b^2."""

    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        grad_a = sum_to_shape(grad / b, a.shape) if self.needs_input_grad[0] else None
        grad_b = sum_to_shape(-grad * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """y = -x;   dL/dx = -dL/dy."""

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """y = x^p for a fixed number p;   dL/dx = dL/dy * p x^(p-1)."""

    def forward(self, x, exponent):
        self.exponent = exponent
        return x ** x.dtype.type(exponent) if x.dtype.kind == "f" else x ** exponent

    def backward(self, grad):
        (x,) = self.inputs
        p = self.exponent
        if p == 0:  # x^0 = 1 is constant; p x^(p-1) would give 0 * inf = nan at x = 0
            return grad * 0.0
        if p == 2:
            return grad * x * 2.0
        return grad * p * x ** (p - 1)


class Pow(Function):
    """y = a^b for tensors a and b;   dL/da = dL/dy * b a^(b-1),   dL/db = dL/dy * y ln a.

    At base a = 0 the formulas meet 0 * inf; PyTorch's conventions give the limits instead:
      * dy/da = 0 where b = 0 (y = a^0 = 1 is constant), 0^0 included;
      * dy/db = 0 where a = 0 and b >= 0 (y = 0^b is 0 for every b > 0).
    Elsewhere at a = 0 the derivative is infinite and so reported (b a^(b-1) for 0 < b < 1).
    The masked spots take safe values (a^0 for the first, ln 1 for the second) rather than
    computing NaN and hiding it, so differentiating the gradient again stays finite too.
    """

    def forward(self, a, b):
        return a ** b

    def backward(self, grad):
        a, b = self.inputs
        base_is_zero = a.data == 0
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            at_zero = constant(base_is_zero & (b.data == 0), like=grad)
            power = where(at_zero, 0.0, b - 1.0)  # 0 * a^0 = 0 where b = 0, even at a = 0
            grad_a = sum_to_shape(grad * b * a ** power, a.shape)
        if self.needs_input_grad[1]:
            flat = constant(base_is_zero & (b.data >= 0), like=grad)
            grad_b = sum_to_shape(grad * self.output * where(flat, 1.0, a).log(), b.shape)
        return grad_a, grad_b


def _fits_into(a, b):
    """Whether a + b has a's own shape and dtype (so it can be written into a's array)."""
    return ((a.shape == b.shape or numpy.broadcast_shapes(a.shape, b.shape) == a.shape)
            and (a.dtype == b.dtype or numpy.result_type(a.dtype, b.dtype) == a.dtype))


def add(a, b, like=None, inplace=False):
    """a + b. inplace=True writes the sum into a's own array (PyTorch's a.add_(b)): no new
    array, and the values stay hot in the cache. For a fresh op output that no backward
    needs, e.g. the residual x + sublayer(x) added into the sublayer's output; backward
    raises if an op did need a's old values (see inplace.py). Falls back to a
    new array when the sum would not fit a's shape and dtype."""
    a, b = _operands(a, b, like, "add")
    if not inplace or not _fits_into(a, b):
        return Add.apply(a, b)
    mark_modified_in_place(a, "add")  # before apply: Add itself must not object
    return Add.apply(a, b, inplace=True)


def sub(a, b, like=None):
    return Sub.apply(*_operands(a, b, like, "sub"))


def mul(a, b, like=None):
    return Mul.apply(*_operands(a, b, like, "mul"))


def div(a, b, like=None):
    a, b = _operands(a, b, like, "div")
    return Div.apply(floating(a), floating(b))


def neg(x):
    return Neg.apply(x)


def pow(base, exponent, like=None):
    """base ** exponent; a plain-number exponent uses the simpler PowScalar."""
    if isinstance(base, Tensor) and isinstance(exponent, (int, float)):
        if isinstance(exponent, float):
            base = floating(base)
        return PowScalar.apply(base, exponent=exponent)
    return Pow.apply(*_operands(base, exponent, like, "pow"))


# ----- functions of one input --------------------------------------------------------------
class Exp(Function):
    """y = e^x;   dL/dx = dL/dy * y."""

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """y = ln x (x > 0);   dL/dx = dL/dy / x."""

    def forward(self, x):
        return self.xp.log(x)

    def backward(self, grad):
        return grad / self.inputs[0]


class Sqrt(Function):
    """y = sqrt(x) (x > 0);   dL/dx = dL/dy / (2 y)."""

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, grad):
        return grad / (self.output * 2.0)


class Abs(Function):
    """y = |x|;   dL/dx = dL/dy * sign(x)  (0 at x = 0, the subgradient PyTorch uses)."""

    def forward(self, x):
        self.sign = self.xp.sign(x)
        return self.xp.abs(x)

    def backward(self, grad):
        return grad * constant(self.sign, like=grad)


class Tanh(Function):
    """y = tanh x;   dL/dx = dL/dy * (1 - y^2)."""

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, grad):
        y = self.output
        return grad * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);   dL/dx = dL/dy * y (1 - y).

    Computed as e^(x - log(1 + e^x)) through logaddexp, so large |x| neither overflows nor
    loses the tiny values near 0.
    """

    def forward(self, x):
        xp = self.xp
        return xp.exp(-xp.logaddexp(x.dtype.type(0), -x))

    def backward(self, grad):
        y = self.output
        return grad * y * (1.0 - y)


class Relu(Function):
    """y = max(x, 0);   dL/dx = dL/dy * [y > 0]  (0 at the kink x = 0, as in PyTorch).

    The mask [y > 0] is recomputed from the output in the backward rather than kept from the
    forward: one array less held by the graph. (x * [x > 0] would be a little faster than
    maximum, but gives NaN for x = -inf: -inf * 0.)
    """

    def forward(self, x, inplace=False):
        return self.xp.maximum(x, x.dtype.type(0), out=x if inplace else None)

    def backward(self, grad):
        positive = self.output.data > 0
        if is_grad_enabled():  # create_graph=True: a product with a constant mask, an op
            return grad * constant(positive.astype(grad.dtype), like=grad)
        return constant(grad.data * positive, like=grad)


class LeakyRelu(Function):
    """y = x if x > 0 else slope * x;   dL/dx = dL/dy * (1 if x > 0 else slope)."""

    def forward(self, x, negative_slope):
        self.slope = self.xp.where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope))
        return x * self.slope

    def backward(self, grad):
        return grad * constant(self.slope, like=grad)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt;   dL/dx = dL/dy * 2/sqrt(pi) e^(-x^2)."""

    def forward(self, x):
        return backend.erf(self.xp, x)

    def backward(self, grad):
        x = self.inputs[0]
        return grad * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi))


class Gelu(Function):
    """y = x Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2  (the standard normal CDF);
    dL/dx = dL/dy (Phi(x) + x phi(x)),  phi(x) = e^(-x^2 / 2) / sqrt(2 pi)  (its density).

    One op instead of five (scale, erf, +1, *0.5, *x), so the backward is one product with
    the local derivative instead of a chain of five backward steps; Phi is kept from the
    forward. With create_graph=True the derivative is rebuilt from ops, so it can be
    differentiated again.
    """

    def forward(self, x):
        cdf = backend.erf(self.xp, x * x.dtype.type(1.0 / math.sqrt(2.0)))
        cdf += 1
        cdf *= x.dtype.type(0.5)
        self.cdf = cdf
        return x * cdf

    def backward(self, grad):
        x = self.inputs[0]
        if is_grad_enabled():  # create_graph=True: the derivative must depend on x
            cdf = (erf(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5
            pdf = (x * x * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))
            return grad * (cdf + x * pdf)
        x = x.data
        derivative = self.xp.exp(x * x * x.dtype.type(-0.5))
        derivative *= x.dtype.type(1.0 / math.sqrt(2.0 * math.pi))
        derivative *= x
        derivative += self.cdf
        if grad.dtype == derivative.dtype:
            derivative *= grad.data  # our own fresh array: the product goes in place
        else:
            derivative = derivative * grad.data
        return constant(derivative, like=grad)


class Clip(Function):
    """y = min(max(x, lo), hi);   dL/dx = dL/dy where lo <= x <= hi, else 0 (as in PyTorch)."""

    def forward(self, x, lo, hi):
        xp = self.xp
        inside = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        self.inside = inside
        return xp.clip(x, lo, hi)

    def backward(self, grad):
        return grad * constant(self.inside.astype(grad.dtype), like=grad)


class Cast(Function):
    """y = x as another dtype;   dL/dx = dL/dy cast back to x's dtype."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.inputs[0].dtype)


def exp(x):
    return Exp.apply(floating(as_tensor(x, "exp")))


def log(x):
    return Log.apply(floating(as_tensor(x, "log")))


def sqrt(x):
    return Sqrt.apply(floating(as_tensor(x, "sqrt")))


def abs(x):
    return Abs.apply(x)


def tanh(x):
    return Tanh.apply(floating(as_tensor(x, "tanh")))


def sigmoid(x):
    return Sigmoid.apply(floating(as_tensor(x, "sigmoid")))


def relu(x, inplace=False):
    """max(x, 0). inplace=True writes the result into x's own array (as PyTorch's
    F.relu(x, inplace=True)): no new array, and the values stay hot in the cache. Safe when
    nothing else still needs x's old values, e.g. x is a Linear's output, used only here;
    backward raises if an op did need them (see inplace.py)."""
    if not inplace:
        return Relu.apply(x)
    x = as_tensor(x, "relu")
    mark_modified_in_place(x, "relu")  # before apply: Relu itself must not object
    return Relu.apply(x, inplace=True)


def leaky_relu(x, negative_slope=0.01):
    if isinstance(x, Tensor) and x.dtype.kind != "f":  # the slope would round to 0
        raise DTypeError(f"leaky_relu: needs a floating tensor, got dtype {x.dtype} (shape "
                         f"{x.shape}); convert with .float() first (PyTorch refuses too)")
    return LeakyRelu.apply(x, negative_slope=negative_slope)


def erf(x):
    return Erf.apply(floating(as_tensor(x, "erf")))


# Past |x| = 10 the tanh in gelu(approximate="tanh") is exactly +-1 (see gelu).
GELU_TANH_SATURATION = 10.0


def gelu(x, approximate="none"):
    """GELU(x) = x * Phi(x), Phi the standard normal CDF = (1 + erf(x / sqrt 2)) / 2.

    approximate="tanh" uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch does.
    The exact form is one fused op (``Gelu`` above); the tanh form is built from
    differentiable ops, so its gradient (and second derivative) come for free.

    In the tanh form x is clipped to [-10, 10] inside the tanh only. That changes no output:
    from |x| = 10 on, the tanh's argument is beyond 43 and tanh rounds to exactly +-1, in
    float64 as in float32. But it keeps x^3 from overflowing (float32 does at |x| > 7e12),
    where the chain rule would multiply tanh's derivative 0 by an infinite dx^3/dx and give
    a NaN gradient; clipped, the gradient is the right 1 (x > 10) or 0 (x < -10).
    """
    if approximate == "tanh":
        bounded = x.clip(-GELU_TANH_SATURATION, GELU_TANH_SATURATION)
        inner = (bounded + bounded * bounded * bounded * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (tanh(inner) + 1.0)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(floating(as_tensor(x, "gelu")))


def clip(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return Clip.apply(x, lo=min, hi=max)


def astype(x, dtype):
    dtype = as_dtype(dtype, "astype")
    if dtype == x.dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return x.detach().astype(dtype)  # an integer copy carries no gradient
    return Cast.apply(x, dtype=dtype)


# ----- choosing between inputs --------------------------------------------------------------
class Where(Function):
    """y = a where condition else b.

    dL/da = dL/dy * condition,   dL/db = dL/dy * (1 - condition).
    """

    def forward(self, a, b, condition):
        self.condition = condition
        return self.xp.where(condition, a, b)

    def backward(self, grad):
        a, b = self.inputs
        chosen = constant(self.condition.astype(grad.dtype), like=grad)
        grad_a = sum_to_shape(grad * chosen, a.shape) if self.needs_input_grad[0] else None
        grad_b = (sum_to_shape(grad * (1.0 - chosen), b.shape)
                  if self.needs_input_grad[1] else None)
        return grad_a, grad_b


class Maximum(Function):
    """y = max(a, b) elementwise; the gradient goes to the larger input (split evenly on ties)."""

    pick_larger = True

    def forward(self, a, b):
        xp = self.xp
        a_wins = (a > b) if self.pick_larger else (a < b)
        self.share_a = xp.where(a == b, 0.5, a_wins.astype(xp.float64)).astype(
            xp.result_type(a, b))
        return xp.maximum(a, b) if self.pick_larger else xp.minimum(a, b)

    def backward(self, grad):
        a, b = self.inputs
        share_a = constant(self.share_a, like=grad)
        grad_a = sum_to_shape(grad * share_a, a.shape) if self.needs_input_grad[0] else None
        grad_b = (sum_to_shape(grad * (1.0 - share_a), b.shape)
                  if self.needs_input_grad[1] else None)
        return grad_a, grad_b


class Minimum(Maximum):
    """y = min(a, b) elementwise; the gradient goes to the smaller input (split evenly on ties)."""

    pick_larger = False


def where(condition, a, b):
    """Elementwise choice; ``condition`` is a bool tensor/array and gets no gradient."""
    a, b = _operands(a, b, None, "where")
    condition = as_operand(condition, a, "where").data.astype(bool)
    return Where.apply(a, b, condition=condition)


def maximum(a, b):
    return Maximum.apply(*_operands(a, b, None, "maximum"))


def minimum(a, b):
    return Minimum.apply(*_operands(a, b, None, "minimum"))


# ----- comparisons: bool results, no gradient -----------------------------------------------
_COMPARISONS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
                "gt": "greater", "ge": "greater_equal"}


def compare(kind, a, b):
    """a == b, a < b, ... elementwise: a bool Tensor outside the graph."""
    a, b = _operands(a, b, None, kind)
    try:
        result = getattr(a.xp, _COMPARISONS[kind])(a.data, b.data)
    except ValueError:
        raise ShapeError(f"{kind}: cannot compare tensors of shapes {a.shape} and {b.shape}: "
                         "they do not broadcast") from None
    return constant(result, like=a)


# ----- trigonometric and hyperbolic functions -----------------------------------------------
class Sin(Function):
    """y = sin x;   dL/dx = dL/dy * cos x."""

    def forward(self, x):
        return self.xp.sin(x)

    def backward(self, grad):
        return grad * cos(self.inputs[0])


class Cos(Function):
    """y = cos x;   dL/dx = -dL/dy * sin x."""

    def forward(self, x):
        return self.xp.cos(x)

    def backward(self, grad):
        return -grad * sin(self.inputs[0])


class Tan(Function):
    """y = tan x;   dL/dx = dL/dy * (1 + y^2)  (= 1 / cos^2 x)."""

    def forward(self, x):
        return self.xp.tan(x)

    def backward(self, grad):
        y = self.output
        return grad * (1.0 + y * y)


class Sinh(Function):
    """y = sinh x = (e^x - e^-x) / 2;   dL/dx = dL/dy * cosh x.

    Its own op rather than the formula, which loses all digits near 0 (e^x - e^-x cancels)."""

    def forward(self, x):
        return self.xp.sinh(x)

    def backward(self, grad):
        return grad * cosh(self.inputs[0])


class Cosh(Function):
    """y = cosh x = (e^x + e^-x) / 2;   dL/dx = dL/dy * sinh x."""

    def forward(self, x):
        return self.xp.cosh(x)

    def backward(self, grad):
        return grad * sinh(self.inputs[0])


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a) in (-pi, pi]  (a and b broadcast).

    dL/da = dL/dy * b / (a^2 + b^2),   dL/db = -dL/dy * a / (a^2 + b^2)
    (undefined at the origin a = b = 0, where the angle jumps).
    """

    def forward(self, a, b):
        return self.xp.arctan2(a, b)

    def backward(self, grad):
        a, b = self.inputs
        scale = grad / (a * a + b * b)
        grad_a = sum_to_shape(scale * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = sum_to_shape(-scale * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


# ----- exponentials and logarithms near 0 ---------------------------------------------------
class Expm1(Function):
    """y = e^x - 1, accurate for tiny x (where exp(x) - 1 loses the digits);
    dL/dx = dL/dy * (y + 1)."""

    def forward(self, x):
        return self.xp.expm1(x)

    def backward(self, grad):
        return grad * (self.output + 1.0)


class Log1p(Function):
    """y = ln(1 + x) (x > -1), accurate for tiny x;   dL/dx = dL/dy / (1 + x)."""

    def forward(self, x):
        return self.xp.log1p(x)

    def backward(self, grad):
        return grad / (self.inputs[0] + 1.0)


# ----- piecewise constant: floor, ceil, round, trunc, sign ----------------------------------
class PiecewiseConstant(Function):
    """y = floor x, ceil x, round x (half to even, as NumPy and PyTorch), trunc x or sign x.

    Each is constant between its jumps, so dL/dx = 0 wherever it is differentiable; at a
    jump the derivative does not exist and 0 is taken too (PyTorch's convention). The
    gradient is therefore always zero: a model cannot learn through rounding (use
    ``straight_through`` for that).
    """

    def forward(self, x, kind, decimals=0):
        if kind == "round":
            return self.xp.round(x, decimals)
        return getattr(self.xp, kind)(x)

    def backward(self, grad):
        return grad * 0.0


def sin(x):
    return Sin.apply(floating(as_tensor(x, "sin")))


def cos(x):
    return Cos.apply(floating(as_tensor(x, "cos")))


def tan(x):
    return Tan.apply(floating(as_tensor(x, "tan")))


def sinh(x):
    return Sinh.apply(floating(as_tensor(x, "sinh")))


def cosh(x):
    return Cosh.apply(floating(as_tensor(x, "cosh")))


def atan2(a, b):
    """The angle of (b, a): atan2(a, b) in (-pi, pi], elementwise with broadcasting
    (NumPy's arctan2, also accepted under that name)."""
    a, b = _operands(a, b, None, "atan2")
    return Atan2.apply(floating(a), floating(b))


arctan2 = atan2


def expm1(x):
    return Expm1.apply(floating(as_tensor(x, "expm1")))


def log1p(x):
    return Log1p.apply(floating(as_tensor(x, "log1p")))


def log2(x):
    """log2 x = ln x / ln 2 (composed: the gradient 1 / (x ln 2) comes from Log)."""
    return log(as_tensor(x, "log2")) * (1.0 / math.log(2.0))


def log10(x):
    """log10 x = ln x / ln 10 (composed)."""
    return log(as_tensor(x, "log10")) * (1.0 / math.log(10.0))


def rsqrt(x):
    """1 / sqrt(x) = x^(-1/2) (composed: dL/dx = -dL/dy x^(-3/2) / 2)."""
    return floating(as_tensor(x, "rsqrt")) ** -0.5


def reciprocal(x):
    """1 / x (composed from div: dL/dx = -dL/dy / x^2)."""
    x = as_tensor(x, "reciprocal")
    return div(1.0, x, like=x)


def _piecewise_constant(x, kind, decimals=0):
    x = as_tensor(x, kind)
    if x.dtype.kind in "biu" and kind != "sign":
        return x  # integers are already whole: floor, ceil, round and trunc keep them
    return PiecewiseConstant.apply(x, kind=kind, decimals=decimals)


def floor(x):
    """The largest integer <= x, elementwise; zero gradient (see PiecewiseConstant)."""
    return _piecewise_constant(x, "floor")


def ceil(x):
    """The smallest integer >= x, elementwise; zero gradient (see PiecewiseConstant)."""
    return _piecewise_constant(x, "ceil")


def round(x, decimals=0):
    """x rounded to ``decimals`` places, halves to even (as NumPy and PyTorch); zero gradient."""
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise DTypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    return _piecewise_constant(x, "round", decimals)


def trunc(x):
    """x with its fractional part dropped (towards 0); zero gradient (see PiecewiseConstant)."""
    return _piecewise_constant(x, "trunc")


def sign(x):
    """-1, 0 or 1 as x is negative, zero or positive; zero gradient (see PiecewiseConstant)."""
    return _piecewise_constant(x, "sign")


def clamp(x, min=None, max=None):
    """min(max(x, min), max): ``clip`` under PyTorch's name, with tensor bounds as well.

    Number bounds use Clip (the gradient passes where min <= x <= max). Tensor bounds
    broadcast with x and are composed from where:
        y = min_ where x < min_,  max_ where x > max_,  x otherwise
    so dL/dx = dL/dy where min <= x <= max, and each bound gets dL/dy where it is the output
    (PyTorch's rule). Where min > max the result is max, as in NumPy and PyTorch.
    """
    x = as_tensor(x, "clamp")
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    if all(bound is None or type(bound) in (int, float) for bound in (min, max)):
        return clip(x, min, max)
    # tensor (or array) bounds; as_operand refuses what is not numbers
    low, high = (None if b is None else as_operand(b, x, "clamp") for b in (min, max))
    _broadcast_shape("clamp", *(t for t in (x, low, high) if t is not None))
    y = x
    if low is not None:
        y = where(y < low, low, y)
    if high is not None:
        y = where(y > high, high, y)
    return y


def lerp(start, end, weight):
    """start + weight (end - start), elementwise with broadcasting (composed, so every
    input, the weight included, gets its gradient: d/dweight = end - start)."""
    start, end = _operands(start, end, None, "lerp")
    weight = as_operand(weight, start, "lerp")
    _broadcast_shape("lerp", start, end, weight)
    return start + weight * (end - start)


def hypot(a, b):
    """sqrt(a^2 + b^2), elementwise (composed: dL/da = dL/dy a / y; like PyTorch, NaN at
    a = b = 0, where the length has no derivative)."""
    a, b = _operands(a, b, None, "hypot")
    _broadcast_shape("hypot", a, b)
    return sqrt(a * a + b * b)


def _broadcast_shape(op, *tensors):
    """The shape the tensors broadcast to, or a ShapeError naming ``op`` (for composed ops,
    whose first failing step would name itself instead)."""
    try:
        return numpy.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        raise ShapeError(f"{op}: shapes {[t.shape for t in tensors]} do not broadcast "
                         "together") from None

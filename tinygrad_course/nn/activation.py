"""Activation functions as modules, so they can sit in a Sequential.

    ReLU       max(0, x)
    LeakyReLU  x if x > 0 else slope * x
    Sigmoid    1 / (1 + exp(-x))
    Tanh       (e^x - e^-x) / (e^x + e^-x)
    GELU       x * Phi(x)  (Phi: the standard normal CDF; approximate="tanh" for the fast form)
    Softmax    exp(x_i) / sum_j exp(x_j) along ``dim``
    SiLU       x * sigmoid(x)                      Mish       x * tanh(softplus(x))
    ELU        x if x > 0 else alpha (e^x - 1)     SELU       scale * ELU(x, alpha), fixed
    Softplus   log(1 + e^(beta x)) / beta          LogSigmoid log sigmoid(x) = -softplus(-x)
    Hardtanh   x clipped to [min_val, max_val]     Softsign   x / (1 + |x|)
    GLU        a * sigmoid(b), x split in halves a, b along ``dim``

The formulas and derivatives are in tinygrad_course.functional, which these modules call.
``inplace`` is accepted where PyTorch has it: the result is the same, always a new tensor.
"""

from .. import functional as F
from .. import ops
from .module import Module


class ReLU(Module):
    """max(x, 0); inplace=True overwrites x (see ops.elementwise.relu), as in PyTorch."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return ops.elementwise.relu(x, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return ops.elementwise.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return ops.elementwise.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class Softmax(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.softmax(axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return x.log_softmax(axis=self.dim)


class _Elementwise(Module):
    """An activation with no settings: forward is one function of tinygrad_course.functional."""

    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return type(self).function(x)


class SiLU(_Elementwise):
    function = staticmethod(F.silu)


class Mish(_Elementwise):
    function = staticmethod(F.mish)


class SELU(_Elementwise):
    function = staticmethod(F.selu)


class Softsign(Module):
    def forward(self, x):
        return F.softsign(x)


class LogSigmoid(Module):
    def forward(self, x):
        return F.logsigmoid(x)


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class GLU(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"

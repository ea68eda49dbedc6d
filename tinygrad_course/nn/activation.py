"""Activation functions as modules, so they can sit in a Sequential.

    ReLU       max(0, x)
    LeakyReLU  x if x > 0 else slope * x
    Sigmoid    1 / (1 + exp(-x))
    Tanh       (e^x - e^-x) / (e^x + e^-x)
    GELU       x * Phi(x)  (Phi: the standard normal CDF; approximate="tanh" for the fast form)
    Softmax    exp(x_i) / sum_j exp(x_j) along ``dim``
"""

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

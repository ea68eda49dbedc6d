"""Normalisation layers: LayerNorm (per example), BatchNorm1d / BatchNorm2d (per feature over
the batch) and GroupNorm (per example, over groups of channels)."""

import numpy

from .. import functional as F
from ..errors import ShapeError
from ..ops.normalization import layer_norm
from ..tensor import as_tensor, ones, require_floating, zeros
from .module import Module, Parameter


class LayerNorm(Module):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, statistics over the last axes.

    x: (..., *normalized_shape)   gamma, beta: normalized_shape (ones and zeros at init).
    Each example is normalised on its own, so it behaves the same in training and eval.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None, device=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype, device=device))
            else:  # bias=False: a scale but no shift (as PyTorch >= 2.1)
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        x = as_tensor(x, "LayerNorm")
        require_floating(x, "LayerNorm")
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ShapeError(f"LayerNorm: expected input of shape (..., "
                             f"{', '.join(map(str, self.normalized_shape))}), got {x.shape}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


class BatchNorm1d(Module):
    """Normalise each feature with the statistics of the batch.

    x: (N, C) or (N, C, L); statistics per channel C over N (and L).
    Training:  y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta  (biased var_B), and
               running = (1 - momentum) * running + momentum * batch  (unbiased var here);
               momentum=None: running = the average of all batches so far (factor 1 / t).
    Eval:      the running mean and variance replace the batch's (F.batch_norm).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, device=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked",
                                 zeros(1, dtype=numpy.int64, device=device).reshape(()))

    def forward(self, x):
        x = as_tensor(x, "BatchNorm1d")
        require_floating(x, "BatchNorm1d")
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ShapeError(f"BatchNorm1d: expected input of shape (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L), got {x.shape}")
        if self.training and x.size <= self.num_features:  # checked before any state changes
            raise ShapeError(f"BatchNorm1d: training needs more than one value per channel, got "
                             f"input of shape {x.shape}")
        tracking, momentum = self.track_running_stats, self.momentum
        if self.training and tracking:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if momentum is None:  # the plain average of every batch so far
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_running = tracking and not self.training
        return F.batch_norm(x, self.running_mean if tracking else None,
                            self.running_var if tracking else None, self.weight, self.bias,
                            training=not use_running, momentum=momentum or 0.0, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm2d(BatchNorm1d):
    """BatchNorm1d for images: x (N, C, H, W), statistics per channel over N, H and W (the
    image is viewed as (N, C, H*W), which BatchNorm1d normalises over axes 0 and 2)."""

    def forward(self, x):
        x = as_tensor(x, "BatchNorm2d")
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ShapeError(f"BatchNorm2d: expected input of shape (N, {self.num_features}, H, "
                             f"W), got {x.shape}")
        n, c, h, w = x.shape
        return super().forward(x.reshape(n, c, h * w)).reshape(n, c, h, w)


class GroupNorm(Module):
    """Normalise each example's channels in num_groups groups (as torch.nn.GroupNorm):

        x (N, C, *) viewed as (N, G, C/G * rest); each row normalised to mean 0, var 1
        (layer_norm without affine), then y = x_hat * gamma[c] + beta[c] per channel.

    Independent of the batch (same in training and eval); G = 1 is a LayerNorm over
    (C, H, W), G = C is InstanceNorm."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None,
                 device=None):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ShapeError(f"GroupNorm: num_channels {num_channels} must be divisible by "
                             f"num_groups {num_groups}")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        if affine:
            self.weight = Parameter(ones(num_channels, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        x = as_tensor(x, "GroupNorm")
        require_floating(x, "GroupNorm")
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: expected input of shape (N, {self.num_channels}, ...), "
                             f"got {x.shape}")
        rows = x.reshape(x.shape[0], self.num_groups, -1)
        y = layer_norm(rows, (rows.shape[2],), eps=self.eps).reshape(x.shape)
        if self.weight is not None:
            shape = (1, self.num_channels) + (1,) * (x.ndim - 2)
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}"

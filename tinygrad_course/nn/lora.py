"""LoRA: fine-tune a frozen layer through a trainable low-rank correction (Hu et al. 2021).

A pretrained Linear layer y = x W^T + b keeps W (out, in) and b frozen; what trains is a
product of two thin matrices, scaled by s = alpha / r:

    y = x W^T + b + s (x A^T) B^T        A (r, in), B (out, r), r << min(in, out)
      = x (W + s B A)^T + b              the same map: the update dW = s B A has rank <= r

    dL/dB = s G^T (x A^T)                G = dL/dy (rows: every leading position of x)
    dL/dA = s B^T G^T x
    dL/dW, dL/db: none (frozen, requires_grad=False)

Init (as the reference implementation and PEFT): A ~ Kaiming-uniform with a = sqrt(5), i.e.
U(-1/sqrt(in), 1/sqrt(in)), and B = 0. So B A = 0 and the wrapped layer computes exactly
what the frozen layer did before the first step; A being random makes dL/dB non-zero, so
the first step moves B and the correction grows from there. Dividing by r keeps the size of
the update about the same when r changes, so alpha need not be re-tuned per rank.

Cost: the layer trains r (in + out) numbers instead of in * out (+ out); the optimiser keeps
its moments for those only. After training, merge() folds s B A into W (inference is then
exactly as fast as the plain layer); unmerge() takes it out again.

Using it on a model (e.g. the attention output and feed-forward layers of models/gpt.py):

    wrapped = lora.apply(model, target=("out_proj", "linear1", "linear2"), r=4, alpha=8)
    opt = optim.AdamW(lora.trainable_parameters(model), lr=1e-2)
    trainable, total = lora.count_parameters(model)

apply() freezes every parameter of the model and leaves only the A and B of the wrapped
layers trainable (mark_only_lora_trainable). Layers that read ``layer.weight`` and
``layer.bias`` themselves instead of calling the layer (the transformer blocks call
ops.linear on them) get the effective weight W + s B A from the ``weight`` property: the
same function, gradients included. The q/k/v projections of nn.MultiheadAttention are one
packed Parameter (PyTorch's layout), not Linear layers, so they are not targets here.
"""

import math
import numbers

from ..autograd import no_grad
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.linear import linear
from ..tensor import as_tensor, zeros
from . import init
from .linear import Linear
from .module import Module, Parameter

__all__ = ["LoRALinear", "apply", "mark_only_lora_trainable", "trainable_parameters",
           "count_parameters", "lora_layers", "merge", "unmerge"]


def _check_rank(r, in_features, out_features):
    if isinstance(r, bool) or not isinstance(r, numbers.Integral):
        raise DTypeError(f"LoRALinear: the rank r must be an integer, got {r!r}")
    largest = min(in_features, out_features)
    if not 1 <= r <= largest:
        raise ArgumentError(f"LoRALinear: the rank r must be in 1..min(in_features, "
                            f"out_features) = 1..{largest} (a product B A has no higher rank), "
                            f"got {r}")
    return int(r)


def _check_alpha(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise DTypeError(f"LoRALinear: alpha must be a real number, got {alpha!r}")
    if not (math.isfinite(alpha) and alpha > 0):
        raise ArgumentError(f"LoRALinear: alpha must be finite and > 0 (the update is scaled "
                            f"by alpha / r), got {alpha!r}")
    return float(alpha)


class LoRALinear(Module):
    """LoRALinear(base, r=8, alpha=8, seed=None, generator=None): the Linear layer ``base``,
    frozen, plus the trainable low-rank update s B A, s = alpha / r (module docstring).

    x (..., in_features) -> y (..., out_features). ``base`` itself is frozen in place (its
    weight and bias get requires_grad=False) and kept as the sub-module ``base``, so the
    state_dict names are base.weight, base.bias, lora_A, lora_B. A and B take the base
    weight's dtype and device. The defaults r = alpha = 8 are PEFT's.
    """

    def __init__(self, base, r=8, alpha=8, seed=None, generator=None):
        super().__init__()
        if isinstance(base, LoRALinear) or not isinstance(base, Linear):
            raise DTypeError(f"LoRALinear: base must be an nn.Linear layer (not yet wrapped), "
                             f"got {type(base).__name__}")
        self.in_features, self.out_features = base.in_features, base.out_features
        self.r = _check_rank(r, self.in_features, self.out_features)
        self.alpha = _check_alpha(alpha)
        self.scaling = self.alpha / self.r
        base.requires_grad_(False)
        self.base = base
        like = base.weight
        self.lora_A = Parameter(zeros(self.r, self.in_features, dtype=like.dtype,
                                      device=like.device))
        self.lora_B = Parameter(zeros(self.out_features, self.r, dtype=like.dtype,
                                      device=like.device))
        # kaiming_uniform_ with a = sqrt(5): gain sqrt(2 / (1 + a^2)) = sqrt(1/3), so the bound
        # is sqrt(1/3) sqrt(3 / in) = 1 / sqrt(in); B stays zero (B A = 0 at the start).
        init.kaiming_uniform_(self.lora_A, gain=math.sqrt(1.0 / 3.0),
                              generator=init.get_generator(seed, generator))
        self.merged = False

    @property
    def weight(self):
        """The effective weight W + s B A (out, in), differentiable in A and B; W itself once
        merged. For code that calls ops.linear(x, layer.weight, layer.bias) directly."""
        if self.merged:
            return self.base.weight
        return self.base.weight + (self.lora_B @ self.lora_A) * self.scaling

    @property
    def bias(self):
        """The frozen bias b of the base layer (None if it has none)."""
        return self.base.bias

    def forward(self, x):
        """x W^T + b + s (x A^T) B^T: the update costs O(r (in + out)) per row, never an
        (out, in) matrix; once merged, x W'^T + b with W' = W + s B A."""
        x = as_tensor(x, "LoRALinear")
        if x.dtype.kind != "f":
            raise DTypeError(f"LoRALinear: expected a floating input, got dtype {x.dtype}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"LoRALinear: expected input of shape (..., {self.in_features}), "
                             f"got {x.shape}")
        frozen = linear(x, self.base.weight, self.base.bias)
        if self.merged:
            return frozen
        return frozen + linear(linear(x, self.lora_A), self.lora_B) * self.scaling

    def delta_weight(self):
        """s B A (out, in) as a backend array: what merge() adds to W."""
        return (self.lora_B.data @ self.lora_A.data) * self.scaling

    def merge(self):
        """W <- W + s B A, in place; forward is then the plain layer (as fast as before, equal
        to float rounding). Train only unmerged: while merged, A and B get no gradient.
        Merging a merged layer does nothing. Returns self."""
        if not self.merged:
            with no_grad():
                weight = self.base.weight
                weight.data = (weight.data + self.delta_weight()).astype(weight.dtype)
            self.merged = True
        return self

    def unmerge(self):
        """W <- W - s B A, in place: undoes merge() (to float rounding), so training can go
        on. Unmerging an unmerged layer does nothing. Returns self."""
        if self.merged:
            with no_grad():
                weight = self.base.weight
                weight.data = (weight.data - self.delta_weight()).astype(weight.dtype)
            self.merged = False
        return self

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"r={self.r}, alpha={self.alpha:g}, merged={self.merged}")


# ----- whole models ------------------------------------------------------------------------
def _target_matcher(target):
    """A predicate path -> bool from ``target``: a name (matches a path equal to it or ending
    in "." + name), a list or tuple of names, or a function of the path."""
    if callable(target):
        return target
    names = (target,) if isinstance(target, str) else target
    if not isinstance(names, (list, tuple)) or not names or not all(
            isinstance(n, str) and n for n in names):
        raise DTypeError(f"lora.apply: target must be a layer name, a list of names or a "
                         f"function of the layer's path, got {target!r}")
    return lambda path: any(path == n or path.endswith("." + n) for n in names)


def _linear_slots(module, prefix=""):
    """(parent, attribute, path) of every Linear below ``module``, not looking inside layers
    that are already LoRALinear."""
    for name, child in module.named_children():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(child, LoRALinear):
            continue
        if isinstance(child, Linear):
            yield module, name, path
        else:
            yield from _linear_slots(child, path)


def apply(model, target, r=8, alpha=8, seed=None, generator=None):
    """Wrap the Linear layers of ``model`` that ``target`` names in LoRALinear (in place) and
    freeze everything else (mark_only_lora_trainable). Returns the wrapped paths, in order.

    target: "out_proj" (every layer whose path ends in .out_proj), a list of such names, or a
    function path -> bool. Raises ArgumentError if it matches no Linear layer (the message
    lists the model's Linear layers). The A matrices draw from one generator, layer by layer.
    """
    if not isinstance(model, Module):
        raise DTypeError(f"lora.apply: model must be an nn.Module, got {type(model).__name__}")
    matches = _target_matcher(target)
    slots = list(_linear_slots(model))
    chosen = [(parent, name, path) for parent, name, path in slots if matches(path)]
    if not chosen:
        raise ArgumentError(f"lora.apply: target {target!r} matches no Linear layer; the "
                            f"model's Linear layers are {[path for _, _, path in slots]}")
    rng = init.get_generator(seed, generator)
    for parent, name, _ in chosen:
        setattr(parent, name, LoRALinear(getattr(parent, name), r, alpha, generator=rng))
    mark_only_lora_trainable(model)
    return [path for _, _, path in chosen]


def lora_layers(model):
    """Every LoRALinear in ``model`` (the model itself if it is one)."""
    return [m for m in model.modules() if isinstance(m, LoRALinear)]


def mark_only_lora_trainable(model):
    """requires_grad=True for the A and B of every LoRALinear in ``model``, False for every
    other parameter. Returns the model."""
    model.requires_grad_(False)
    for layer in lora_layers(model):
        layer.lora_A.requires_grad = layer.lora_B.requires_grad = True
    return model


def trainable_parameters(model):
    """The parameters with requires_grad=True: what to give the optimiser (it refuses frozen
    ones)."""
    return [p for p in model.parameters() if p.requires_grad]


def count_parameters(model):
    """(trainable, total) numbers of ``model``: what LoRA saves is total - trainable."""
    params = list(model.parameters())
    return sum(p.size for p in params if p.requires_grad), sum(p.size for p in params)


def merge(model):
    """merge() every LoRALinear of ``model``; returns the model."""
    for layer in lora_layers(model):
        layer.merge()
    return model


def unmerge(model):
    """unmerge() every LoRALinear of ``model``; returns the model."""
    for layer in lora_layers(model):
        layer.unmerge()
    return model

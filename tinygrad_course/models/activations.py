"""The feed-forward activation of a transformer model, by name.

The published models differ in the nonlinearity between their two feed-forward layers, and
the difference is visible in the outputs (about 1e-3 between the exact GELU and its tanh
form), so loading real weights needs the one the model was trained with:

    "gelu"        x Phi(x), Phi the normal CDF (erf form): BERT, ViT, PyTorch's "gelu"
    "gelu_tanh"   0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): GPT-2 ("gelu_new")
    "quick_gelu"  x sigmoid(1.702 x): CLIP
    "relu"        max(x, 0): the original transformer

``feed_forward_activation`` turns a name (or a callable, passed through) into what
nn.TransformerEncoderLayer takes as ``activation``: "relu" or "gelu" as PyTorch's strings,
the others as functions.
"""

import functools

from ..errors import ArgumentError
from ..ops.elementwise import gelu, relu
from ..tensor import as_tensor


def quick_gelu(x):
    """QuickGELU, the sigmoid approximation of GELU that CLIP was trained with:
    x sigmoid(1.702 x);  d/dx = s + 1.702 x s (1 - s), s = sigmoid(1.702 x). Any shape; built
    from differentiable ops, so its gradients come from theirs."""
    x = as_tensor(x, "quick_gelu")
    return x * (x * 1.702).sigmoid()


ACTIVATIONS = {
    "gelu": gelu,
    "gelu_tanh": functools.partial(gelu, approximate="tanh"),
    "quick_gelu": quick_gelu,
    "relu": relu,
}

# Hugging Face config names (hidden_act / activation_function) -> ours
HF_NAMES = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
            "quick_gelu": "quick_gelu", "relu": "relu"}


def feed_forward_activation(activation):
    """"gelu", "gelu_tanh", "quick_gelu", "relu" or a callable -> the layer's ``activation``."""
    if callable(activation):
        return activation
    if activation not in ACTIVATIONS:
        raise ArgumentError(f"activation must be one of {sorted(ACTIVATIONS)} or a "
                            f"callable, got {activation!r}")
    return activation if activation in ("relu", "gelu") else ACTIVATIONS[activation]


def activation_function(activation):
    """The function itself (for a model's own heads, outside the transformer layers)."""
    if callable(activation):
        return activation
    feed_forward_activation(activation)  # names the problem for an unknown name
    return ACTIVATIONS[activation]

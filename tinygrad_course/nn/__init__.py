"""Layers: Module and Parameter (module.py), then one file per kind of layer.

Read module.py first: it is how every layer finds its weights.
"""

from . import init, lora, utils
from .activation import (
    ELU,
    GELU,
    GLU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)
from .attention import MultiheadAttention
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear, Unflatten
from .lora import LoRALinear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    PairwiseDistance,
    PoissonNLLLoss,
    SmoothL1Loss,
    TripletMarginLoss,
)
from .module import (
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    ParameterList,
    RemovableHandle,
    Sequential,
)
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    PixelShuffle,
    PixelUnshuffle,
    Upsample,
)
from .positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    generate_square_subsequent_mask,
)

__all__ = [
    "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Dropout", "Embedding", "LayerNorm", "BatchNorm1d",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU", "Conv1d",
    "MultiheadAttention", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
    "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerDecoder", "generate_square_subsequent_mask",
    "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d",
    "GroupNorm", "Upsample", "PixelShuffle", "PixelUnshuffle",
    "SiLU", "ELU", "SELU", "Softplus", "Mish", "Hardtanh", "Softsign", "LogSigmoid", "GLU",
    "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
    "L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "KLDivLoss", "HuberLoss", "SmoothL1Loss", "HingeEmbeddingLoss", "MarginRankingLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "CosineSimilarity", "PairwiseDistance",
    "Unflatten", "ParameterList", "RemovableHandle", "lora", "LoRALinear",
]

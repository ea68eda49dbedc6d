"""ViT, the Vision Transformer (Dosovitskiy et al. 2021): an image read as a sequence of patches.

    patches  (N, C, H, W) -> (N, P, C p p)        P = (H / p)(W / p) non-overlapping p x p
                                                  patches, row by row
    x        = patches W_e^T + b_e                 linear projection to d_model (the same as a
                                                  convolution with kernel p and stride p)
    x        = [cls; x] + pos                      a learned CLS token in front, learned
                                                  position embeddings for the P + 1 slots
    h        = Encoder(x)                          pre-LN transformer blocks, no mask
    logits   = W_head LN(h[:, 0]) + b_head         classify from the CLS token's output

Attention lets every patch look at every other from the first layer on; the price is that
nothing tells the model that neighbouring pixels belong together (a CNN's built-in
assumption), so it must learn that from data (demos/vit_digits.py measures it on the 8x8
digits against an MLP).
"""

from ..errors import ShapeError
from ..nn import init
from ..nn.linear import Linear
from ..nn.module import Module, Parameter
from ..nn.normalization import LayerNorm
from ..nn.positional import LearnedPositionalEmbedding
from ..ops.movement import concatenate
from ..tensor import zeros
from . import hf_vit
from ._stack import EncoderStack


def patchify(images, patch_size):
    """(N, C, H, W) -> (N, (H / p) (W / p), C p p): patch (i, j) is row i W/p + j, its pixels
    in (channel, row, column) order."""
    N, C, H, W = images.shape
    p = patch_size
    if H % p or W % p:
        raise ShapeError(f"patchify: image size {(H, W)} is not a multiple of patch_size {p}")
    x = images.reshape(N, C, H // p, p, W // p, p).transpose(0, 2, 4, 1, 3, 5)
    return x.reshape(N, (H // p) * (W // p), C * p * p)


class ViT(Module):
    """ViT(image_size, patch_size, num_classes, in_channels=1, d_model=64, nhead=4,
    num_layers=2, dim_feedforward=None, dropout=0.0, seed=None):
    images (N, C, H, W), or (N, H, W) with one channel -> logits (N, num_classes).

    ``num_classes=None``: no head; forward returns the normalised CLS vector (N, d_model),
    the image's features (``output_dim`` = d_model). ``encode`` returns every position's
    (Hugging Face's last_hidden_state). Options that the published models need
    (ViT.from_hf, CLIP.from_hf set them): ``activation`` of the feed-forward layers
    (models/activations.py), ``layer_norm_eps``, ``patch_bias=False`` (CLIP's patch
    projection has no bias) and ``embedding_norm=True``: a LayerNorm on the embedded
    sequence before the first layer (CLIP's pre_layrnorm)."""

    def __init__(self, image_size, patch_size, num_classes, in_channels=1, d_model=64,
                 nhead=4, num_layers=2, dim_feedforward=None, dropout=0.0, seed=None,
                 generator=None, device=None, activation="gelu", layer_norm_eps=1e-5,
                 patch_bias=True, embedding_norm=False):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"ViT: image_size {image_size} is not a multiple of patch_size "
                             f"{patch_size}")
        rng = init.get_generator(seed, generator)
        self.image_size, self.patch_size, self.in_channels = image_size, patch_size, in_channels
        self.num_patches = (image_size // patch_size) ** 2
        self.d_model = d_model
        self.output_dim = d_model if num_classes is None else num_classes
        self.patch_embedding = Linear(in_channels * patch_size ** 2, d_model, bias=patch_bias,
                                      generator=rng, device=device)
        self.cls_token = Parameter(zeros(1, 1, d_model, device=device))
        init.normal_(self.cls_token, 0.0, 0.02, generator=rng)
        self.position_embedding = LearnedPositionalEmbedding(
            self.num_patches + 1, d_model, dropout=dropout, batch_first=True, generator=rng,
            device=device)
        self.layers = EncoderStack(num_layers, d_model, nhead, dim_feedforward, dropout,
                                   activation, layer_norm_eps, norm_first=True, generator=rng,
                                   device=device)
        self.embedding_norm = (LayerNorm(d_model, eps=layer_norm_eps, device=device)
                               if embedding_norm else None)
        self.norm = LayerNorm(d_model, eps=layer_norm_eps, device=device)
        self.head = (None if num_classes is None else
                     Linear(d_model, num_classes, generator=rng, device=device))

    def forward(self, images):
        features = self.encode(images)[:, 0]
        return features if self.head is None else self.head(features)

    def encode(self, images):
        """Every position's output after the final LayerNorm, (N, P + 1, d_model); the CLS
        token's is row 0."""
        if images.ndim == 3 and self.in_channels == 1:
            images = images.unsqueeze(1)
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ShapeError(f"ViT: expected images of shape (N, {expected[0]}, {expected[1]}, "
                             f"{expected[2]}), got {images.shape}")
        N = images.shape[0]
        patches = patchify(images, self.patch_size)
        x = self.patch_embedding(patches.reshape(N * self.num_patches, -1))
        x = x.reshape(N, self.num_patches, self.d_model)
        cls = self.cls_token.broadcast_to(N, 1, self.d_model)
        x = self.position_embedding(concatenate([cls, x], axis=1))
        if self.embedding_norm is not None:
            x = self.embedding_norm(x)
        return self.norm(self.layers(x))

    from_hf = classmethod(hf_vit.from_hf)  # ViTModel / ViTForImageClassification weights

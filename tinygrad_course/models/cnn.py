"""LeNet-style convolutional network (LeCun et al. 1998), sized for small images.

    x (N, C, H, W)
    -> Conv2d(C, c1, 3, padding=1) -> ReLU -> MaxPool2d(2)      (N, c1, H/2, W/2)
    -> Conv2d(c1, c2, 3, padding=1) -> ReLU -> MaxPool2d(2)     (N, c2, H/4, W/4)
    -> Flatten -> Linear(c2*H/4*W/4, hidden) -> ReLU -> Linear(hidden, classes)

The two ideas that a dense network or a ViT on patches does not have built in: the same
small filter is applied at every position (weight sharing: a 3x3 edge detector costs 9
weights however large the image), and max pooling keeps "the feature occurred somewhere
in this 2x2 cell", so a shift by a pixel changes little. LeNet-5 used 5x5 filters and
average pooling on 32x32 images; 3x3 filters with padding suit 8x8 digits.
"""

import numpy as np

from .. import nn


class LeNet(nn.Module):
    def __init__(self, image_size=8, in_channels=1, num_classes=10, channels=(16, 32),
                 hidden=64, seed=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"LeNet: image_size must be divisible by 4 (two 2x2 poolings), "
                             f"got {image_size}")
        rng = np.random.default_rng(seed)
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, generator=rng), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, generator=rng), nn.ReLU(), nn.MaxPool2d(2))
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * side * side, hidden, generator=rng), nn.ReLU(),
            nn.Linear(hidden, num_classes, generator=rng))

    def forward(self, x):
        """x (N, C, H, W), or (N, H, W) for one channel -> logits (N, num_classes)."""
        if x.ndim == 3:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x))

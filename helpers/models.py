"""The small CNN family: a `backbone` of named blocks that learns features, and a `head` that classifies.

Transfer learning keeps the backbone and swaps the head, so the split is explicit:
`model.backbone` maps (B, 1, 28, 28) images to (B, feature_dim) features,
`model.head` maps features to (B, num_classes) logits.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class CNNConfig:
    """The architecture: how many classes, how wide, how deep."""

    num_classes: int = 10
    width: int = 32  # channels of the first block; each later block doubles them
    depth: int = 3  # number of conv blocks; each halves the image side (28 -> 14 -> 7 -> 3)
    in_channels: int = 1

    def block_channels(self) -> list[int]:
        """Output channels of each block: width, 2 x width, 4 x width, ..."""
        return [self.width * 2**i for i in range(self.depth)]

    @property
    def feature_dim(self) -> int:
        return self.block_channels()[-1]


STANDARD = CNNConfig()  # the one configuration every notebook uses


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution, BatchNorm, ReLU, then 2x2 max-pool: the image side halves."""
    return nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            bn=nn.BatchNorm2d(out_channels),
            relu=nn.ReLU(inplace=True),
            pool=nn.MaxPool2d(2),
        )
    )


def make_backbone(config: CNNConfig) -> nn.Sequential:
    """Blocks named block1..blockN, then global average pooling to a feature vector."""
    layers = OrderedDict()
    channels = [config.in_channels, *config.block_channels()]
    for i in range(config.depth):
        layers[f"block{i + 1}"] = conv_block(channels[i], channels[i + 1])
    layers["pool"] = nn.AdaptiveAvgPool2d(1)  # (B, C, h, w) -> (B, C, 1, 1)
    layers["flatten"] = nn.Flatten()  # -> (B, C)
    return nn.Sequential(layers)


class CNN(nn.Module):
    """backbone (B, 1, 28, 28) -> (B, feature_dim), then head (B, feature_dim) -> (B, num_classes)."""

    def __init__(self, config: CNNConfig = STANDARD) -> None:
        super().__init__()
        self.config = config
        self.backbone = make_backbone(config)
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    @property
    def feature_dim(self) -> int:
        return self.config.feature_dim

    def block_names(self) -> list[str]:
        """The backbone's blocks, bottom to top: block1, block2, ..."""
        return [name for name in self.backbone._modules if name.startswith("block")]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))  # (B, 1, 28, 28) -> (B, feature_dim) -> (B, num_classes)

    def describe(self) -> dict:
        """The config as a plain dict, as checkpoints store it."""
        return asdict(self.config)


def make_model(config: CNNConfig = STANDARD, seed: int | None = None) -> CNN:
    """A freshly initialised CNN; with a seed, the same weights every time."""
    if seed is not None:
        torch.manual_seed(seed)
    return CNN(config)

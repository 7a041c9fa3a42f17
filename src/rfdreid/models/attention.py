"""Channel attention (section 3.3, eqs 4-6), placed after whole backbone stages.

Why after stages: the paper computes channel correlations on the "compacted" output of
each stage rather than inside every residual block as SENet does, so one module rescales a
stage's output channels by learned weights in (0, 1).
"""

from __future__ import annotations

from torch import Tensor, nn

MIN_HIDDEN = 8  # keeps a usable bottleneck for the narrow CPU widths (24 channels / 16 = 1)


class ChannelAttention(nn.Module):
    """x [B, C, H, W] -> x * sigmoid(W2 relu(W1 GAP(x))), gate shape [B, C, 1, 1].

    W1 (C -> C/r) and W2 (C/r -> C) are 1x1 convolutions, as in eq 5.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(MIN_HIDDEN, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)  # eq 4
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        weights = self.gate(self.expand(self.relu(self.reduce(self.pool(x)))))  # eq 5
        return x * weights  # eq 6


def stage_attention(channels: int, enabled: bool, reduction: int) -> nn.Module:
    """A ChannelAttention, or an Identity when attention is ablated (`model.attention=false`)."""
    return ChannelAttention(channels, reduction) if enabled else nn.Identity()

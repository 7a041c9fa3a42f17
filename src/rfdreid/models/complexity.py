"""Parameter counts and per-image FLOPs, to compare the paper model with CPU presets.

Convention: MACs count the multiply-adds of convolutions and linear layers only (BN, ReLU,
pooling and the attention rescale are ignored, as most papers do); GFLOPs = 2 x GMACs.
Counted in eval mode, i.e. for the retrieval embedding without the classifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rfdreid.models.attention import ChannelAttention
from rfdreid.models.reid_net import ReIDNet


@dataclass
class Complexity:
    """Parameter counts by part and multiply-adds per image at `input_size` (H, W)."""

    params_total: int
    params_backbone: int  # shared trunk + branch copies of the later stages
    params_attention: int
    params_head: int  # reductions + classifiers
    macs: int
    input_size: tuple[int, int]

    @property
    def gflops(self) -> float:
        return 2 * self.macs / 1e9


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_macs(model: nn.Module, input_size: tuple[int, int]) -> int:
    """Multiply-adds of Conv2d and Linear layers for one [1, 3, H, W] image in eval mode."""
    total = 0

    def conv_hook(m: nn.Conv2d, _: tuple[Tensor, ...], out: Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, _: tuple[Tensor, ...], out: Tensor) -> None:
        nonlocal total
        total += out.numel() * m.in_features

    handles = [
        m.register_forward_hook(conv_hook if isinstance(m, nn.Conv2d) else linear_hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *input_size))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total


def complexity(model: ReIDNet, input_size: tuple[int, int]) -> Complexity:
    """Counts for `model` at `input_size` = (height, width)."""
    attention = sum(count_params(m) for m in model.modules() if isinstance(m, ChannelAttention))
    head = count_params(model.classifiers) + sum(count_params(b.reductions) for b in model.branches)
    total = count_params(model)
    return Complexity(
        params_total=total,
        params_backbone=total - attention - head,
        params_attention=attention,
        params_head=head,
        macs=count_macs(model, input_size),
        input_size=input_size,
    )

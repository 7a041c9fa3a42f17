"""The MGN-style re-id network used for both baselines (section 3.2, Fig. 2).

B-F and B-R are this same class: B-F classifies person ids, B-R resolution classes; only
`num_classes` differs.

Layout (ResNet-50 names; MobileNetV2 splits at the same strides)::

    shared trunk: stem, layer1, CA, layer2, CA, layer3[0]          (MGN: up to res_conv4_1)
    branch "global": copy of layer3[1:], CA, layer4 (stride 1), CA -> 1 global feature
    branch "part-2": copy of layer3[1:], CA, layer4 (stride 1), CA -> global + 2 stripes
    branch "part-3": copy of layer3[1:], CA, layer4 (stride 1), CA -> global + 3 stripes

CA = channel attention after every stage (section 3.3). Strides: MGN already runs its part
branches' last stage at stride 1, and the paper adds it to the global one ("Concerning the
global module, we modify the stride (stride=1) of last downsampling block"), so every
branch ends on a 24x8 map at 384x128. Pooling is adaptive, so any input size works; at
128x64 the maps are 8x4 and 3 stripes overlap by a row.

Every pooled feature is reduced to `embed_dim` (linear + BN + ReLU, as MGN's 1x1 conv) and
gets its own identity classifier; the triplet loss uses each branch's reduced global feature.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rfdreid.models.attention import stage_attention
from rfdreid.models.backbones import Backbone, remove_downsampling
from rfdreid.models.pretrained import LoadReport


@dataclass
class ReIDOutput:
    """What the training forward returns.

    logits: one [B, num_classes] tensor per reduced feature (8 for parts [2, 3]).
    triplet_features: one [B, embed_dim] tensor per branch, its reduced global feature.
    """

    logits: list[Tensor]
    triplet_features: list[Tensor]


def reduction(in_ch: int, embed_dim: int) -> nn.Sequential:
    """[B, in_ch] -> [B, embed_dim]: linear + BN + ReLU."""
    linear = nn.Linear(in_ch, embed_dim, bias=False)
    nn.init.kaiming_normal_(linear.weight, mode="fan_in")
    return nn.Sequential(linear, nn.BatchNorm1d(embed_dim), nn.ReLU(inplace=True))


class StripePool(nn.Module):
    """[B, C, h, w] -> [B, C, stripes]: mean of each horizontal stripe.

    Same bins as AdaptiveAvgPool2d((stripes, 1)) (stripe i covers rows floor(i*h/n) to
    ceil((i+1)*h/n), so stripes overlap when h is not a multiple of n), written as slices
    so that ONNX export works for every input size, not only multiples of the stripe count.
    """

    def __init__(self, stripes: int) -> None:
        super().__init__()
        self.stripes = stripes

    def forward(self, x: Tensor) -> Tensor:
        h, n = x.shape[2], self.stripes
        # Non-negative integer maths only: ONNX's integer Div truncates, it does not floor.
        bins = [x[:, :, (i * h) // n: ((i + 1) * h + n - 1) // n].mean(dim=(2, 3))
                for i in range(n)]
        return torch.stack(bins, dim=2)


class Branch(nn.Module):
    """Deep stages + pooling + reductions of one branch.

    x [B, C3, H/16, W/16] -> list of 1 + stripes features [B, embed_dim]; the first is the
    global feature. `stripes=0` gives a global-only branch.
    """

    def __init__(self, layers: nn.Sequential, out_ch: int, stripes: int, embed_dim: int) -> None:
        super().__init__()
        self.layers = layers
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.stripe_pool = StripePool(stripes) if stripes else None
        self.reductions = nn.ModuleList(reduction(out_ch, embed_dim) for _ in range(1 + stripes))

    def feature_map(self, x: Tensor) -> Tensor:
        """[B, C3, h, w] -> the branch's last feature map [B, C4, h', w']."""
        return self.layers(x)

    def forward(self, x: Tensor) -> list[Tensor]:
        fmap = self.feature_map(x)
        pooled = [self.global_pool(fmap).flatten(1)]
        if self.stripe_pool is not None:
            pooled += self.stripe_pool(fmap).unbind(2)  # stripes x [B, C4]
        return [reduce(p) for reduce, p in zip(self.reductions, pooled)]


class ReIDNet(nn.Module):
    """Shared trunk, one global and several part branches, a classifier per feature.

    `forward(x [B, 3, H, W])` returns a :class:`ReIDOutput` in train mode and the raw
    embedding [B, feature_dim] (concatenated reduced features) in eval mode; the test-time
    feature (mirror sum, L2 norm) is :func:`rfdreid.inference.extract.test_embedding`.
    """

    def __init__(
        self,
        backbone: Backbone,
        num_classes: int,
        parts: list[int],
        embed_dim: int = 256,
        dropout: float = 0.5,
        attention: bool = True,
        se_reduction: int = 16,
    ) -> None:
        super().__init__()
        stem = backbone.stem()
        stages = backbone.stages()
        ch = backbone.stage_channels

        def attend(i: int) -> nn.Module:
            return stage_attention(ch[i], attention, se_reduction)

        self.shared = nn.Sequential(
            stem, stages[0], attend(0), stages[1], attend(1), stages[2][:1]
        )
        self.branches = nn.ModuleList()
        for stripes in [0, *parts]:
            last_stage = copy.deepcopy(stages[3])
            remove_downsampling(last_stage)
            layers = nn.Sequential(
                copy.deepcopy(stages[2][1:]), attend(2), last_stage, attend(3)
            )
            self.branches.append(Branch(layers, ch[3], stripes, embed_dim))
        self.num_features = sum(len(b.reductions) for b in self.branches)
        self.embed_dim = embed_dim
        self.dropout = nn.Dropout(dropout)
        self.classifiers = nn.ModuleList(
            nn.Linear(embed_dim, num_classes) for _ in range(self.num_features)
        )
        for clf in self.classifiers:
            nn.init.normal_(clf.weight, std=0.001)
            nn.init.zeros_(clf.bias)
        self.pretrained_report: LoadReport | None = None

    def head_parameters(self) -> list[nn.Parameter]:
        """The reductions' and classifiers' parameters: new layers with no ImageNet weights,
        the ones `train.head_lr_mult` speeds up."""
        heads = [*self.classifiers, *(r for b in self.branches for r in b.reductions)]
        return [p for m in heads for p in m.parameters()]

    def head_prefixes(self) -> tuple[str, ...]:
        """State-dict key prefixes of the same head layers: what a run started from another
        re-id checkpoint may re-initialise (`rfdreid.training.finetune`)."""
        return ("classifiers.", *(f"branches.{i}.reductions." for i in range(len(self.branches))))

    @property
    def feature_dim(self) -> int:
        """D of the eval embedding: embed_dim x number of reduced features (2048 for MGN)."""
        return self.embed_dim * self.num_features

    def branch_features(self, x: Tensor) -> list[list[Tensor]]:
        """x [B, 3, H, W] -> per branch, its reduced features [B, embed_dim] (global first)."""
        shared = self.shared(x)
        return [branch(shared) for branch in self.branches]

    def embed(self, x: Tensor) -> Tensor:
        """x [B, 3, H, W] -> [B, feature_dim], the concatenated reduced features."""
        return torch.cat([f for fs in self.branch_features(x) for f in fs], dim=1)

    def forward(self, x: Tensor) -> ReIDOutput | Tensor:
        if not self.training:
            return self.embed(x)
        per_branch = self.branch_features(x)
        features = [f for fs in per_branch for f in fs]
        logits = [clf(self.dropout(f)) for clf, f in zip(self.classifiers, features)]
        return ReIDOutput(logits=logits, triplet_features=[fs[0] for fs in per_branch])

"""Batch-hard triplet loss (eq 2; Hermans et al. 2017), summed over branches."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

DIST_EPS = 1e-12  # floor under the squared distance: sqrt has an infinite slope at 0


def euclidean_dist(x: Tensor, y: Tensor) -> Tensor:
    """x [M, d], y [N, d] -> [M, N] Euclidean distances.

    Sums squared differences directly (an [M, N, d] temporary, small at training batch
    sizes) instead of |x|^2 + |y|^2 - 2 x.y, whose float32 cancellation leaves ~1e-3 on the
    diagonal; the clamp before the square root gives identical embeddings a finite gradient
    instead of NaN.
    """
    sq = (x.unsqueeze(1) - y.unsqueeze(0)).pow(2).sum(-1)
    return sq.clamp(min=DIST_EPS).sqrt()


def hard_example_mining(dist: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Hardest positive and hardest negative distance for each anchor.

    dist: [N, N]; targets: [N]. Returns (dist_ap [N], dist_an [N]). Every anchor needs at
    least one other sample of its class and one of another class (PK sampling gives both).
    """
    same = targets.unsqueeze(0) == targets.unsqueeze(1)
    dist_ap = dist.masked_fill(~same, float("-inf")).amax(dim=1)
    dist_an = dist.masked_fill(same, float("inf")).amin(dim=1)
    return dist_ap, dist_an


def batch_hard_triplet(features: Tensor, targets: Tensor, margin: float = 0.3) -> Tensor:
    """features [N, d], targets [N] -> mean over anchors of relu(d_ap - d_an + margin).

    In float32 whatever the autocast precision: a bf16 distance keeps 8 significant bits
    (steps of 0.125 at a distance of 20), coarser than the gaps between hardest positive,
    hardest negative and margin that the loss is made of.
    """
    features = features.float()
    dist_ap, dist_an = hard_example_mining(euclidean_dist(features, features), targets)
    return F.relu(dist_ap - dist_an + margin).mean()


def triplet_loss(features: list[Tensor], targets: Tensor, margin: float = 0.3) -> Tensor:
    """Sum of the batch-hard triplet loss over branches; features: list of [N, d]."""
    return torch.stack([batch_hard_triplet(f, targets, margin) for f in features]).sum()

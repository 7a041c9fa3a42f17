"""The training objective: L = L_id (eq 1) + L_tri (eq 2), with terms reported for logging."""

from __future__ import annotations

import torch
from torch import Tensor

from rfdreid.losses.id_loss import id_loss
from rfdreid.losses.triplet import triplet_loss
from rfdreid.models.reid_net import ReIDOutput


class ReIDLoss:
    """`loss, terms = ReIDLoss()(output, targets)`.

    output: the train-mode ReIDOutput; targets: [B] class indices (person ids for B-F,
    resolution classes for B-R). `terms` = {"id", "triplet", "total", "acc"} as floats; "acc"
    is the batch accuracy averaged over the classifiers.

    Both terms are computed in float32 whatever the autocast precision (`id_loss`,
    `batch_hard_triplet`).
    """

    def __init__(self, margin: float = 0.3, label_smoothing: float = 0.0) -> None:
        self.margin = margin
        self.label_smoothing = label_smoothing

    def __call__(self, output: ReIDOutput, targets: Tensor) -> tuple[Tensor, dict[str, float]]:
        l_id = id_loss(output.logits, targets, self.label_smoothing)
        l_tri = triplet_loss(output.triplet_features, targets, self.margin)
        total = l_id + l_tri
        with torch.no_grad():
            acc = torch.stack([(z.argmax(1) == targets).float().mean() for z in output.logits])
        terms = {
            "id": l_id.item(),
            "triplet": l_tri.item(),
            "total": total.item(),
            "acc": acc.mean().item(),
        }
        return total, terms

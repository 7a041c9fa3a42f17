"""Identity classification loss summed over classifiers (eq 1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def id_loss(logits: list[Tensor], targets: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Sum over classifiers of the batch-mean cross-entropy.

    logits: list of [B, num_classes]; targets: [B] class indices. Returns a scalar, in
    float32 also for bf16/fp16 logits (the log-softmax of a 701-way classifier needs it).
    """
    losses = [F.cross_entropy(z.float(), targets, label_smoothing=label_smoothing)
              for z in logits]
    return torch.stack(losses).sum()

"""Losses: identity cross-entropy (eq 1), batch-hard triplet (eq 2), and their sum."""

from rfdreid.losses.id_loss import id_loss
from rfdreid.losses.reid_loss import ReIDLoss
from rfdreid.losses.triplet import (
    batch_hard_triplet,
    euclidean_dist,
    hard_example_mining,
    triplet_loss,
)

__all__ = [
    "ReIDLoss",
    "batch_hard_triplet",
    "euclidean_dist",
    "hard_example_mining",
    "id_loss",
    "triplet_loss",
]

"""The B-R resolution class of an image: argmax of the B-R classifiers' mean probability.

Why a TestEmbedding: gallery "features" pass through :func:`embed_gallery`, so the class
probabilities get the same incremental cache as the embeddings (in their own folder).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rfdreid.models.reid_net import ReIDNet
from rfdreid.inference.test_feature import TestEmbedding


class ResolutionProbabilities(TestEmbedding):
    """x [B, 3, H, W] -> [B, C]: softmax of the B-R classifiers, averaged over every reduced
    feature (and over the mirror image with `flip`), as B-R was trained to predict."""

    def __init__(self, net: ReIDNet, flip: bool = True) -> None:
        super().__init__(net, flip=flip, normalize=False)

    @property
    def feature_dim(self) -> int:
        return int(self.net.classifiers[0].out_features)

    def _probabilities(self, x: Tensor) -> Tensor:
        feats = [f for fs in self.net.branch_features(x) for f in fs]
        logits = torch.stack([clf(f) for clf, f in zip(self.net.classifiers, feats)])
        return logits.float().softmax(-1).mean(0)

    def forward(self, x: Tensor) -> Tensor:
        p = self._probabilities(x)
        return (p + self._probabilities(x.flip(-1))) / 2 if self.flip else p


def resolution_label(probabilities: Tensor) -> list[str]:
    """One label per row: "R<k> <p>%" with k the argmax class (0 = the highest resolution
    on synthetic/MLR protocols, where class k means down-sampled by k+1)."""
    p, k = probabilities.max(1)
    return [f"R{c} {100 * q:.0f}%" for c, q in zip(k.tolist(), p.tolist())]

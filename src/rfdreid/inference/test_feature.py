"""The test-time embedding, as MGN computes it: one definition for every consumer.

MGN's test feature is the network's embedding of the image plus that of its mirror image,
then L2-normalised. Normalising *after* the sum matters: it puts every feature on the unit
sphere, so the Euclidean D_f lies in [0, 2] and the resolution term lambda * D_r of eq. 8
(lambda = 0.1, D_r within [-1, 2]) is on its scale. On raw features D_f spans tens of units
and RFD cannot move a ranking.

Evaluation, `rfdreid search`, the Python API and ONNX export all wrap the network in
:class:`TestEmbedding`, so they produce the same feature for the same image.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class TestEmbedding(nn.Module):
    """Wraps an eval-mode re-id network: x [B, 3, H, W] -> [B, D] test features.

    flip: add the embedding of the mirrored image (MGN). normalize: L2-normalise the
    (summed) embedding.
    """

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, net: nn.Module, flip: bool = True, normalize: bool = True) -> None:
        super().__init__()
        self.net, self.flip, self.normalize = net, flip, normalize

    @property
    def feature_dim(self) -> int:
        return int(self.net.feature_dim)

    def forward(self, x: Tensor) -> Tensor:
        feats = self.net(x).float()  # fp32 from here on, whatever the network ran in
        if self.flip:
            feats = feats + self.net(x.flip(-1)).float()
        return F.normalize(feats, dim=1) if self.normalize else feats

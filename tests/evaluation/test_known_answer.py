"""End to end with a known answer: trivially separable identities must be ranked perfectly.

Images are solid colours, one colour per identity, so the right answer is known without
any model: every query's nearest cross-camera gallery image is its own identity. The
embedding is hand-made (the mean colour of the normalised image), wrapped in the real
TestEmbedding and run through the real degradation, extraction and ranking code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from rfdreid.data.records import ImageRecord
from rfdreid.inference.extract import extract_features
from rfdreid.evaluation.distance import euclidean_distance, evaluate_features
from rfdreid.inference.test_feature import TestEmbedding

COLOURS = [(230, 20, 20), (20, 230, 20), (20, 20, 230), (230, 230, 20), (20, 230, 230),
           (230, 20, 230)]


class MeanColour(nn.Module):
    """Hand-made embedding: [B, 3, H, W] -> the per-channel mean, [B, 3]."""

    feature_dim = 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def _records(root: Path, cam: int, factor: int) -> list[ImageRecord]:
    recs = []
    for pid, colour in enumerate(COLOURS):
        path = root / f"{pid}_{cam}.png"
        Image.new("RGB", (16, 32), colour).save(path)
        recs.append(ImageRecord(str(path), pid, cam, factor=factor))
    return recs


def test_separable_identities_top_hit_is_true_match_and_r1_is_100(tmp_path: Path) -> None:
    """Kills any ranking/extraction bug that mismatches queries and gallery ids."""
    query = _records(tmp_path, cam=0, factor=3)  # LR queries, as in the MLR protocol
    gallery = _records(tmp_path, cam=1, factor=1)[::-1]  # reversed: order carries no answer
    model = TestEmbedding(MeanColour().eval())
    kw = {"height": 32, "width": 16, "interpolation": "bicubic", "progress": False}
    qf, gf = extract_features(model, query, **kw), extract_features(model, gallery, **kw)
    top = euclidean_distance(qf, gf).argmin(dim=1).tolist()
    assert [gallery[i].pid for i in top] == [r.pid for r in query]
    pids = lambda recs: np.array([r.pid for r in recs])  # noqa: E731
    cams = lambda recs: np.array([r.camid for r in recs])  # noqa: E731
    res = evaluate_features(qf, gf, pids(query), pids(gallery), cams(query), cams(gallery))[0.0]
    assert res.r1 == 1.0 and res.mAP == 1.0  # fractions: R1 100 %, mAP 100 %

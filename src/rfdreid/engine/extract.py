"""Feature extraction in batches, with an on-disk cache keyed by weights + protocol.

Why a cache: evaluating B-F, B-F+RFD and a lambda sweep, or re-running an evaluation,
reuses the same query/gallery features; the key (checkpoint identity, protocol hash,
subset, flip, input size) makes a stale cache impossible to hit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from rfdreid.data.dataset import ReIDImageDataset
from rfdreid.data.records import ImageRecord
from rfdreid.data.transforms import build_transform
from rfdreid.engine.checkpoint import TrainedModel
from rfdreid.fileio import atomic_write
from rfdreid.models import build_model
from rfdreid.progress import progress as progress_bar


def build_inference_model(
    trained: TrainedModel, device: torch.device | str = "cpu", normalize: bool | None = None
) -> nn.Module:
    """Rebuild the network stored in a checkpoint, in eval mode.

    normalize: L2-normalise the embedding (default: the checkpoint's eval.normalize).
    """
    # The checkpoint holds every weight: never re-read ImageNet files at inference.
    model = build_model(replace(trained.config.model, pretrained=None), trained.num_classes)
    model.load_state_dict(trained.model_state)
    model.normalize = trained.config.eval.normalize if normalize is None else normalize
    return model.to(device).eval()


@torch.inference_mode()
def extract_features(
    model: nn.Module,
    records: Sequence[ImageRecord],
    *,
    height: int,
    width: int,
    interpolation: str,
    batch_size: int = 64,
    flip: bool = False,
    workers: int = 0,
    device: torch.device | str = "cpu",
    desc: str = "extract",
    progress: bool = True,
) -> torch.Tensor:
    """Embed `records` (degraded as each record says). Returns [N, D] float32 on CPU.

    flip: average the embeddings of each image and its mirror image.
    """
    dataset = ReIDImageDataset(
        list(records), build_transform(height, width, train=False), interpolation, train=False
    )
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
    chunks = []
    for images, *_ in progress_bar(loader, desc=desc, enabled=progress, unit="batch", leave=False):
        images = images.to(device)
        feats = model(images)
        if flip:
            feats = (feats + model(images.flip(-1))) / 2
        chunks.append(feats.float().cpu())
    if not chunks:
        return torch.empty(0, 0)
    return torch.cat(chunks)


class FeatureCache:
    """Stores extracted features as `<dir>/<key>.pt`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:20]

    def get_or_compute(self, key: str, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        path = self.directory / f"{key}.pt"
        if path.is_file():
            return torch.load(path, map_location="cpu")
        feats = compute()
        atomic_write(path, lambda tmp: torch.save(feats, tmp))
        return feats

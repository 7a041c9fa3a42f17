"""Image -> tensor pipeline and the torch Dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from rfdreid.data.datasets import DATASETS
from rfdreid.data.protocols import build_mlr_protocol
from rfdreid.data.dataset import ReIDImageDataset
from rfdreid.data.records import ImageRecord
from rfdreid.data.transforms import build_transform, random_erase


def _img() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 20, 3), dtype=np.uint8))


def test_test_transform_shape_and_normalisation() -> None:
    x = build_transform(32, 16, train=False)(Image.new("RGB", (20, 40), (124, 116, 104)), None)
    assert x.shape == (3, 32, 16) and x.dtype == torch.float32
    assert x.abs().max() < 0.02  # the ImageNet mean maps to ~0


def test_train_transform_is_deterministic_for_an_rng() -> None:
    tf = build_transform(32, 16, train=True, flip_p=0.5, erasing_p=1.0)
    a = tf(_img(), np.random.default_rng(5))
    b = tf(_img(), np.random.default_rng(5))
    c = tf(_img(), np.random.default_rng(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_flip_and_erasing() -> None:
    plain = build_transform(32, 16, train=False)(_img(), None)
    flipped = build_transform(32, 16, train=True, flip_p=1.0, erasing_p=0.0)(
        _img(), np.random.default_rng(0))
    assert torch.equal(flipped, plain.flip(-1))
    arr = np.ones((3, 64, 32), np.float32)
    random_erase(arr, np.random.default_rng(0))
    erased = (arr == 0).all(axis=0).mean()
    assert 0.02 * 0.9 <= erased <= 0.4 * 1.1


def test_dataset_items(fake_market: Path) -> None:
    protocol = build_mlr_protocol(DATASETS.get("market1501")(fake_market), 0)
    ds = ReIDImageDataset(protocol.train, build_transform(32, 16, True), "bicubic", True,
                          cache_size=4)
    assert len(ds) == len(protocol.train)
    img, pid, camid, res, index = ds[(len(ds) - 1, 42)]
    rec = protocol.train[-1]
    assert img.shape == (3, 32, 16) and (pid, camid, res, index) == (
        rec.pid, rec.camid, rec.res_label, len(ds) - 1)
    assert torch.equal(ds[(3, 7)][0], ds[(3, 7)][0])
    assert ds[0][4] == 0
    test_ds = ReIDImageDataset(protocol.query, build_transform(32, 16, False), "bicubic", False)
    assert torch.equal(test_ds[1][0], test_ds[(1, 99)][0])


def test_dataset_loads_an_lr_record_degraded_by_its_factor(tmp_path: Path) -> None:
    """Kills: the dataset ignores record.factor (every LR record loaded as HR)."""
    path = tmp_path / "p.png"
    _img().save(path)  # PNG: lossless, so the oracle reads the very pixels the dataset reads
    tf = build_transform(32, 16, train=False)
    records = [ImageRecord(str(path), 0, 0, factor=1, res_label=0),
               ImageRecord(str(path), 0, 0, factor=3, res_label=2)]
    ds = ReIDImageDataset(records, tf, "bicubic", train=False)
    src = Image.open(path).convert("RGB")
    w, h = src.size
    small = src.resize((round(w / 3), round(h / 3)), Image.Resampling.BICUBIC)
    expected_lr = tf(small.resize((w, h), Image.Resampling.BICUBIC), None)
    hr, lr = ds[0][0], ds[1][0]
    assert torch.equal(lr, expected_lr)
    assert torch.equal(hr, tf(src, None))
    assert not torch.equal(lr, hr)

"""Tiny fake datasets written with Pillow into tmp_path (a few dozen 8x16 JPEGs each)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def write_jpeg(path: Path, size: tuple[int, int] = (8, 16), seed: int = 0) -> Path:
    """A small random-colour JPEG at path (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, quality=90)
    return path


@pytest.fixture
def fake_market(tmp_path: Path) -> Path:
    """Market layout: train ids 2, 4, 7 (3 cams x 2), test ids 1, 3 + distractor 0000 + junk -1."""
    root = tmp_path / "market"
    n = 0
    for pid in (2, 4, 7):
        for cam in (1, 2, 3):
            for k in range(2):
                n += 1
                name = f"{pid:04d}_c{cam}s1_{k:06d}_00.jpg"
                write_jpeg(root / "bounding_box_train" / name, seed=n)
    for pid in (1, 3):
        for cam in (1, 2):
            write_jpeg(root / "query" / f"{pid:04d}_c{cam}s1_000000_00.jpg", seed=pid * 10 + cam)
            for k in range(2):
                write_jpeg(root / "bounding_box_test" / f"{pid:04d}_c{cam}s2_{k:06d}_01.jpg")
    write_jpeg(root / "bounding_box_test" / "0000_c1s1_000100_01.jpg")
    write_jpeg(root / "bounding_box_test" / "-1_c2s1_000100_02.jpg")
    (root / "bounding_box_train" / "Thumbs.db").write_bytes(b"\x00not an image")
    return root


@pytest.fixture
def fake_caviar(tmp_path: Path) -> Callable[..., Path]:
    """Builder of a CAVIAR layout: two_cam ids with 20 images, one_cam ids with 10.

    Camera 0 (images 1-10) is LR (small crops), camera 1 is HR; half the ids use the
    original PPPPIII.jpg names, half PPPP_III.jpg.
    """

    def build(two_cam: int = 50, one_cam: int = 4, images: int = 10) -> Path:
        root = tmp_path / "caviar"
        for pid in range(1, two_cam + one_cam + 1):
            cams = 1 if pid > two_cam else 2
            for cam in range(cams):
                for k in range(images if cams == 2 else 10):
                    img = cam * 10 + k + 1
                    size = (8 + k, 16 + 2 * k) if cam == 0 else (20 + k, 40 + 2 * k)
                    name = f"{pid:04d}{img:03d}.jpg" if pid % 2 else f"{pid:04d}_{img:03d}.jpg"
                    write_jpeg(root / name, size)
        return root

    return build


@pytest.fixture
def jpeg() -> Callable[..., Path]:
    """write_jpeg, for tests that add single files."""
    return write_jpeg

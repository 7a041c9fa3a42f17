"""The generator's cameras at several distances, distractors and manifest."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from rfdreid.data.datasets import DATASETS, read_dataset
from rfdreid.data.synthetic import generate_synthetic


def test_far_cameras_draw_smaller_crops(tmp_path: Path) -> None:
    root = generate_synthetic(tmp_path / "syn", num_train_ids=4, num_test_ids=2, num_cameras=3,
                              images_per_id_per_camera=2, camera_distances=(1, 2, 4),
                              num_distractors=3, manifest=True)
    near = generate_synthetic(tmp_path / "near", num_train_ids=4, num_test_ids=2,
                              num_cameras=3, images_per_id_per_camera=2)
    raw, ref = read_dataset("manifest", root), DATASETS.get("market1501")(near)

    def heights(ds, cam: int) -> np.ndarray:
        return np.array([ds.sizes[r.path][1] for r in ds.subsets["train"] if r.camid == cam])

    assert np.array_equal(heights(raw, 0), heights(ref, 0))  # distance 1: the default crops
    for cam, distance in ((1, 2), (2, 4)):
        assert np.allclose(heights(raw, cam), heights(ref, cam) / distance, atol=1)
    rows = list(csv.DictReader((root / "manifest.csv").open()))
    assert len(rows) == 6 * 3 * 2 + 3
    distractors = [r for r in rows if r["pid"] == "-1"]
    assert [(r["camid"], r["split"]) for r in distractors] == [("0", "gallery"), ("1", "gallery"),
                                                               ("2", "gallery")]
    assert sum(r.pid == -1 for r in raw.subsets["gallery"]) == 3
    # the Market reader sees the same distractors as Market's id 0000
    assert sum(r.pid == 0 for r in DATASETS.get("market1501")(root).subsets["gallery"]) == 3


def test_distances_must_match_cameras(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="camera_distances needs 3 positive values"):
        generate_synthetic(tmp_path / "s", num_cameras=3, camera_distances=(1, 2))

"""The generated pedestrian set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from rfdreid.data.datasets import DATASETS
from rfdreid.data.synthetic import generate_synthetic


def test_generate_and_read_as_market(tmp_path: Path) -> None:
    root = generate_synthetic(tmp_path / "syn", num_train_ids=3, num_test_ids=2,
                              num_cameras=2, images_per_id_per_camera=3, seed=1)
    raw = DATASETS.get("market1501")(root)
    assert len(raw.subsets["train"]) == 3 * 2 * 3 and raw.subsets["train"][-1].pid == 2
    assert len(raw.subsets["query"]) == 2 * 2 and len(raw.subsets["gallery"]) == 2 * 2 * 2
    for w, h in raw.sizes.values():
        assert 80 <= h <= 160 and 1.9 <= h / w <= 3.4
    again = generate_synthetic(tmp_path / "syn2", num_train_ids=3, num_test_ids=2,
                               num_cameras=2, images_per_id_per_camera=3, seed=1)
    name = "0002_c2s1_000025_00.jpg"
    a = np.asarray(Image.open(root / "bounding_box_train" / name))
    assert np.array_equal(a, np.asarray(Image.open(again / "bounding_box_train" / name)))
    assert not list(tmp_path.glob(".syn*"))  # no temporary folder left


def test_identity_is_more_alike_than_others(tmp_path: Path) -> None:
    """Same-id crops share clothing colours: mean colour distance is smaller within ids."""
    root = generate_synthetic(tmp_path / "syn", num_train_ids=12, num_test_ids=1,
                              num_cameras=2, images_per_id_per_camera=2, seed=0)
    raw = DATASETS.get("market1501")(root)

    def centre_colour(path: str) -> np.ndarray:
        arr = np.asarray(Image.open(path).resize((16, 48)), np.float32)
        return arr[12:36, 5:11].reshape(-1, 3).mean(0)

    feats = np.stack([centre_colour(r.path) for r in raw.subsets["train"]])
    pids = np.array([r.pid for r in raw.subsets["train"]])
    dist = np.linalg.norm(feats[:, None] - feats[None], axis=-1)
    same = pids[:, None] == pids[None]
    np.fill_diagonal(same, False)
    diff = pids[:, None] != pids[None]
    assert dist[same].mean() < 0.6 * dist[diff].mean()


def test_registered_reader_generates_when_missing(tmp_path: Path, monkeypatch) -> None:
    import rfdreid.data.datasets.synthetic as reader

    monkeypatch.setattr(reader, "generate_synthetic",
                        lambda root: generate_synthetic(root, 2, 2, 2, 2, seed=0))
    raw = DATASETS.get("synthetic")(tmp_path / "new")
    assert raw.name == "synthetic" and len(raw.subsets["train"]) == 8

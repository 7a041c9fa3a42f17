"""A tiny hand-built protocol (a few dozen small JPEGs) and a tiny model config, for tests
that train and evaluate. Import `TINY_OVERRIDES` / `make_tiny_protocol` from `tiny`."""

from __future__ import annotations

from dataclasses import dataclass
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from rfdreid.data.records import ImageRecord, Protocol

TINY_OVERRIDES = [
    "model.backbone=resnet18", "model.width_mult=0.25", "model.pretrained=null",
    "data.height=64", "data.width=32", "train.iterations=4", "train.num_ids=3",
    "train.num_instances=2", "train.per_resolution=2", "train.checkpoint_every=2",
    "train.log_every=1", "eval.batch_size=16",
    "train.precision=fp32",  # not `auto`: the same numerics on every CPU (and fast on AVX2)
]


def _person(path: Path, pid: int, cam: int, rng: np.random.Generator) -> str:
    """A 64x32 'person': id-specific top/bottom colours, camera-specific background."""
    img = np.empty((64, 32, 3), np.float32)
    img[:] = 40 + 60 * cam
    top = np.array([(pid * 67) % 256, (pid * 131) % 256, (pid * 29) % 256])
    img[8:32, 8:24] = top
    img[32:60, 10:22] = 255 - top
    img += rng.normal(0, 12, img.shape)
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(path)
    return str(path)


def make_tiny_protocol(tmp_path: Path, test_ids: int = 4) -> Path:
    """(6 + test_ids) ids x 2 cameras x 3 images; ids 0-5 train (HR + one LR copy), the
    others (6-9 by default) test: one LR query each from camera 0, galleries of camera 1."""
    rng = np.random.default_rng(0)
    root = tmp_path / "imgs"
    root.mkdir()
    train, query, single, multi = [], [], [], []
    for pid in range(6 + test_ids):
        for cam in range(2):
            for k in range(3):
                p = _person(root / f"{pid}_{cam}_{k}.jpg", pid, cam, rng)
                if pid < 6:
                    factor = int(rng.integers(2, 5))
                    train += [ImageRecord(p, pid, cam), ImageRecord(p, pid, cam, factor, factor - 1)]
                elif cam == 0 and k == 0:
                    f = int(rng.integers(2, 5))
                    query.append(ImageRecord(p, pid, cam, f, f - 1))
                elif cam == 1:
                    single.append(ImageRecord(p, pid, cam))
                    f = int(rng.integers(1, 5))
                    multi.append(ImageRecord(p, pid, cam, f, f - 1))
    proto = Protocol(
        dataset="tiny", interpolation="bicubic", seed=0, num_res_classes=4, train=train,
        query=query, galleries={"single": single, "multi": multi},
    )
    path = tmp_path / "protocol.json"
    proto.save(path)
    return path


@dataclass(frozen=True)
class TinyPair:
    protocol: Path
    bf: Path
    br: Path
    images: Path  # the protocol's JPEGs, named <pid>_<cam>_<k>.jpg


def train_tiny_pair(root: Path) -> TinyPair:
    """The tiny protocol under `root` and a B-F / B-R pair trained on it for 2 iterations
    each (seconds on a CPU)."""
    from rfdreid.config import load_config
    from rfdreid.training.trainer import train

    protocol = make_tiny_protocol(root)
    paths = {}
    for kind, task in (("bf", "id"), ("br", "resolution")):
        cfg = load_config(None, [*TINY_OVERRIDES, "train.iterations=2", f"train.task={task}",
                                 f"data.protocol={protocol}", f"train.out_dir={root / kind}"])
        paths[kind] = train(cfg, progress=False)
    return TinyPair(protocol, paths["bf"], paths["br"], root / "imgs")


def market_style_gallery(images: Path, folder: Path, shots: int) -> Path:
    """Test ids 6-9 of the tiny protocol copied into `folder` under Market-style names
    (`00PP_c<cam>s1_00000K_00.jpg`, `shots` per id and camera), so ids can be read back."""
    folder.mkdir(parents=True, exist_ok=True)
    for pid in range(6, 10):
        for cam in range(2):
            for k in range(shots):
                shutil.copy(images / f"{pid}_{cam}_{k}.jpg",
                            folder / f"{pid:04d}_c{cam + 1}s1_{k:06d}_00.jpg")
    return folder

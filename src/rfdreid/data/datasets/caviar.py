"""CAVIAR4REID: the real multi-resolution set of the paper.

Reference:
    Cheng et al. Custom Pictorial Structures for Re-identification. BMVC 2011.

Statistics:
    1,220 images of 72 people from 2 cameras of a shopping centre, no resizing
    (16 x 39 up to 75 x 150 pixels). 50 people appear in both cameras (10 images each);
    22 appear in one camera only (images 1-10 alone) and are dropped by the protocol.

Layout and naming rule:
    ROOT/PPPPIII.jpg (original release) or ROOT/PPPP_III.jpg
    PPPP person id 0001-0072, III image 001-020; images 001-010 come from one camera
    (camid 0), 011-020 from the other (camid 1).
"""

from __future__ import annotations

import re
from pathlib import Path

from rfdreid.data.datasets.base import DATASETS, RawDataset, image_files
from rfdreid.data.images import read_image_size
from rfdreid.data.records import ImageRecord
from rfdreid.errors import ReIDError

CAVIAR_RULE = "PPPPIII.jpg or PPPP_III.jpg (image III 001-020)"
CAVIAR_NAME = re.compile(r"(?P<pid>\d{4})_?(?P<img>\d{3})\.jpe?g", re.IGNORECASE)
IMAGES_PER_CAMERA = 10


def caviar_camera(image_number: int) -> int:
    """Camera of an image number: 1-10 -> 0, 11-20 -> 1."""
    return (image_number - 1) // IMAGES_PER_CAMERA


@DATASETS.register("caviar")
def read_caviar(root: Path) -> RawDataset:
    """All CAVIAR4REID images as one "all" subset (original pids); protocols split them."""
    root = Path(root)
    records: list[ImageRecord] = []
    sizes: dict[str, tuple[int, int]] = {}
    for path in image_files(root, f"{root}/{CAVIAR_RULE}"):
        m = CAVIAR_NAME.fullmatch(path.name)
        if m is None or not 1 <= int(m["img"]) <= 2 * IMAGES_PER_CAMERA:
            raise ReIDError(
                f"file {path} does not follow the naming rule {CAVIAR_RULE}; rename or remove it"
            )
        key = str(path.resolve())
        sizes[key] = read_image_size(path)
        records.append(ImageRecord(key, int(m["pid"]), caviar_camera(int(m["img"]))))
    return RawDataset("caviar", root, {"all": records}, sizes, resolution="real")

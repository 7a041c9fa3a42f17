"""A generic folder layout for users' own data.

Layout and naming rule:
    ROOT/{train,query,gallery}/<pid>_c<cam>[_anything].<ext>
    <pid> a non-negative integer person id, <cam> a camera number starting at 1,
    <ext> one of jpg, jpeg, png, bmp, webp. Example: ``ROOT/query/17_c2_frame0045.jpg``.
    Query and gallery ids must match for the same person; training ids are relabelled.
    There are no junk ids: every image is used.
"""

from __future__ import annotations

import re
from pathlib import Path

from rfdreid.data.datasets.base import DATASETS, NamePattern, RawDataset, read_split_folders

FOLDER_SUBSETS = {"train": "train", "query": "query", "gallery": "gallery"}
FOLDER_PATTERN = NamePattern(
    re.compile(r"(?P<pid>\d+)_c(?P<cam>\d+)(_[^/]*)?\.(jpe?g|png|bmp|webp)", re.IGNORECASE),
    "<pid>_c<cam>[_anything].jpg (cam starts at 1)",
)


@DATASETS.register("folder")
def read_folder(root: Path) -> RawDataset:
    """Records of a user folder with train / query / gallery sub-folders."""
    return read_split_folders("folder", Path(root), FOLDER_SUBSETS, FOLDER_PATTERN)

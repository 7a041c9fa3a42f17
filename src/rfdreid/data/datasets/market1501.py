"""Market-1501.

Reference:
    Zheng et al. Scalable Person Re-identification: A Benchmark. ICCV 2015.

Statistics:
    1501 identities (751 train, 750 test) from 6 cameras; 12,936 train images,
    3,368 queries, 15,913 gallery images (19,732 in bounding_box_test, of which the
    3,819 with pid -1 are junk); all crops 64 x 128.

Layout and naming rule:
    ROOT/{bounding_box_train,query,bounding_box_test}/PPPP_cXsY_FFFFFF_NN.jpg
    PPPP person id (0000 = distractor, kept in the gallery; -1 = junk, dropped),
    X camera 1-6, Y sequence, FFFFFF frame, NN detection box.
    Quirk of the release: 24 files (ids 1488, 0000, -1, cameras 1-6) are named
    ``...NN.jpg.jpg``; they belong to the set (the statistics count them) and are read.
"""

from __future__ import annotations

import re
from pathlib import Path

from rfdreid.data.datasets.base import DATASETS, NamePattern, RawDataset, read_split_folders

MARKET_FOLDERS = {"train": "bounding_box_train", "query": "query", "gallery": "bounding_box_test"}
MARKET_PATTERN = NamePattern(
    re.compile(r"(?P<pid>-1|\d{4})_c(?P<cam>\d)s\d_\d{6}_\d{2}\.jpg(\.jpg)?", re.IGNORECASE),
    "PPPP_cXsY_FFFFFF_NN.jpg",
    cameras=6,
)
MARKET_JUNK_PIDS = frozenset({-1})


@DATASETS.register("market1501")
def read_market1501(root: Path) -> RawDataset:
    """Records of a Market-1501 release folder (or any folder in its layout)."""
    return read_split_folders("market1501", Path(root), MARKET_FOLDERS, MARKET_PATTERN,
                              MARKET_JUNK_PIDS)

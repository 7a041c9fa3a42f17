"""The procedurally generated set of rfdreid.data.synthetic, read as Market-1501.

Statistics (defaults): 40 train ids, 30 test ids, 3 cameras, 4 crops per id and
camera: 480 train images, 90 queries, 270 gallery images, crops 80-160 px high.

Layout and naming rule: as Market-1501 (PPPP_cXs1_FFFFFF_00.jpg), no junk, no
distractors. The reader generates the set with default arguments when root is missing
or empty, then reads it; call generate_synthetic first for other sizes.
"""

from __future__ import annotations

from pathlib import Path

from rfdreid.data.datasets.base import DATASETS, RawDataset, read_split_folders
from rfdreid.data.datasets.market1501 import MARKET_FOLDERS, MARKET_PATTERN
from rfdreid.data.synthetic import generate_synthetic


@DATASETS.register("synthetic")
def read_synthetic(root: Path) -> RawDataset:
    """Generate the default synthetic set in root if root is missing or empty, then read it."""
    root = Path(root)
    if not root.exists() or (root.is_dir() and not any(root.iterdir())):
        generate_synthetic(root)
    return read_split_folders("synthetic", root, MARKET_FOLDERS, MARKET_PATTERN)

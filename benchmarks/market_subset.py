"""Copy a Market-1501 folder with all training images and the first N test ids only.

Why: the device tool uploads at most 64 MiB with the repository, and Market-1501 is about
145 MB. Training needs every `bounding_box_train` image (52 MB); the evaluation of a GPU
check only needs enough test ids to exercise both galleries. Distractors (id 0000) and junk
(-1) are left out of the copy, and the printed summary says how many of each.

    python benchmarks/market_subset.py MARKET_ROOT OUT [--test-ids 100]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from pathlib import Path

TEST_FOLDERS = ("query", "bounding_box_test")


def _pid(name: str) -> int:
    return int(name.split("_", 1)[0])


def copy_subset(root: Path, out: Path, test_ids: int) -> Counter[str]:
    """Copy train fully, and query + gallery images of the first `test_ids` test ids."""
    missing = [f for f in ("bounding_box_train", *TEST_FOLDERS) if not (root / f).is_dir()]
    if missing:
        raise SystemExit(f"{root}: no {', '.join(missing)} folder; pass a Market-1501 root")
    if out.exists():
        raise SystemExit(f"{out} exists; pass a new folder")
    shutil.copytree(root / "bounding_box_train", out / "bounding_box_train")
    real = sorted({_pid(p.name) for p in (root / "query").glob("*.jpg")} - {0, -1})
    keep = set(real[:test_ids])
    counts: Counter[str] = Counter()
    for folder in TEST_FOLDERS:
        (out / folder).mkdir(parents=True)
        for path in sorted((root / folder).glob("*.jpg")):
            pid = _pid(path.name)
            if pid in keep:
                shutil.copy2(path, out / folder / path.name)
                counts[f"{folder} copied"] += 1
            else:
                counts[f"{folder} left out ({'distractor/junk' if pid in (0, -1) else 'later id'})"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--test-ids", type=int, default=100)
    args = parser.parse_args()
    for what, n in sorted(copy_subset(args.root, args.out, args.test_ids).items()):
        print(f"{what}: {n}")
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {size / 2**20:.1f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()

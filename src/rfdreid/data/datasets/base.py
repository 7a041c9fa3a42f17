"""What a dataset reader returns, the DATASETS registry, and the shared folder parser.

Why: Market-1501, DukeMTMC-reID, the synthetic set and users' folders differ only in
folder names, a file-name pattern and junk ids; one parser turns such a folder into
records, so each dataset module holds just its facts (reference, statistics, rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rfdreid.data.images import list_images, read_image_size
from rfdreid.data.records import ImageRecord
from rfdreid.errors import ReIDError
from rfdreid.registry import Registry


@dataclass
class RawDataset:
    """The HR images of a dataset as stored on disk, before any protocol is applied.

    subsets: "train" / "query" / "gallery" records (factor 1) for datasets with a fixed
        split; a single "all" subset for datasets split by a protocol (CAVIAR, a manifest
        without split column).
    sizes: (width, height) of every image path, read from the headers.
    resolution: "synthetic" (HR images the MLR protocol degrades) or "real" (images with
        real resolutions, build_real_protocol): what `prepare --resolution auto` picks, in
        the vocabulary of `--resolution`.
    """

    name: str
    root: Path
    subsets: dict[str, list[ImageRecord]]
    sizes: dict[str, tuple[int, int]] = field(repr=False)
    resolution: str = "synthetic"

    def subset(self, name: str) -> list[ImageRecord]:
        """Records of one subset; a protocol asking for a missing one gets a clear error."""
        if name not in self.subsets:
            raise ReIDError(
                f"dataset {self.name} has no {name!r} subset (it has {', '.join(self.subsets)})"
            )
        return self.subsets[name]


DISTRACTOR_PID = -1
"""Person id of an image that belongs to no identity: a gallery distractor (it matches no
query); readers drop it from training and query sets, where it would be junk."""

DATASETS: Registry[Callable[..., RawDataset]] = Registry("dataset")
"""Dataset name -> reader(root) -> RawDataset (the manifest reader also takes its file)."""


def read_dataset(name: str, root: Path, manifest: str | Path | None = None) -> RawDataset:
    """The RawDataset of reader `name` at root; only "manifest" takes a manifest file."""
    if manifest is None:
        return DATASETS.get(name)(root)
    if name != "manifest":
        raise ReIDError(f"--manifest applies to --dataset manifest only, not {name}")
    return DATASETS.get(name)(root, Path(manifest))


@dataclass(frozen=True)
class NamePattern:
    """A file-name rule: a regex with named groups `pid` and `cam` (1-based camera).

    cameras: how many cameras the dataset has (c1..cN), or None for no upper bound.
    """

    regex: re.Pattern[str]
    rule: str  # shown to users, e.g. "PPPP_cXsY_FFFFFF_NN.jpg"
    cameras: int | None = None

    def parse(self, path: Path) -> tuple[int, int]:
        """(pid, camid 0-based) of a file, or ReIDError naming it and the rule."""
        m = self.regex.fullmatch(path.name)
        if m is None:
            raise ReIDError(
                f"file {path} does not follow the naming rule {self.rule}; rename or remove it"
            )
        cam = int(m["cam"])
        if not 1 <= cam <= (self.cameras or cam):
            allowed = f"c1 to c{self.cameras}" if self.cameras else "c1, c2, ..."
            raise ReIDError(f"file {path} names camera c{cam}, but this dataset's cameras "
                            f"are numbered from 1 ({allowed}); rename or remove it")
        return int(m["pid"]), cam - 1


def require_dir(path: Path, layout: str) -> Path:
    """`path` if it is a folder, else ReIDError naming it and the expected layout."""
    if not path.is_dir():
        raise ReIDError(f"folder {path} not found; expected layout: {layout}")
    return path


def image_files(folder: Path, layout: str) -> list[Path]:
    """The images of a folder (non-image files ignored); none at all is an error."""
    files = list_images(require_dir(folder, layout))
    if not files:
        raise ReIDError(f"folder {folder} holds no images; expected layout: {layout}")
    return files


def relabel(records: list[ImageRecord]) -> list[ImageRecord]:
    """Map training pids to 0..N-1 (sorted original order), as classifiers need."""
    new = {pid: i for i, pid in enumerate(sorted({r.pid for r in records}))}
    return [replace(r, pid=new[r.pid]) for r in records]


def read_split_folders(
    name: str,
    root: Path,
    folders: Mapping[str, str],
    pattern: NamePattern,
    junk_pids: frozenset[int] = frozenset(),
) -> RawDataset:
    """Read a root holding one folder per subset (train / query / gallery).

    folders maps a subset name to its folder under root; files whose pid is in
    junk_pids are dropped (declared junk), every other file must follow `pattern`.
    Training pids are relabelled 0..N-1; query / gallery pids keep their original ids.
    """
    layout = f"{root}/{{{','.join(folders.values())}}}/{pattern.rule}"
    require_dir(root, layout)
    subsets: dict[str, list[ImageRecord]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for subset, folder in folders.items():
        records = []
        for path in image_files(root / folder, layout):
            pid, camid = pattern.parse(path)
            if pid in junk_pids:
                continue
            key = str(path.resolve())
            sizes[key] = read_image_size(path)
            records.append(ImageRecord(key, pid, camid))
        subsets[subset] = relabel(records) if subset == "train" else records
    return RawDataset(name, root, subsets, sizes)

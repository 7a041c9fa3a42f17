"""A CSV manifest: any folder of crops comes in without renaming a file.

Format (CSV, UTF-8 with or without a BOM, a header row naming the columns, in any order):
    path,pid,camid[,split]
    path   the image, relative to ROOT (or absolute); each image listed once
    pid    integer person id; -1 = an image of nobody: in the gallery a distractor that
           matches no query, in train or query junk (dropped)
    camid  non-negative integer camera id (any numbering, any number of cameras)
    split  train, query or gallery; without this column the protocol splits identities
           itself (`--resolution real`: seeded halves, the LR cameras give the queries)
Example (default file ROOT/manifest.csv)::

    path,pid,camid,split
    cam1/0001.png,17,0,query
    cam3/far/0412.png,17,2,gallery
    cam3/far/0413.png,-1,2,gallery

Training pids are relabelled 0..N-1, query and gallery pids kept. A bad row fails with
its line number: missing header, wrong field count, missing or unreadable file, bad
pid or camid, unknown split, duplicate path.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rfdreid.data.datasets.base import DATASETS, DISTRACTOR_PID, RawDataset, relabel
from rfdreid.data.images import read_image_size
from rfdreid.data.records import INT64_MAX, ImageRecord
from rfdreid.errors import ReIDError

MANIFEST_NAME = "manifest.csv"
REQUIRED_COLUMNS = ("path", "pid", "camid")
SPLIT_COLUMN = "split"
SPLITS = ("train", "query", "gallery")


class _Row:
    """One manifest line, turned into a record or a ReIDError naming the line."""

    def __init__(self, manifest: Path, line: int) -> None:
        self.where = f"manifest {manifest} line {line}"

    def fail(self, problem: str) -> ReIDError:
        return ReIDError(f"{self.where}: {problem}")

    def integer(self, column: str, text: str, minimum: int, hint: str) -> int:
        """An integer in [minimum, INT64_MAX]: ids become int64 tensors in evaluation."""
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if not minimum <= value <= INT64_MAX:
            raise self.fail(f"{column} {text!r} is not an integer from {minimum} to "
                            f"{INT64_MAX} ({hint})")
        return value


def _read_text(manifest: Path) -> str:
    """The manifest decoded as UTF-8, a leading BOM (as spreadsheet programs write it)
    dropped; another encoding is refused, not guessed: a guess would misread paths."""
    data = manifest.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        problem = f"byte {e.start} (0x{data[e.start]:02x}) is not UTF-8"
    else:
        if "\0" not in text:
            return text
        problem = "it holds NUL characters, as UTF-16 text does"
    raise ReIDError(f"manifest {manifest} is not UTF-8 text ({problem}); save it as UTF-8 "
                    "(e.g. 'CSV UTF-8' in a spreadsheet program)")


def _columns(header: list[str] | None, manifest: Path) -> list[str]:
    names = [c.strip().lower() for c in header or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [c for c in names if c not in (*REQUIRED_COLUMNS, SPLIT_COLUMN)]
    if missing or unknown or len(set(names)) != len(names):
        raise ReIDError(f"manifest {manifest} line 1: header missing or wrong: the first line "
                        f"must name the columns path,pid,camid[,split], got {','.join(names)!r}")
    return names


@DATASETS.register("manifest")
def read_manifest(root: Path, manifest: Path | None = None) -> RawDataset:
    """Records of the images a manifest lists (default ROOT/manifest.csv), paths under root.

    With a split column: "train" (junk dropped, pids relabelled), "query" (junk dropped)
    and "gallery" (distractors kept) subsets; without it one "all" subset.
    """
    root = Path(root)
    manifest = Path(manifest) if manifest is not None else root / MANIFEST_NAME
    if not manifest.is_file():
        raise ReIDError(f"manifest {manifest} not found; write a CSV with columns "
                        "path,pid,camid[,split] (see rfdreid.data.datasets.manifest)")
    subsets: dict[str, list[ImageRecord]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    first_line: dict[str, int] = {}
    with io.StringIO(_read_text(manifest), newline="") as f:
        reader = csv.reader(f)
        columns = _columns(next(reader, None), manifest)
        for fields in reader:
            row = _Row(manifest, reader.line_num)
            if not any(x.strip() for x in fields):
                continue
            if len(fields) != len(columns):
                raise row.fail(f"{len(fields)} fields, the header names {len(columns)}")
            cell = {c: x.strip() for c, x in zip(columns, fields)}
            split = cell.get(SPLIT_COLUMN, "all")
            if split not in (*SPLITS, "all"):
                raise row.fail(f"unknown split {split!r}; use {', '.join(SPLITS)}")
            pid = row.integer("pid", cell["pid"], DISTRACTOR_PID, "-1 marks junk / distractors")
            camid = row.integer("camid", cell["camid"], 0, "one id per camera")
            path = root / cell["path"]
            if not path.is_file():
                raise row.fail(f"image {path} not found")
            key = str(path.resolve())
            if key in first_line:
                raise row.fail(f"image {cell['path']} is already listed on line "
                               f"{first_line[key]}; list each image once")
            first_line[key] = reader.line_num
            try:
                sizes[key] = read_image_size(path)
            except ReIDError as e:
                raise row.fail(str(e)) from None
            if pid == DISTRACTOR_PID and split in ("train", "query"):
                continue  # junk: an image of nobody cannot be learnt or queried
            subsets.setdefault(split, []).append(ImageRecord(key, pid, camid))
    if not sizes:
        raise ReIDError(f"manifest {manifest} lists no images")
    if SPLIT_COLUMN in columns:
        if not subsets.get("train"):
            raise ReIDError(f"manifest {manifest} has no training images (split train)")
        subsets = {s: subsets.get(s, []) for s in SPLITS}
        subsets["train"] = relabel(subsets["train"])
    return RawDataset("manifest", root, subsets, sizes, resolution="real")

"""The CSV manifest reader: subsets, junk and distractors, line-numbered errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rfdreid.data.datasets import read_dataset
from rfdreid.errors import ReIDError

HEADER = "path,pid,camid,split"
ROWS = ["a/1.jpg,17,0,train", "a/2.jpg,17,1,train", "b/3.jpg,5,0,train", "b/4.jpg,5,1,train",
        "c/5.jpg,-1,0,train", "q/6.jpg,40,0,query", "q/7.jpg,-1,1,query",
        "g/8.jpg,40,1,gallery", "g/9.jpg,-1,1,gallery"]


def write_manifest(root: Path, jpeg: Callable[..., Path], lines: list[str]) -> Path:
    """Write every image a manifest line names (existing or not in `lines`), then the CSV."""
    for line in ROWS:
        jpeg(root / line.split(",")[0])
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root / "manifest.csv"


def test_split_manifest_subsets_junk_and_distractors(tmp_path: Path, jpeg) -> None:
    write_manifest(tmp_path, jpeg, [HEADER, *ROWS])
    raw = read_dataset("manifest", tmp_path)
    names = {k: [(Path(r.path).name, r.pid, r.camid) for r in v] for k, v in raw.subsets.items()}
    assert names["train"] == [("1.jpg", 1, 0), ("2.jpg", 1, 1), ("3.jpg", 0, 0), ("4.jpg", 0, 1)]
    assert names["query"] == [("6.jpg", 40, 0)]  # junk (-1) query dropped
    assert names["gallery"] == [("8.jpg", 40, 1), ("9.jpg", -1, 1)]  # distractor kept
    assert raw.resolution == "real" and raw.sizes[raw.subsets["query"][0].path] == (8, 16)


def test_manifest_without_split_is_one_subset(tmp_path: Path, jpeg) -> None:
    lines = ["camid,path,pid", *(f"{r.split(',')[2]},{r.split(',')[0]},{r.split(',')[1]}"
                                 for r in ROWS)]
    manifest = write_manifest(tmp_path / "imgs", jpeg, lines)
    raw = read_dataset("manifest", tmp_path / "imgs", manifest)
    assert list(raw.subsets) == ["all"] and len(raw.subsets["all"]) == len(ROWS)
    assert sum(r.pid == -1 for r in raw.subsets["all"]) == 3


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows[1:], "line 1: header missing"),
    (lambda rows: [*rows, "missing.jpg,3,0,train"], "line 11: image .*missing.jpg not found"),
    (lambda rows: [*rows, "a/1.jpg,3,0,gallery"],
     "line 11: image a/1.jpg is already listed on line 2"),
    (lambda rows: [*rows[:3], "b/3.jpg,x,0,train", *rows[4:]], "line 4: pid 'x' is not an integer"),
    (lambda rows: [*rows[:3], "b/3.jpg,-2,0,train", *rows[4:]], "line 4: pid '-2'"),
    (lambda rows: [*rows[:3], "b/3.jpg,5,-1,train", *rows[4:]], "line 4: camid '-1'"),
    (lambda rows: [*rows[:3], "b/3.jpg,5,0,test", *rows[4:]], "line 4: unknown split 'test'"),
    (lambda rows: [*rows[:3], "b/3.jpg,5,0", *rows[4:]], "line 4: 3 fields, the header names 4"),
    (lambda rows: [rows[0], *(r for r in rows[1:] if not r.endswith("train"))], "no training"),
])
def test_bad_rows_fail_with_their_line(tmp_path: Path, jpeg, edit, message: str) -> None:
    write_manifest(tmp_path, jpeg, edit([HEADER, *ROWS]))
    with pytest.raises(ReIDError, match=message) as info:
        read_dataset("manifest", tmp_path)
    assert "\n" not in str(info.value)


def test_unreadable_image_names_its_line(tmp_path: Path, jpeg) -> None:
    write_manifest(tmp_path, jpeg, [HEADER, *ROWS])
    (tmp_path / "q/6.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ReIDError, match="line 7: cannot read image"):
        read_dataset("manifest", tmp_path)


def test_manifest_option_only_for_manifest_dataset(tmp_path: Path) -> None:
    with pytest.raises(ReIDError, match="--manifest applies to --dataset manifest only"):
        read_dataset("folder", tmp_path, tmp_path / "m.csv")
    with pytest.raises(ReIDError, match="manifest.csv not found"):
        read_dataset("manifest", tmp_path)

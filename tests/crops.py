"""A user's own folder of crops and its CSV manifest, for tests of `rfdreid prepare`
that must see exactly these files survive (or be refused) byte for byte."""

from __future__ import annotations

from pathlib import Path

from data.conftest import write_jpeg

# Two training ids, one test id (query from camera 0, gallery from camera 1), 2 shots each.
_ROWS = [(pid, cam, k, "train" if pid < 3 else ("query", "gallery")[cam])
         for pid in (1, 2, 3) for cam in (0, 1) for k in range(2)]


def user_images(folder: Path, prefix: str = "") -> list[str]:
    """Write the user's images into `folder`; their manifest rows, paths `prefix` + name."""
    rows = []
    for n, (pid, cam, k, split) in enumerate(_ROWS):
        name = f"{pid}_{cam}_{k}.jpg"
        write_jpeg(folder / name, (8 + 4 * cam, 16 + 8 * cam), seed=n)
        rows.append(f"{prefix}{name},{pid},{cam},{split}")
    return rows


def write_manifest(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    """The manifest CSV (header and `rows`) at `path`, saved in `encoding`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("path,pid,camid,split\n" + "\n".join(rows) + "\n").encode(encoding))
    return path

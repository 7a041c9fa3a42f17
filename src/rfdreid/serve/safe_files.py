"""Which files the viewer may send: only those inside the folder it was given.

Why resolve first: a request path can climb out with `..` (also percent-encoded) and a
file inside the folder can be a symlink to anywhere; both are caught by comparing the
fully resolved path with the resolved folder.
"""

from __future__ import annotations

from pathlib import Path

from rfdreid.data.images import IMAGE_EXTENSIONS


def resolve_inside(root: Path, relative: str, suffixes: frozenset[str] = IMAGE_EXTENSIONS
                   ) -> Path | None:
    """The file `root/relative` if it is a regular file with one of `suffixes` whose real
    location lies inside the real `root`; None for anything else (never raises)."""
    if "\x00" in relative or Path(relative).is_absolute():
        return None
    try:
        base = root.resolve(strict=True)
        target = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target if target.suffix.lower() in suffixes else None

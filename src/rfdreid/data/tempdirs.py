"""Temporary output folders next to their final place, for all-or-nothing writes.

Why: prepare and the synthetic generator build a whole folder, then rename it in one
step; a crash or a user error must never leave half an output behind.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rfdreid.fileio import with_umask


def temp_dir_beside(path: Path) -> Path:
    """A new empty folder in path's parent (same file system, so os.replace works).

    Unlike mkdtemp's private 0700 folder it gets the usual umask permissions, since it
    becomes the user's output folder.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    tmp.chmod(with_umask(0o777))
    return tmp

"""All-or-nothing file writes, and YAML reads whose errors name the file and line.

Why atomic writes: protocols, checkpoints, caches and results are read by later steps; a
killed run or a full disk must leave either the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from rfdreid.errors import ReIDError


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call `write(tmp_path)`, then move the result onto `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, with_umask(0o666))  # mkstemp makes 0600; outputs are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: Path, what: str, *, folder: bool = False) -> Path:
    """`path` when it can be written (a file, or a folder with folder=True), else a one-line
    ReIDError naming it and `what` (the option or key that set it).

    Why up front: an output that cannot be written (`/proc/x`, a path under a regular file,
    a folder where a file is meant) must fail before a model is loaded or an image is
    embedded, not as a traceback at the end. The nearest existing folder is probed with a
    temporary file, removed at once; nothing else is created.
    """
    if path.is_dir() != folder and path.exists():
        raise ReIDError(f"{what} {path} is {'a file' if folder else 'a folder'}; give "
                        f"{'a folder' if folder else 'a file name'} there")
    probe = path if folder and path.is_dir() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ReIDError(f"{what} {path} cannot be written: {probe} is a file, not a folder; "
                        "choose another path")
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".rfdreid-write-check.")
    except OSError as e:
        raise ReIDError(f"{what} {path} cannot be written ({probe}: {e.strerror or e}); "
                        "choose another path or fix its permissions") from None
    os.close(fd)
    os.unlink(tmp)
    return path


def with_umask(mode: int) -> int:
    """`mode` less the process umask: the permissions a plain open()/mkdir() would give."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def read_yaml(path: Path | Traversable) -> Any:
    """Parse a YAML file; a syntax error (tabs, bad indentation) names the file and line."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        raise ReIDError(f"{path}{line}: invalid YAML ({problem})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReIDError(f"cannot read {path} ({e})") from None

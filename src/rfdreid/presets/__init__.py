"""Shipped YAML presets (package data) and how a preset file finds its `_base_`.

Why package data: a wheel or a plain `pip install .` carries the presets, so `--preset NAME`
works outside the source tree. Why `_base_`: a preset names the preset it extends and states
only what differs; chains are allowed (`paper_caviar_br` -> `paper_caviar_bf` ->
`paper_common`). Two top-level keys are about the file, not the experiment, and are never
inherited: `_base_` and `description` (the line `rfdreid presets` prints).
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from rfdreid.errors import ReIDError
from rfdreid.fileio import read_yaml

BASE_KEY = "_base_"
DESCRIPTION_KEY = "description"
SUFFIX = ".yaml"


def _shipped_dir() -> Traversable:
    return importlib.resources.files(__name__)


def shipped_names() -> list[str]:
    """Names of the presets that ship with the package, sorted."""
    return sorted(
        entry.name.removesuffix(SUFFIX)
        for entry in _shipped_dir().iterdir()
        if entry.name.endswith(SUFFIX)
    )


def find_preset(preset: str | Path) -> Traversable:
    """A YAML path if that file exists, else the shipped preset of that name."""
    path = Path(preset)
    if path.is_file():
        return path
    shipped = _shipped_dir() / f"{preset}{SUFFIX}"
    if shipped.is_file():
        return shipped
    raise ReIDError(
        f"preset {str(preset)!r} not found; give a YAML path or one of: {', '.join(shipped_names())}"
    )


def read_preset_file(source: Traversable) -> dict[str, Any]:
    """The file's top-level mapping, meta keys included."""
    data = read_yaml(source) or {}
    if not isinstance(data, dict):
        raise ReIDError(f"{source}: a preset must be a mapping of sections")
    return data


def _find_base(name: str, child: Traversable) -> Traversable:
    """`_base_` of a file on disk may be a path relative to that file; else a shipped name."""
    if isinstance(child, Path):
        for candidate in (child.parent / name, child.parent / f"{name}{SUFFIX}"):
            if candidate.is_file():
                return candidate
    shipped = _shipped_dir() / f"{name}{SUFFIX}"
    if shipped.is_file():
        return shipped
    raise ReIDError(f"{child}: {BASE_KEY} {name!r} is neither a file next to it nor a shipped "
                    f"preset ({', '.join(shipped_names())})")


def preset_chain(preset: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """(file, settings) from the root base down to `preset`, meta keys removed.

    Applying them in order gives the preset's values: each file overrides only the keys it
    states. A cycle raises ReIDError naming the files in it.
    """
    chain: list[tuple[str, dict[str, Any]]] = []
    source = find_preset(preset)
    while True:
        if any(str(source) == seen for seen, _ in chain):
            loop = " -> ".join([*(seen for seen, _ in chain), str(source)])
            raise ReIDError(f"{BASE_KEY} cycle: {loop}")
        data = read_preset_file(source)
        base = data.pop(BASE_KEY, None)
        data.pop(DESCRIPTION_KEY, None)
        chain.append((str(source), data))
        if base is None:
            return chain[::-1]
        source = _find_base(str(base), source)


def shipped_descriptions() -> dict[str, str]:
    """{name: one-line description} of every shipped preset."""
    return {
        name: str(read_preset_file(_shipped_dir() / f"{name}{SUFFIX}").get(DESCRIPTION_KEY, ""))
        for name in shipped_names()
    }

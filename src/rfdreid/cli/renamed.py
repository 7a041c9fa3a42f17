"""Options renamed for one CLI vocabulary (issue 27): `--bf` / `--br` wherever the two
models are meant, `--protocol` only for a protocol file, `--galleries` for gallery modes.
The old names keep working for one release, with a warning on stderr."""

from __future__ import annotations

from typing import TypeVar

import typer

from rfdreid.errors import ReIDError

T = TypeVar("T")


def renamed(new: T | None, old: T | None, new_flag: str, old_flag: str) -> T | None:
    """The option's value, taken from its old name when only that was given."""
    if old is None:
        return new
    if new is not None:
        raise ReIDError(f"give {new_flag} only ({old_flag} is its old name)")
    typer.echo(f"warning: {old_flag} is now {new_flag}; the old name goes in the next release",
               err=True)
    return old

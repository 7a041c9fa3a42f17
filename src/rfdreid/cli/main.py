"""The `rfdreid` command: one typer app, one module per sub-command.

Errors a user can fix (ReIDError) print as one line on stderr with exit code 1.
"""

from __future__ import annotations

import sys

import typer

from rfdreid.errors import ReIDError

app = typer.Typer(
    help="Cross-resolution person re-identification with Resolution based Feature Distillation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    """Import the command modules; each adds its command(s) to `app`."""
    from rfdreid.cli import commands  # noqa: F401


def main() -> None:
    _register()
    try:
        app()
    except ReIDError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        sys.exit(1)


def one_line(error: ReIDError) -> str:
    """The user's message, also when a DataLoader worker re-raised it wrapped in a traceback
    ("Caught ReIDError in DataLoader worker ... rfdreid.errors.ReIDError: <message>")."""
    last = str(error).strip().splitlines()[-1]
    return last.split(f"{ReIDError.__module__}.{ReIDError.__name__}: ", 1)[-1]

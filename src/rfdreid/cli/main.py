"""The `rfdreid` command: one typer app, one module per sub-command.

Errors a user can fix (ReIDError) print as one line on stderr with exit code 1.
"""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

from rfdreid.errors import ReIDError, finite_number

# click's exceptions module (typer >= 0.22 ships its own copy of click): its
# MissingParameter is a BadParameter that stays a usage error.
_MissingParameter = sys.modules[typer.BadParameter.__module__].MissingParameter


class _Group(TyperGroup):
    """Why: an option value out of range (`--top-k 0`, `--repeats 0`, `--port 70000`) is a
    user error like any other, so it is one `error:` line with exit 1, not typer's usage
    box with exit 2. A missing option or an unknown one stays a usage error."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except _MissingParameter:
            raise
        except typer.BadParameter as e:
            raise ReIDError(e.format_message()) from None


def finite(param: typer.CallbackParam, value: float | None) -> float | None:
    """Option callback for a float that must be finite (FloatRange lets inf through)."""
    return None if value is None else finite_number(value, param.opts[0])


app = typer.Typer(
    cls=_Group,
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

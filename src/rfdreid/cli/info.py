"""`rfdreid info`: the machine facts a bug report or a benchmark row needs (rfdreid.environment)."""

from __future__ import annotations

import typer

from rfdreid.cli.main import app


@app.command()
def info() -> None:
    """Print versions, CPU instruction set, threads, GPUs, what precision `auto` picks and
    why, the ImageNet weights and the shared datasets, one line each."""
    from rfdreid.environment import report

    lines = report()
    width = max(len(field) for field, _ in lines)
    for field, value in lines:
        typer.echo(f"{field + ':':<{width + 1}} {value}")

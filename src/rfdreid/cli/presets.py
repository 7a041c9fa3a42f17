"""`rfdreid presets`: the shipped presets, one line each."""

from __future__ import annotations

import typer

from rfdreid.cli.main import app


@app.command()
def presets() -> None:
    """List the shipped presets (use one with --preset NAME; a YAML path works too)."""
    from rfdreid.presets import shipped_descriptions

    descriptions = shipped_descriptions()
    width = max(map(len, descriptions))
    for name, text in descriptions.items():
        typer.echo(f"{name:<{width}}  {text}")

"""`rfdreid reproduce`: regenerate a results table of docs/results.md."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli.main import app
from rfdreid.errors import ReIDError


@app.command(
    epilog="Example: rfdreid reproduce caviar --root data/CAVIAR4REID --out runs/caviar"
)
def reproduce(
    recipe: Annotated[str, typer.Argument(help="caviar, caviar-resnet, caviar-no-attention, mlr-market or mlr-duke.")],
    root: Annotated[Path, typer.Option(help="The dataset folder.")],
    out: Annotated[Path, typer.Option(help="Where protocols, runs and results go.")],
    interpolation: Annotated[str, typer.Option(help="bicubic or bilinear (MLR sets).")] = "bicubic",
    seed: Annotated[int, typer.Option(help="Protocol seed.")] = 0,
    splits: Annotated[Optional[str], typer.Option(help="Only these splits, e.g. 0,1,2.")] = None,
    val_ids: Annotated[int, typer.Option(
        min=0, help="Hold out this many training ids; choose RFD's reading and λ on them.")] = 0,
    mlr_variant: Annotated[Optional[str], typer.Option(
        help="MLR recipes: sing (the default, as the paper follows SING: one LR camera per "
        "id) or per-image (the alternative: a factor drawn per image).")
    ] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Config overrides.")] = None,
) -> None:
    """Prepare, train B-F and B-R on every split, and print B-F vs B-F+RFD."""
    from rfdreid.workflows.reproduce import recipe_configs, reproduce as run

    start = time.perf_counter()
    try:
        wanted = [int(s) for s in splits.split(",")] if splits else None
    except ValueError:
        raise ReIDError(f"--splits takes comma-separated split numbers, got {splits!r}") from None
    configs = recipe_configs(recipe, list(set_ or []), val_ids)
    md = run(recipe, root, out, configs, interpolation, seed, wanted, val_ids, mlr_variant)
    typer.echo(md)
    typer.echo(f"done in {time.perf_counter() - start:.0f} s; results in {out / 'runs' / 'eval'}")

"""`rfdreid train`: train B-F (person ids) or B-R (resolution labels) from a preset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli.main import app
from rfdreid.config import load_config

SET_HELP = "Override any config value, e.g. --set train.lr=1e-4 (repeatable)."


@app.command(
    epilog="Example: rfdreid train --preset cpu_mobilenet_bf "
    "--protocol prepared/caviar/split_00.json --out runs/caviar/split_00/bf"
)
def train(
    preset: Annotated[Optional[str], typer.Option(help="Preset name (`rfdreid presets`) or a YAML path.")] = None,
    protocol: Annotated[Optional[Path], typer.Option(help="Protocol file from `rfdreid prepare`.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Run folder (checkpoint, log, config).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the checkpoint in the run folder.")] = False,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Train one model; the checkpoint lands in <out>/checkpoint.pt."""
    from rfdreid.training.trainer import train as run_training

    cfg = load_config(preset, set_, {"data.protocol": protocol, "train.out_dir": out})
    path = run_training(cfg, resume=resume)
    typer.echo(f"checkpoint: {path}")

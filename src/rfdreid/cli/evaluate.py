"""`rfdreid evaluate`: B-F and B-F+RFD on every gallery protocol, paper-style table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli.main import app
from rfdreid.config import load_config
from rfdreid.errors import ReIDError


@app.command(
    epilog="Examples: rfdreid evaluate --bf runs/x/bf/checkpoint.pt --br runs/x/br/checkpoint.pt; "
    "rfdreid evaluate --runs runs/caviar --lambda-sweep 0.05,0.1,0.2,0.5 --visualize 5 "
    "(several splits also plot rank-1 per split, Fig. 5)"
)
def evaluate(
    bf: Annotated[Optional[Path], typer.Option(help="B-F checkpoint.")] = None,
    br: Annotated[Optional[Path], typer.Option(help="B-R checkpoint (enables RFD).")] = None,
    runs: Annotated[Optional[Path], typer.Option(
        help="Folder with <split>/bf/checkpoint.pt and <split>/br/checkpoint.pt; "
        "reports mean ± std over splits.")] = None,
    protocol: Annotated[Optional[Path], typer.Option(
        help="Protocol file (default: the one B-F was trained on).")] = None,
    rfd_lambda: Annotated[Optional[float], typer.Option("--lambda", help="RFD λ (eq. 8).")] = None,
    lambda_sweep: Annotated[Optional[str], typer.Option(
        help="Comma-separated λ values to report as well.")] = None,
    flip: Annotated[bool, typer.Option(help="Average with mirrored images.")] = False,
    out: Annotated[Optional[Path], typer.Option(help="Where to write results.json/.md.")] = None,
    visualize: Annotated[int, typer.Option(
        min=0, help="Draw the top-10 of K queries per gallery (Fig. 4) under OUT/rankings/.")] = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="eval.key=value overrides.")] = None,
) -> None:
    """Print (and write) R1/R5/R10/mAP/mINP for B-F and B-F+RFD."""
    from rfdreid.engine.evaluate import RunPair, discover_runs, evaluate_runs

    overrides = list(set_ or [])
    if rfd_lambda is not None:
        overrides.append(f"eval.rfd_lambda={rfd_lambda}")
    if lambda_sweep:
        overrides.append(f"eval.lambda_sweep={lambda_sweep}")
    if flip:
        overrides.append("eval.flip=true")
    ecfg = load_config(None, overrides).eval
    if runs is not None:
        pairs = discover_runs(runs)
    elif bf is not None:
        pairs = [RunPair(bf=bf, br=br, protocol=protocol)]
    else:
        raise ReIDError("give --bf CHECKPOINT (and --br for RFD) or --runs FOLDER")
    out_dir = out or (runs if runs is not None else bf.parent.parent) / "eval"  # type: ignore[union-attr]
    _, md = evaluate_runs(pairs, ecfg, out_dir=out_dir, device=device, visualize=visualize)
    typer.echo(md)
    typer.echo(f"results written to {out_dir}/results.json and results.md")

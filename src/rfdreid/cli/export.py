"""`rfdreid export`: a trained network as an ONNX file, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli.main import app
from rfdreid.errors import ReIDError
from rfdreid.fileio import check_writable

FORMATS = ("onnx",)


@app.command(
    epilog="Example: rfdreid export --checkpoint runs/x/bf/checkpoint.pt --format onnx "
    "--out bf.onnx (input 'images' [N, 3, H, W] normalised float32, output 'embedding' [N, D])"
)
def export(
    checkpoint: Annotated[Path, typer.Option(help="B-F or B-R checkpoint.")],
    format_: Annotated[str, typer.Option("--format", help="Only onnx for now.")] = "onnx",
    out: Annotated[Optional[Path], typer.Option(
        help="Output file (default: the checkpoint's name with .onnx).")] = None,
    height: Annotated[Optional[int], typer.Option(
        min=1, help="Input height (default: the checkpoint's data.height).")] = None,
    width: Annotated[Optional[int], typer.Option(
        min=1, help="Input width (default: the checkpoint's data.width).")] = None,
) -> None:
    """Export the eval-mode network (dynamic batch axis) and verify it with onnxruntime."""
    from rfdreid.training.checkpoint import read_trained_model
    from rfdreid.inference.export import TOLERANCE, export_onnx

    if format_ not in FORMATS:
        raise ReIDError(f"unknown export format {format_!r}; choose one of: {', '.join(FORMATS)}")
    path = check_writable(out or checkpoint.with_suffix(".onnx"), "--out")
    trained = read_trained_model(checkpoint)
    result = export_onnx(trained, path, height, width)
    typer.echo(
        f"{trained.kind} model written to {result.path}: images [N, 3, {result.height}, "
        f"{result.width}] -> embedding [N, {result.feature_dim}]"
    )
    typer.echo(
        f"onnxruntime vs PyTorch on a random batch: max |difference| = "
        f"{result.max_abs_diff:.2e} (tolerance {TOLERANCE:g})"
    )

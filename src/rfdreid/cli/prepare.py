"""`rfdreid prepare`: write the seeded protocol file(s) of a dataset, print a summary."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rfdreid.cli.main import app
from rfdreid.cli.renamed import renamed
from rfdreid.data.diagnostics import dropped_identities, resolution_report
from rfdreid.data.images import read_image_size
from rfdreid.data.prepare import prepare as prepare_protocols
from rfdreid.data.records import ImageRecord, Protocol


def _resolutions(records: list[ImageRecord], by_factor: bool) -> str:
    counts = Counter(r.factor if by_factor else r.res_label for r in records)
    prefix = "x" if by_factor else "bin"
    return " ".join(f"{prefix}{k}:{counts[k]}" for k in sorted(counts))


def summary_table(protocols: dict[str, Protocol]) -> Table:
    """One row per subset: images, ids, cameras, per-resolution counts."""
    table = Table(title="rfdreid prepare")
    for col in ("file", "subset", "images", "ids", "cameras", "resolutions"):
        table.add_column(col, justify="right" if col in ("images", "ids", "cameras") else "left")
    for name, p in protocols.items():
        by_factor = p.meta.get("protocol") == "mlr"
        val = p.validation.subsets() if p.validation else {}
        for subset, recs in [*p.subsets().items(),
                             *((f"val/{k}", v) for k, v in val.items() if k != "train")]:
            table.add_row(name, subset, str(len(recs)), str(len({r.pid for r in recs})),
                          str(len({r.camid for r in recs})), _resolutions(recs, by_factor))
    return table


@app.command()
def prepare(
    dataset: str = typer.Option(
        ..., help="market1501, dukemtmc, caviar, synthetic, folder or manifest"),
    root: Path = typer.Option(..., help="dataset folder (synthetic: generated here if absent)"),
    out: Path = typer.Option(..., help="output folder for protocol.json / split_KK.json"),
    galleries: str = typer.Option(
        None, help="gallery modes: single, multi, single_all (caviar) or both (all; default)"),
    protocol: str = typer.Option(None, hidden=True, help="old name of --galleries"),
    split: int = typer.Option(
        None, help="caviar / manifest without split column: write split K (0-9) alone"),
    seed: int = typer.Option(0, help="seed of factors and splits (same seed, same files)"),
    interpolation: str = typer.Option("bicubic", help="bicubic or bilinear down/up-sampling"),
    materialize: bool = typer.Option(False, help="also write the degraded images to OUT/images"),
    pseudo_labels: str = typer.Option(
        "uniform", help="real resolution: pixel-count bins, uniform (paper) or quantile"),
    val_ids: int = typer.Option(
        0, min=0, help="hold this many training ids out as a validation set "
        "(evaluate --select-lambda chooses RFD's λ there)"),
    check_images: bool = typer.Option(
        False, help="decode every image (in parallel) to find damaged files before training"),
    resolution: str = typer.Option(
        "auto", help="real: images as stored, pixel-count pseudo-labels; synthetic: MLR "
        "down-sampling; auto: real for caviar and manifest, synthetic for the others"),
    manifest: Path = typer.Option(
        None, help="manifest: CSV with columns path,pid,camid[,split] (default ROOT/manifest.csv)"),
    mlr_variant: str = typer.Option(
        None, help="MLR protocols only: sing (the default, as the paper follows SING: per "
        "identity one camera's images down-sampled, they are the queries; ids seen by one "
        "camera are dropped) or per-image (the alternative: a factor per image, queries "
        "from the query split)"),
) -> None:
    """Build the seeded MLR (or CAVIAR) protocol of a dataset and write it to OUT.

    \b
    Example:
      rfdreid prepare --dataset market1501 --root data/Market-1501-v15.09.15 --out prepared/mlr-market1501
      rfdreid prepare --dataset caviar --root data/CAVIAR4REID --out prepared/caviar --split 0
      rfdreid prepare --dataset manifest --root crops --manifest crops/manifest.csv --out prepared/mine
    """
    modes = renamed(galleries, protocol, "--galleries", "--protocol") or "both"
    written = prepare_protocols(dataset, root, out, modes, split, seed, interpolation,
                                materialize, pseudo_labels, check_images, val_ids,
                                resolution, manifest, mlr_variant)
    protocols = {path.name: p for path, p in written.items()}
    console = Console()
    console.print(summary_table(protocols))
    for name, p in protocols.items():
        line = dropped_identities(p)
        if line:
            console.print(f"{name}: {line}", soft_wrap=True)
    print_resolution_report(console, protocols)
    console.print(f"wrote {len(protocols)} protocol file(s) to {out}")


def print_resolution_report(console: Console, protocols: dict[str, Protocol]) -> None:
    """Pixel counts per camera and bin of the first real-resolution file, bin edges of
    the others, and every warning (on stderr)."""
    size_of = cache(read_image_size)
    real = {name: p for name, p in protocols.items() if "res_bin_edges" in p.meta}
    for i, (name, p) in enumerate(real.items()):
        lines, warnings = resolution_report(p, size_of)
        if i == 0:
            console.print(f"{name}: pixel counts (width x height) and pseudo-label bins")
            for line in lines:
                console.print(f"  {line}", soft_wrap=True)
        else:
            bin_edges: list[float] = p.meta["res_bin_edges"]  # type: ignore[assignment]
            console.print(f"{name}: bin edges [{', '.join(f'{e:.0f}' for e in bin_edges)}]")
        for warning in warnings:
            typer.echo(f"warning: {name}: {warning}", err=True)

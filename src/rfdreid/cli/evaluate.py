"""`rfdreid evaluate`: B-F and B-F+RFD on every gallery protocol, paper-style table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli import rerank_options as ro
from rfdreid.cli.main import app
from rfdreid.errors import ReIDError
from rfdreid.fileio import check_writable


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
    preset: Annotated[Optional[str], typer.Option(
        help="Preset whose eval section overrides the checkpoint's.")] = None,
    rfd_lambda: Annotated[Optional[float], typer.Option("--lambda", help="RFD λ (eq. 8).")] = None,
    rfd_form: Annotated[Optional[str], typer.Option(
        help="Reading of eq. 7-8: filter (D_r = 1 - cos) or literal (D_r = cos).")] = None,
    lambda_sweep: Annotated[Optional[str], typer.Option(
        help="Comma-separated λ values to report as well.")] = None,
    select_lambda: Annotated[Optional[str], typer.Option(
        help="Comma-separated λ grid: choose λ on the protocol's validation ids "
        "(prepare --val-ids N), report it beside the fixed λ.")] = None,
    select_forms: Annotated[Optional[str], typer.Option(
        help="Readings of eq. 8 the selection tries (default: filter,literal).")] = None,
    select_rule: Annotated[Optional[str], typer.Option(
        help="per-gallery, pooled or prior (evaluation/selection.py).")] = None,
    by_resolution_class: Annotated[Optional[bool], typer.Option(
        "--by-resolution-class", help="Also report queries whose true match is in another "
        "resolution class apart from those whose match shares theirs.")] = None,
    repeats: Annotated[Optional[int], typer.Option(
        min=1, help="MLR: draw the query/gallery degradation N times, report mean ± std.")] = None,
    flip: Annotated[Optional[bool], typer.Option(
        "--flip/--no-flip", help="Add the mirror image's embedding (MGN test feature).")] = None,
    normalize: Annotated[Optional[bool], typer.Option(
        "--normalize/--no-normalize", help="L2-normalise the test feature.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Where to write results.json/.md.")] = None,
    visualize: Annotated[int, typer.Option(
        min=0, help="Draw the top-10 of K queries per gallery (Fig. 4) under OUT/rankings/.")] = 0,
    verification: Annotated[bool, typer.Option(
        "--verification", help="Also report TPR at FPR 1e-2/1e-3/1e-4 with the distance "
        "thresholds, per pair group (LR→HR, HR→HR), and plot OUT/verification_<gallery>.png "
        "(ROC, distance histograms).")] = False,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="eval.key=value overrides.")] = None,
    rerank: ro.Rerank = None,
    rerank_k1: ro.RerankK1 = None,
    rerank_k2: ro.RerankK2 = None,
    rerank_lambda: ro.RerankLambda = None,
    rerank_max_gib: ro.RerankMaxGib = None,
) -> None:
    """Print (and write) R1/R5/R10/mAP/mINP for B-F and B-F+RFD.

    Settings come from the B-F checkpoint's eval section, then --preset, then --set and
    the flags; the resolved values and their sources are printed and saved in results.json.
    """
    from rfdreid.config import resolve_eval_config
    from rfdreid.training.checkpoint import read_trained_model
    from rfdreid.workflows.evaluate import RunPair, discover_runs, evaluate_runs

    flags = {"rfd_lambda": rfd_lambda, "rfd_form": rfd_form, "lambda_sweep": lambda_sweep,
             "select_lambda": select_lambda, "select_forms": select_forms,
             "select_rule": select_rule, "by_resolution_class": by_resolution_class,
             "repeats": repeats, "flip": flip,
             "normalize": normalize, "rerank": rerank,
             **ro.given(rerank_k1, rerank_k2, rerank_lambda, rerank_max_gib)}
    overrides = [*(set_ or []), *(f"eval.{k}={v}" for k, v in flags.items() if v is not None)]
    if runs is not None:
        pairs = discover_runs(runs)
    elif bf is not None:
        pairs = [RunPair(bf=bf, br=br, protocol=protocol)]
    else:
        raise ReIDError("give --bf CHECKPOINT (and --br for RFD) or --runs FOLDER")
    out_dir = out or (runs if runs is not None else bf.parent.parent) / "eval"  # type: ignore[union-attr]
    check_writable(out_dir, "--out", folder=True)
    stored = read_trained_model(pairs[0].bf, expect_kind="B-F").config.eval
    ecfg, sources = resolve_eval_config(stored, preset, overrides)
    ro.require_rerank(ecfg.rerank, ro.given(rerank_k1, rerank_k2, rerank_lambda, rerank_max_gib))
    typer.echo("evaluation settings: " + ", ".join(
        f"{k}={getattr(ecfg, k)} ({src})" for k, src in sources.items()))
    settings = {k: {"value": getattr(ecfg, k), "source": src} for k, src in sources.items()}
    _, md = evaluate_runs(pairs, ecfg, out_dir=out_dir, device=device, visualize=visualize,
                          settings=settings, verify=verification)
    typer.echo(md)
    typer.echo(f"results written to {out_dir}/results.json and results.md")

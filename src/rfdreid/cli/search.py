"""`rfdreid search`: rank a folder of images against one query, print and draw the top-k."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli import rerank_options as ro
from rfdreid.cli.main import app
from rfdreid.cli.renamed import renamed
from rfdreid.errors import ReIDError, finite_number
from rfdreid.evaluation.distance import DEFAULT_LAMBDA, DEFAULT_RFD_FORM, check_rfd_lambda
from rfdreid.evaluation.methods import Method
from rfdreid.fileio import check_writable


@app.command(
    epilog="Example: rfdreid search query/0001_c1s1_001051_00.jpg --gallery gallery/ "
    "--bf runs/x/bf/checkpoint.pt --br runs/x/br/checkpoint.pt --top-k 10 "
    "--out ranking.png"
)
def search(
    query: Annotated[Path, typer.Argument(help="The query image.")],
    gallery: Annotated[Path, typer.Option(help="Folder of gallery images (not recursive).")],
    bf: Annotated[Optional[Path], typer.Option(help="B-F checkpoint (required).")] = None,
    br: Annotated[Optional[Path], typer.Option(help="B-R checkpoint (enables RFD).")] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(hidden=True, help="old name of --bf")] = None,
    top_k: Annotated[int, typer.Option(min=1, help="How many results to show.")] = 10,
    rfd_lambda: Annotated[float, typer.Option("--lambda", help="RFD λ (eq. 8).")] = DEFAULT_LAMBDA,
    rfd_form: Annotated[str, typer.Option(
        help="Reading of eq. 7-8: filter (D_r = 1 - cos) or literal (D_r = cos).")
    ] = DEFAULT_RFD_FORM,
    flip: Annotated[bool, typer.Option(
        "--flip/--no-flip", help="Add the mirror image's embedding (MGN test feature).")] = True,
    normalize: Annotated[bool, typer.Option(
        "--normalize/--no-normalize", help="L2-normalise the test feature.")] = True,
    out: Annotated[Optional[Path], typer.Option(
        help="Also draw the ranking to this PNG (paper Fig. 4 style).")] = None,
    cache_dir: Annotated[Optional[Path], typer.Option(
        help="Where gallery features are cached (default: GALLERY/.rfdreid-cache).")] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    skip_bad: Annotated[bool, typer.Option(
        help="Leave out gallery files that cannot be read, and list them.")] = False,
    max_distance: Annotated[Optional[float], typer.Option(
        help="Show only hits at distance <= D (a match threshold).")] = None,
    at_fpr: Annotated[Optional[float], typer.Option(
        help="Take --max-distance from --results: the threshold `rfdreid evaluate "
        "--verification` measured at this false positive rate (1e-2, 1e-3 or 1e-4).")] = None,
    results: Annotated[Optional[Path], typer.Option(
        help="results.json of `rfdreid evaluate --verification` (for --at-fpr).")] = None,
    rerank: ro.Rerank = None,
    rerank_k1: ro.RerankK1 = None,
    rerank_k2: ro.RerankK2 = None,
    rerank_lambda: ro.RerankLambda = None,
    rerank_max_gib: ro.RerankMaxGib = None,
) -> None:
    """Find the gallery images closest to QUERY (B-F, or B-F+RFD with --br).

    Gallery features are cached: a re-run embeds only added or changed files. When file
    names follow Market-1501 (`PPPP_c...`), true matches are marked.
    """
    from rfdreid.api import ReIDModel
    from rfdreid.inference.gallery import person_id
    from rfdreid.evaluation.visualize import draw_ranking

    checkpoint = renamed(bf, checkpoint, "--bf", "--checkpoint")
    if checkpoint is None:
        raise ReIDError("give the B-F checkpoint: --bf runs/x/bf/checkpoint.pt")
    check_rfd_lambda(rfd_lambda, "--lambda")
    if out is not None:
        _check_picture(out)
    ro.require_rerank(rerank, ro.given(rerank_k1, rerank_k2, rerank_lambda, rerank_max_gib))
    params = ro.params(rerank_k1, rerank_k2, rerank_lambda, rerank_max_gib) if rerank else None
    # The row evaluation gives this ranking: --at-fpr looks its threshold up by it.
    method = Method(rfd_form if br else None, rfd_lambda if br else 0.0,
                    rerank=params is not None)
    max_distance = _threshold(max_distance, at_fpr, results, checkpoint, method,
                              {"flip": flip, "normalize": normalize})
    model = ReIDModel.from_checkpoint(checkpoint, br, device=device, flip=flip,
                                      normalize=normalize, rfd_form=rfd_form)
    hits = model.search(query, gallery, top_k=top_k, rfd_lambda=rfd_lambda,
                        cache_dir=cache_dir, progress=True, skip_bad=skip_bad, rerank=params,
                        max_distance=max_distance)
    pids = [person_id(p) for p in (query, *(h.path for h in hits))]
    matches = None if None in pids else [pid == pids[0] for pid in pids[1:]]
    within = "" if max_distance is None else f" within distance {max_distance:.6g}"
    typer.echo(f"top {len(hits)} of {gallery} for {query} by {method.label}{within}:")
    typer.echo(f"{'rank':>4}  {'distance':>9}  {'match' if matches else '':5}  file")
    for i, hit in enumerate(hits):
        mark = ("yes" if matches[i] else "no") if matches else ""
        typer.echo(f"{hit.rank:>4}  {hit.distance:9.4f}  {mark:5}  {hit.path.name}")
    if hits.skipped:
        typer.echo(f"skipped {len(hits.skipped)} unreadable gallery file(s): "
                   f"{', '.join(p.name for p in hits.skipped)}", err=True)
    if out is not None:
        draw_ranking(query, [h.path for h in hits], matches, [h.distance for h in hits], out)
        typer.echo(f"ranking picture written to {out}")


def _threshold(max_distance: float | None, at_fpr: float | None, results: Path | None,
               checkpoint: Path, method: Method, feature: dict[str, bool]) -> float | None:
    """The distance limit: --max-distance, or the one --results measured at --at-fpr for
    this checkpoint and method; contradictory or half-given options are one line."""
    if max_distance is not None:
        finite_number(max_distance, "--max-distance")
    if (at_fpr is None) != (results is None):
        raise ReIDError("--at-fpr and --results go together: --at-fpr 1e-3 --results "
                        "runs/x/eval/results.json")
    if at_fpr is None or results is None:
        return max_distance
    if max_distance is not None:
        raise ReIDError("give --max-distance or --at-fpr, not both")
    from rfdreid.evaluation.verification import threshold_from_results

    return threshold_from_results(results, checkpoint, method, at_fpr, feature)


def _check_picture(out: Path) -> None:
    """--out must be a writable file whose suffix names a format PIL writes (the ranking is
    a picture): checked before the gallery is embedded, not when the picture is saved."""
    from PIL import Image

    check_writable(out, "--out")
    Image.init()
    suffixes = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.SAVE}
    if out.suffix.lower() not in suffixes:
        raise ReIDError(f"--out {out}: the ranking is a picture and {out.suffix or 'no suffix'}"
                        " is no image format; name it e.g. ranking.png")

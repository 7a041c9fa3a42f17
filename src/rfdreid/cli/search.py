"""`rfdreid search`: rank a folder of images against one query, print and draw the top-k."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli import rerank_options as ro
from rfdreid.cli.main import app
from rfdreid.errors import ReIDError
from rfdreid.evaluation.distance import DEFAULT_LAMBDA, DEFAULT_RFD_FORM, check_rfd_lambda
from rfdreid.fileio import check_writable


@app.command(
    epilog="Example: rfdreid search query/0001_c1s1_001051_00.jpg --gallery gallery/ "
    "--checkpoint runs/x/bf/checkpoint.pt --br runs/x/br/checkpoint.pt --top-k 10 "
    "--out ranking.png"
)
def search(
    query: Annotated[Path, typer.Argument(help="The query image.")],
    gallery: Annotated[Path, typer.Option(help="Folder of gallery images (not recursive).")],
    checkpoint: Annotated[Path, typer.Option(help="B-F checkpoint.")],
    br: Annotated[Optional[Path], typer.Option(help="B-R checkpoint (enables RFD).")] = None,
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
    from rfdreid.engine.gallery import person_id
    from rfdreid.evaluation.visualize import draw_ranking

    check_rfd_lambda(rfd_lambda, "--lambda")
    if out is not None:
        _check_picture(out)
    params = ro.params(rerank_k1, rerank_k2, rerank_lambda, rerank_max_gib) if rerank else None
    model = ReIDModel.from_checkpoint(checkpoint, br, device=device, flip=flip,
                                      normalize=normalize, rfd_form=rfd_form)
    hits = model.search(query, gallery, top_k=top_k, rfd_lambda=rfd_lambda,
                        cache_dir=cache_dir, progress=True, skip_bad=skip_bad, rerank=params)
    pids = [person_id(p) for p in (query, *(h.path for h in hits))]
    matches = None if None in pids else [pid == pids[0] for pid in pids[1:]]
    method = f"B-F+RFD {rfd_form} (λ={rfd_lambda:g})" if br else "B-F"
    method += " + re-ranking" if params else ""
    typer.echo(f"top {len(hits)} of {gallery} for {query} by {method}:")
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

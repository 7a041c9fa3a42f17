"""The re-ranking options `rfdreid evaluate` and `rfdreid search` share (declared once).

Each is None unless given, so `evaluate` can tell a flag from its config chain; values are
checked by :class:`rfdreid.evaluation.rerank.RerankParams`, one line when wrong.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Optional

import typer

from rfdreid.errors import ReIDError
from rfdreid.evaluation.rerank import RerankParams

Rerank = Annotated[Optional[bool], typer.Option(
    "--rerank/--no-rerank",
    help="k-reciprocal re-ranking (Zhong et al. 2017) after the B-F / RFD distance.")]
RerankK1 = Annotated[Optional[int], typer.Option(
    help=f"Re-ranking: k1, size of the k-reciprocal neighbourhood (default {RerankParams.k1}).")]
RerankK2 = Annotated[Optional[int], typer.Option(
    help=f"Re-ranking: k2, neighbours of the local query expansion (default {RerankParams.k2}).")]
RerankLambda = Annotated[Optional[float], typer.Option(
    help="Re-ranking: weight of the original distance against the Jaccard one, in [0, 1] "
    f"(default {RerankParams.lam}).")]
RerankMaxGib = Annotated[Optional[float], typer.Option(
    help="Re-ranking: refuse when the (queries + gallery)² float32 distance matrix needs more "
    f"GiB than this (default {RerankParams.max_gib:g}).")]


def given(k1: int | None, k2: int | None, lam: float | None, max_gib: float | None
          ) -> dict[str, int | float]:
    """The re-ranking values given on the command line, under EvalConfig's field names."""
    values = {"rerank_k1": k1, "rerank_k2": k2, "rerank_lambda": lam, "rerank_max_gib": max_gib}
    return {k: v for k, v in values.items() if v is not None}


def params(k1: int | None, k2: int | None, lam: float | None, max_gib: float | None
           ) -> RerankParams:
    """The paper's defaults with the values given on the command line."""
    values = {"k1": k1, "k2": k2, "lam": lam, "max_gib": max_gib}
    return replace(RerankParams(), **{k: v for k, v in values.items() if v is not None})


def require_rerank(rerank: bool | None, given_values: dict[str, int | float]) -> None:
    """Refuse --rerank-* values when re-ranking stays off: silently ignoring a k1 the user
    typed would report rows they did not ask for as if they had."""
    if given_values and not rerank:
        flags = ", ".join("--" + k.replace("_", "-") for k in given_values)
        raise ReIDError(f"{flags} set but re-ranking is off; add --rerank (or drop them)")

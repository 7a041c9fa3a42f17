"""Re-ranking a gallery from cached features: B-F order, eq. 8 order, and how far each
image moved between them.

Why from features: moving λ or switching the eq. 7-8 form needs no network, only one
[1, G] distance row and two sorts, which keeps a 20k gallery well under 100 ms
(benchmarks/bench_serve.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import torch

from rfdreid.engine.gallery import Features
from rfdreid.errors import ReIDError
from rfdreid.evaluation.distance import cosine_similarity, euclidean_distance, rfd_distance


@dataclass(frozen=True)
class Tile:
    """How one image is shown: its URL, name, stored size and effective pixel count."""

    url: str
    name: str
    width: int
    height: int
    pixels: int
    resolution: str | None = None  # B-R class label, or the protocol's, when known


@dataclass(frozen=True)
class Query:
    """One query: its features (one row), its tile and, when its name carries one, its id."""

    features: Features
    tile: Tile
    pid: int | None = None


@dataclass(frozen=True)
class Gallery:
    """Features of a gallery and how to show and label its images, by index."""

    features: Features
    tile: Callable[[int], Tile]
    pids: list[int | None]

    @property
    def has_rfd(self) -> bool:
        return self.features.r is not None


@dataclass(frozen=True)
class Hit:
    """One ranked gallery image; `moved` > 0: that many places higher than under B-F."""

    rank: int
    tile: Tile
    distance: float
    match: bool | None
    moved: int


def rank_indices(query: Features, gallery: Features, lam: float, form: str,
                 top_k: int, exclude: Collection[int] = ()) -> list[tuple[int, float, int]]:
    """The `top_k` closest gallery indices under eq. 8 (plain D_f without B-R features) as
    (index, distance, places moved up vs the B-F order), `exclude` left out of both orders."""
    if len(query) != 1:
        raise ReIDError("rank one query at a time")
    d_f = euclidean_distance(query.f, gallery.f)[0]
    if query.r is None or gallery.r is None:
        fused = d_f
    else:
        fused = rfd_distance(d_f, cosine_similarity(query.r, gallery.r)[0], lam, form)
    keep = torch.ones(len(gallery), dtype=torch.bool)
    keep[list(exclude)] = False
    kept = keep.nonzero()[:, 0]
    bf_order = kept[torch.argsort(d_f[kept], stable=True)]
    bf_place = torch.empty(len(gallery), dtype=torch.long)
    bf_place[bf_order] = torch.arange(len(bf_order))
    top = kept[torch.argsort(fused[kept], stable=True)[:top_k]]
    return [(i, float(fused[i]), int(bf_place[i]) - place)
            for place, i in enumerate(top.tolist())]


def rank(query: Query, gallery: Gallery, lam: float, form: str, top_k: int,
         exclude: Collection[int] = ()) -> list[Hit]:
    """The top-k of `gallery` for `query` as tiles, framed green/red where ids are known."""
    hits = []
    for place, (i, dist, moved) in enumerate(
            rank_indices(query.features, gallery.features, lam, form, top_k, exclude), 1):
        pid = gallery.pids[i]
        match = None if pid is None or query.pid is None else pid == query.pid
        hits.append(Hit(place, gallery.tile(i), dist, match, moved))
    return hits

"""Re-ranking a gallery from cached features: B-F order, eq. 8 order (optionally
k-reciprocal re-ranked), how far each image moved between them, and which hits a match
threshold keeps.

Why rows: moving λ or switching the eq. 7-8 form changes neither D_f nor the resolution
cosine, so a query's [G] rows are computed once (:class:`QueryRows`) and a slider move is
one fusion and one sort: milliseconds on a 20k gallery (benchmarks/bench_serve.py).
Re-ranking cannot use them: it mines the whole gallery's neighbourhoods at each λ.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import torch

from rfdreid.inference.gallery import Features
from rfdreid.errors import ReIDError
from rfdreid.evaluation.distance import cosine_similarity, euclidean_distance, rfd_distance
from rfdreid.evaluation.rerank import RerankParams, rerank_features


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
    """One ranked gallery image; `moved` > 0: that many places higher than under B-F;
    `within`: distance <= the match threshold (None without a threshold)."""

    rank: int
    tile: Tile
    distance: float
    match: bool | None
    moved: int
    within: bool | None = None


@dataclass(frozen=True)
class QueryRows:
    """What a ranking keeps while λ and the form move: one query's D_f and resolution
    cosine rows to the whole gallery, and each kept image's place under B-F."""

    d_f: torch.Tensor  # [G]
    cos_r: torch.Tensor | None  # [G], None without B-R features on both sides
    kept: torch.Tensor  # gallery indices ranked (all but the excluded ones)
    bf_place: torch.Tensor  # [G] 0-based place under B-F (meaningful for kept indices)

    @classmethod
    def compute(cls, query: Features, gallery: Features, exclude: Collection[int] = ()
                ) -> QueryRows:
        """The rows of one query; `exclude` leaves gallery indices out of every order."""
        if len(query) != 1:
            raise ReIDError("rank one query at a time")
        d_f = euclidean_distance(query.f, gallery.f)[0]
        both = query.r is not None and gallery.r is not None
        cos_r = cosine_similarity(query.r, gallery.r)[0] if both else None
        keep = torch.ones(len(gallery), dtype=torch.bool)
        keep[list(exclude)] = False
        kept = keep.nonzero()[:, 0]
        bf_place = torch.empty(len(gallery), dtype=torch.long)
        bf_place[kept[torch.argsort(d_f[kept], stable=True)]] = torch.arange(len(kept))
        return cls(d_f, cos_r, kept, bf_place)

    def fused(self, lam: float, form: str) -> torch.Tensor:
        """[G] eq. 8 distance (D_f without B-R)."""
        return self.d_f if self.cos_r is None else rfd_distance(self.d_f, self.cos_r, lam, form)

    def top(self, dist: torch.Tensor, top_k: int) -> list[tuple[int, float, int]]:
        """The `top_k` kept indices closest by `dist` [G] as (index, distance, places moved
        up vs B-F)."""
        top = self.kept[torch.argsort(dist[self.kept], stable=True)[:top_k]]
        return [(i, float(dist[i]), int(self.bf_place[i]) - place)
                for place, i in enumerate(top.tolist())]


def rank(query: Query, gallery: Gallery, rows: QueryRows, lam: float, form: str,
         top_k: int, rerank: RerankParams | None = None,
         max_distance: float | None = None) -> list[Hit]:
    """The top-k of `gallery` for `query` (its `rows`) as tiles, framed green/red where
    ids are known; `rerank`: k-reciprocal re-ranked after eq. 8, as `ReIDModel.search`
    ranks (distances are then eq. 13's d*); `max_distance`: each hit says whether it is
    within that match threshold (all are shown, so what it cuts off stays visible)."""
    if rerank is None:
        dist = rows.fused(lam, form)
    else:
        q, g = query.features, gallery.features
        dist = rerank_features(q.f, g.f, q.r, g.r, lam, form, rerank)[0]
    hits = []
    for place, (i, d, moved) in enumerate(rows.top(dist, top_k), 1):
        pid = gallery.pids[i]
        match = None if pid is None or query.pid is None else pid == query.pid
        # compared as a float32 tensor, as `ReIDModel.search` filters: the same hits pass
        within = None if max_distance is None else bool(dist[i] <= max_distance)
        hits.append(Hit(place, gallery.tile(i), d, match, moved, within))
    return hits

"""Re-ranking from features: eq. 8 order, places moved vs B-F, left-out indices, the
match threshold and k-reciprocal re-ranking."""

from __future__ import annotations

import pytest
import torch

from rfdreid.inference.gallery import Features
from rfdreid.evaluation.rerank import RerankParams
from rfdreid.serve.ranking import Gallery, Query, QueryRows, Tile, rank


def _top(rows: QueryRows, lam: float, form: str, top_k: int) -> list[tuple[int, float, int]]:
    return rows.top(rows.fused(lam, form), top_k)


def _features() -> tuple[Features, Features]:
    """B-F prefers gallery 0 < 1 < 2 < 3; B-R says 0 and 1 share the query's resolution."""
    qf = torch.tensor([[1.0, 0.0]])
    gf = torch.tensor([[1.0, 0.0], [0.95, 0.31], [0.8, 0.6], [0.0, 1.0]])
    qr = torch.tensor([[1.0, 0.0]])
    gr = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    return Features(qf, qr), Features(gf, gr)


def test_lambda_zero_is_bf_and_nothing_moves() -> None:
    q, g = _features()
    assert [(i, m) for i, _, m in _top(QueryRows.compute(q, g), 0.0, "filter", 4)] == \
        [(0, 0), (1, 0), (2, 0), (3, 0)]


def test_filter_pushes_same_resolution_down_and_reports_moves() -> None:
    q, g = _features()
    ranked = _top(QueryRows.compute(q, g), 1.0, "filter", 4)  # D_f + cos: same resolution penalised
    assert [i for i, _, _ in ranked] == [2, 0, 1, 3]
    assert [m for _, _, m in ranked] == [2, -1, -1, 0]
    d_f = torch.cdist(q.f, g.f)[0]
    assert abs(ranked[0][1] - float(d_f[2] - 1.0)) < 1e-5  # D_f - λ (1 - cos), cos = 0


def test_literal_keeps_same_resolution_first() -> None:
    q, g = _features()
    assert [i for i, _, _ in _top(QueryRows.compute(q, g), 1.0, "literal", 2)] == [0, 1]


def test_excluded_indices_leave_both_orders() -> None:
    q, g = _features()
    ranked = _top(QueryRows.compute(q, g, exclude=[2]), 1.0, "filter", 4)
    assert [(i, m) for i, _, m in ranked] == [(0, 0), (1, 0), (3, 0)]


def test_without_resolution_features_distance_is_bf() -> None:
    q, g = _features()
    ranked = _top(QueryRows.compute(Features(q.f), Features(g.f)), 1.0, "filter", 2)
    assert [i for i, _, _ in ranked] == [0, 1]


def _on_a_line(xs: list[float]) -> tuple[Query, Gallery]:
    """A query at 0 and gallery image i at xs[i] on a line: distances |xs[i]| exactly."""
    def tile(i: int) -> Tile:
        return Tile(f"/{i}", f"{i}.jpg", 1, 1, 1)

    g = torch.tensor([[x, 0.0] for x in xs])
    return Query(Features(torch.zeros(1, 2)), tile(-1)), Gallery(Features(g), tile,
                                                                 [None] * len(xs))


@pytest.mark.parametrize("limit, within", [(None, [None] * 4), (2.0, [True, True, False, False]),
                                           (1.5, [True, False, False, False]),
                                           (0.0, [False] * 4), (9.0, [True] * 4)])
def test_threshold_marks_hits_at_or_below_it(limit: float | None, within: list) -> None:
    query, gallery = _on_a_line([3.0, 1.0, 4.0, 2.0])
    hits = rank(query, gallery, QueryRows.compute(query.features, gallery.features), 0.0,
                "filter", 4, max_distance=limit)
    assert [(h.tile.name, h.distance) for h in hits] == \
        [("1.jpg", 1.0), ("3.jpg", 2.0), ("0.jpg", 3.0), ("2.jpg", 4.0)]
    assert [h.within for h in hits] == within


def test_rerank_puts_the_mutual_neighbour_first() -> None:
    """Query q at 0; a at 1.0 is nearest, but its own nearest are b1, b2 (1.1, 1.2, ...);
    m at -1.05 has q as its nearest. With k1 = k2 = 2, R(q) = {q, m} = R(m) and N(q, 2) =
    {q, a, m} = N(m, 2), so q's and m's expanded encodings are equal: d_J(q, m) = 0 and
    d*(q, m) = 0.3 * 1.05, while a keeps a share of Jaccard distance above it."""
    query, gallery = _on_a_line([1.0, 1.1, 1.2, 1.3, -1.05])
    rows = QueryRows.compute(query.features, gallery.features)
    plain = rank(query, gallery, rows, 0.0, "filter", 5)
    assert [h.tile.name for h in plain] == ["0.jpg", "4.jpg", "1.jpg", "2.jpg", "3.jpg"]
    hits = rank(query, gallery, rows, 0.0, "filter", 5, RerankParams(k1=2, k2=2),
                max_distance=0.5)
    assert [h.tile.name for h in hits][:2] == ["4.jpg", "0.jpg"]
    assert hits[0].distance == pytest.approx(0.3 * 1.05) and hits[0].moved == 1
    assert [h.within for h in hits] == [True, False, False, False, False]  # the rest: > 0.8

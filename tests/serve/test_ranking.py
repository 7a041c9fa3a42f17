"""Re-ranking from features: eq. 8 order, places moved vs B-F, left-out indices."""

from __future__ import annotations

import torch

from rfdreid.inference.gallery import Features
from rfdreid.serve.ranking import QueryRows


def _features() -> tuple[Features, Features]:
    """B-F prefers gallery 0 < 1 < 2 < 3; B-R says 0 and 1 share the query's resolution."""
    qf = torch.tensor([[1.0, 0.0]])
    gf = torch.tensor([[1.0, 0.0], [0.95, 0.31], [0.8, 0.6], [0.0, 1.0]])
    qr = torch.tensor([[1.0, 0.0]])
    gr = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    return Features(qf, qr), Features(gf, gr)


def test_lambda_zero_is_bf_and_nothing_moves() -> None:
    q, g = _features()
    assert [(i, m) for i, _, m in QueryRows.compute(q, g).top(0.0, "filter", 4)] == \
        [(0, 0), (1, 0), (2, 0), (3, 0)]


def test_filter_pushes_same_resolution_down_and_reports_moves() -> None:
    q, g = _features()
    ranked = QueryRows.compute(q, g).top(1.0, "filter", 4)  # D_f + cos: same resolution penalised
    assert [i for i, _, _ in ranked] == [2, 0, 1, 3]
    assert [m for _, _, m in ranked] == [2, -1, -1, 0]
    d_f = torch.cdist(q.f, g.f)[0]
    assert abs(ranked[0][1] - float(d_f[2] - 1.0)) < 1e-5  # D_f - λ (1 - cos), cos = 0


def test_literal_keeps_same_resolution_first() -> None:
    q, g = _features()
    assert [i for i, _, _ in QueryRows.compute(q, g).top(1.0, "literal", 2)] == [0, 1]


def test_excluded_indices_leave_both_orders() -> None:
    q, g = _features()
    ranked = QueryRows.compute(q, g, exclude=[2]).top(1.0, "filter", 4)
    assert [(i, m) for i, _, m in ranked] == [(0, 0), (1, 0), (3, 0)]


def test_without_resolution_features_distance_is_bf() -> None:
    q, g = _features()
    ranked = QueryRows.compute(Features(q.f), Features(g.f)).top(1.0, "filter", 2)
    assert [i for i, _, _ in ranked] == [0, 1]

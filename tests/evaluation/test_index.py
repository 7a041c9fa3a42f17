"""faiss gallery index, RFD re-ranking of a shortlist, IVF recall."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rfdreid.errors import ReIDError
from rfdreid.evaluation import (
    GalleryIndex,
    cosine_similarity,
    euclidean_distance,
    recall_at_k,
    rfd_distance,
    search_rfd,
)


@pytest.fixture
def gallery() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)

    def rows(n: int, dim: int) -> np.ndarray:
        return rng.standard_normal((n, dim), dtype=np.float32)

    return rows(25, 32), rows(2000, 32), rows(25, 6), rows(2000, 6)


def test_flat_search_is_brute_force(gallery) -> None:
    qf, gf, _, _ = gallery
    dist, idx = GalleryIndex(gf).search(qf, k=10)
    full = euclidean_distance(qf, gf)
    want_d, want_i = torch.topk(full, 10, dim=1, largest=False)
    np.testing.assert_array_equal(idx, want_i.numpy())
    np.testing.assert_allclose(dist, want_d.numpy(), rtol=1e-4, atol=1e-4)
    _, idx_ip = GalleryIndex(gf, metric="ip").search(qf, k=5)
    np.testing.assert_array_equal(idx_ip, torch.topk(torch.from_numpy(qf @ gf.T), 5).indices.numpy())


def test_search_rfd_on_whole_gallery_equals_full_rfd(gallery) -> None:
    qf, gf, qr, gr = gallery
    fused, idx = search_rfd(GalleryIndex(gf), qf, qr, gr, k=10, lam=0.3, shortlist=len(gf))
    full = rfd_distance(euclidean_distance(qf, gf), cosine_similarity(qr, gr), 0.3)
    want_d, want_i = torch.topk(full, 10, dim=1, largest=False)
    np.testing.assert_array_equal(idx, want_i.numpy())
    np.testing.assert_allclose(fused, want_d.numpy(), rtol=1e-4, atol=1e-4)


def test_recall_counts_shared_hits_and_ignores_missing_slots() -> None:
    """Worked by hand: row 0 shares 3 of 3, row 1 shares only 3 (its -1 slot is no hit)."""
    approx = np.array([[0, 1, 2], [3, -1, 5]])
    exact = np.array([[2, 1, 0], [3, 4, 6]])
    assert recall_at_k(approx, exact) == pytest.approx(4 / 6)
    assert recall_at_k(np.array([[-1, -1]]), np.array([[-1, 7]])) == 0.0
    with pytest.raises(ReIDError, match="equal non-empty"):
        recall_at_k(approx, exact[:, :2])


def test_ivf_visiting_every_cell_is_exact(gallery) -> None:
    qf, gf, qr, gr = gallery
    want_d, want_i = GalleryIndex(gf).search(qf, k=10)
    ivf = GalleryIndex(gf, kind="ivf", nlist=16, nprobe=16)
    got_d, got_i = ivf.search(qf, k=10)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-4, atol=1e-4)
    assert recall_at_k(got_i, want_i) == 1.0
    _, idx = search_rfd(ivf, qf, qr, gr, k=5)  # default shortlist 10 * k
    assert idx.shape == (25, 5)


def test_ivf_one_cell_misses_the_other_cluster_by_a_known_share() -> None:
    """Two tight clusters of 10 points, 100 apart; IVF with 2 cells, 1 probed. A query at
    cluster A's centre has A's 10 points, then 5 of B, as exact top 15; IVF only searches
    A's cell, so it returns A's 10 points and 5 empty slots: recall exactly 10 / 15."""
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 0.01, (10, 4)).astype(np.float32)
    b = (rng.normal(0.0, 0.01, (10, 4)) + 100.0).astype(np.float32)
    gf, query = np.concatenate([a, b]), np.zeros((1, 4), np.float32)
    _, exact = GalleryIndex(gf).search(query, k=15)
    assert set(exact[0, :10]) == set(range(10))  # the construction does what it says
    _, approx = GalleryIndex(gf, kind="ivf", nlist=2, nprobe=1).search(query, k=15)
    assert set(approx[0, :10]) == set(range(10)) and (approx[0, 10:] == -1).all()
    assert recall_at_k(approx, exact) == pytest.approx(10 / 15)


def test_index_errors(gallery) -> None:
    qf, gf, qr, gr = gallery
    with pytest.raises(ReIDError, match="non-empty"):
        GalleryIndex(gf[:0])
    with pytest.raises(ReIDError, match="kind"):
        GalleryIndex(gf, kind="hnsw")
    with pytest.raises(ReIDError, match="k must be"):
        GalleryIndex(gf).search(qf, k=len(gf) + 1)
    with pytest.raises(ReIDError, match="'l2'"):
        search_rfd(GalleryIndex(gf, metric="ip"), qf, qr, gr, k=5)
    with pytest.raises(ReIDError, match="rows"):
        search_rfd(GalleryIndex(gf), qf, qr, gr[:10], k=5)

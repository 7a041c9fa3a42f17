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


def test_ivf_recall_in_unit_interval(gallery) -> None:
    qf, gf, qr, gr = gallery
    _, exact = GalleryIndex(gf).search(qf, k=10)
    ivf = GalleryIndex(gf, kind="ivf", nlist=16, nprobe=4)
    _, approx = ivf.search(qf, k=10)
    assert 0.0 <= recall_at_k(approx, exact) <= 1.0
    assert recall_at_k(exact, exact) == 1.0
    _, idx = search_rfd(ivf, qf, qr, gr, k=5)  # default shortlist 10 * k
    assert idx.shape == (25, 5)


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

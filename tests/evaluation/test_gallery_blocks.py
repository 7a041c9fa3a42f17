"""evaluate_features over query chunks x gallery blocks equals ranking the full matrices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rfdreid.errors import ReIDError
from rfdreid.evaluation import cosine_similarity, euclidean_distance, evaluate_features, rank_result, rfd_distance
from rfdreid.evaluation.distance import duplicate_rows


@pytest.mark.parametrize("chunk_size, block_size", [(1, 1), (7, 13), (40, 150), (None, 64), (3, None)])
def test_blocks_equal_full_matrix(chunk_size: int | None, block_size: int | None) -> None:
    gen = torch.Generator().manual_seed(3)
    rng = np.random.default_rng(3)
    qf, gf = torch.randn(40, 16, generator=gen), torch.randn(150, 16, generator=gen)
    qr, gr = torch.randn(40, 4, generator=gen), torch.randn(150, 4, generator=gen)
    gf[100:] = gf[:50]  # duplicate gallery images: exact ties across blocks
    gr[100:120] = gr[:20]  # ... in both features: ties under every lambda
    labels = rng.integers(0, 10, 40), rng.integers(0, 10, 150), rng.integers(0, 3, 40), rng.integers(0, 3, 150)
    lambdas = (0.0, 0.1, -0.3)
    got = evaluate_features(qf, gf, *labels, qr=qr, gr=gr, lambdas=lambdas, max_rank=20,
                            chunk_size=chunk_size, block_size=block_size)
    d_f, d_r = euclidean_distance(qf, gf), cosine_similarity(qr, gr)
    for lam in lambdas:
        want = rank_result(rfd_distance(d_f, d_r, lam), *labels, max_rank=20)
        np.testing.assert_allclose(got[lam].cmc, want.cmc, atol=1e-6)
        assert (got[lam].mAP, got[lam].mINP) == pytest.approx((want.mAP, want.mINP), abs=1e-6)
        assert got[lam].num_valid_queries == want.num_valid_queries


@pytest.mark.parametrize("sizes, match", [({"chunk_size": 0}, "chunk_size"), ({"block_size": 0}, "block_size")])
def test_bad_sizes_raise(sizes: dict, match: str) -> None:
    qf, gf = torch.zeros(3, 4), torch.zeros(5, 4)
    with pytest.raises(ReIDError, match=match):
        evaluate_features(qf, gf, np.zeros(3), np.zeros(5), np.zeros(3), np.ones(5), **sizes)


def test_duplicate_rows_finds_exact_repeats_in_every_matrix_only() -> None:
    """Oracle: pairwise comparison of the rows' bytes; -0.0 and 0.0 differ in bits."""
    gen = torch.Generator().manual_seed(5)
    f, r = torch.randn(60, 8, generator=gen), torch.randn(60, 3, generator=gen)
    f[[10, 20, 30, 41]] = f[[1, 1, 2, 40]]
    r[[10, 30]] = r[[1, 2]]  # rows 20 and 41 repeat in f only
    f[50], f[51] = 0.0, -0.0
    r[51] = r[50]

    def brute(*mats: torch.Tensor) -> list[tuple[int, int]]:
        rows = [b"".join(m[i].numpy().tobytes() for m in mats) for i in range(60)]
        return [(i, rows.index(rows[i])) for i in range(60) if rows.index(rows[i]) != i]

    for mats in ((f,), (f, r), (r,)):
        repeats, firsts = duplicate_rows(*mats)
        assert list(zip(repeats.tolist(), firsts.tolist())) == brute(*mats)
    assert brute(f, r) == [(10, 1), (30, 2)]
    assert [len(t) for t in duplicate_rows(torch.randn(9, 4, generator=gen))] == [0, 0]


def test_identical_gallery_rows_get_bit_identical_distances() -> None:
    gen = torch.Generator().manual_seed(7)
    qf, gf = torch.randn(33, 37, generator=gen), torch.randn(301, 37, generator=gen)
    gf[150:300] = gf[:150]
    for d in (euclidean_distance(qf, gf), cosine_similarity(qf, gf)):
        assert torch.equal(d[:, 150:300], d[:, :150])

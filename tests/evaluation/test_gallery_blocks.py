"""evaluate_features over query chunks x gallery blocks equals ranking the full matrices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rfdreid.errors import ReIDError
from rfdreid.evaluation import cosine_similarity, euclidean_distance, evaluate_features, rank_result, rfd_distance


@pytest.mark.parametrize("chunk_size, block_size", [(1, 1), (7, 13), (40, 150), (None, 64), (3, None)])
def test_blocks_equal_full_matrix(chunk_size: int | None, block_size: int | None) -> None:
    gen = torch.Generator().manual_seed(3)
    rng = np.random.default_rng(3)
    qf, gf = torch.randn(40, 16, generator=gen), torch.randn(150, 16, generator=gen)
    qr, gr = torch.randn(40, 4, generator=gen), torch.randn(150, 4, generator=gen)
    gf[100:] = gf[:50]  # duplicate gallery images: exact ties across blocks
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

"""The numba ranking kernel against a brute-force stable-argsort oracle written here.

Random problems with many ties (integer-valued distances, also +-inf), junk, queries
without a match, and single-row / single-column matrices.
"""

from __future__ import annotations

import numpy as np
import pytest

from rfdreid.evaluation.metrics import GalleryGroups, query_rank_stats


def oracle(dist: np.ndarray, q_pids, g_pids, q_cams, g_cams):
    """(first, ap, inp) per query from a full stable argsort of each row."""
    first, ap, inp = [], [], []
    for i, row in enumerate(dist):
        order = np.argsort(row, kind="stable")
        same = g_pids[order] == q_pids[i]
        valid = ~(same & (g_cams[order] == q_cams[i]))
        hits = np.flatnonzero(same[valid])
        if len(hits) == 0:
            first.append(-1), ap.append(0.0), inp.append(0.0)
            continue
        first.append(hits[0])
        ap.append(np.mean(np.arange(1, len(hits) + 1) / (hits + 1)))
        inp.append(len(hits) / (hits[-1] + 1))
    return np.array(first), np.array(ap), np.array(inp)


def problem(seed: int, q: int, g: int, dtype=np.float32):
    rng = np.random.default_rng(seed)
    dist = rng.integers(-2, 3, (q, g)).astype(dtype)  # five values: ties everywhere
    dist[rng.random((q, g)) < 0.05] = np.inf
    dist[rng.random((q, g)) < 0.05] = -np.inf
    q_pids, g_pids = rng.integers(0, 4, q), rng.integers(0, 4, g)
    q_pids[rng.random(q) < 0.2] = 7  # in no gallery: skipped
    return dist, q_pids, g_pids, rng.integers(0, 2, q), rng.integers(0, 2, g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(20))
def test_matches_stable_argsort_oracle(seed: int, dtype) -> None:
    rng = np.random.default_rng(1000 + seed)
    shape = [(1, 1), (1, 40), (30, 1), (int(rng.integers(1, 40)), int(rng.integers(1, 300)))][seed % 4]
    dist, qp, gp, qc, gc = problem(seed, *shape, dtype=dtype)
    got = query_rank_stats(dist, qp, qc, GalleryGroups.build(gp, gc), num_threads=2)
    want = oracle(dist, qp, gp, qc, gc)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12)


def test_strided_rows_and_many_matches() -> None:
    """A transposed (column-major) matrix, and a pid with far more than four gallery items."""
    dist, qp, gp, qc, gc = problem(5, 200, 25)
    gp[:] = 1
    qp[:100] = 1
    got = query_rank_stats(dist.T.copy().T, qp, qc, GalleryGroups.build(gp, gc))
    want = oracle(dist, qp, gp, qc, gc)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_ranking_leaves_torch_thread_count(threads: int) -> None:
    """numba's OpenMP layer shares torch's runtime: ranking on `threads` must leave the
    torch thread count a job was started with (OMP_NUM_THREADS=1 beside another job)."""
    import torch

    rng = np.random.default_rng(0)
    dist = rng.random((40, 60)).astype(np.float32)
    groups = GalleryGroups.build(rng.integers(0, 10, 60), rng.integers(0, 3, 60))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        query_rank_stats(dist, rng.integers(0, 10, 40), rng.integers(0, 3, 40), groups, threads)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)

"""evaluate_rank against a plain per-query argsort loop, and a case worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rfdreid.errors import ReIDError
from rfdreid.evaluation import RankResult, evaluate_rank, rank_result

from oracles import reference_rank


def _random_problem(seed: int, ties: bool):
    rng = np.random.default_rng(seed)
    q, g = int(rng.integers(5, 60)), int(rng.integers(3, 120))
    if ties:  # few distinct values: many ties, resolved by gallery index
        dist = rng.integers(0, 4, (q, g)).astype(np.float32)
    else:
        dist = rng.standard_normal((q, g)).astype(np.float32)
    q_pids, g_pids = rng.integers(0, 8, q), rng.integers(0, 8, g)
    q_cams, g_cams = rng.integers(0, 3, q), rng.integers(0, 3, g)
    q_pids[0] = 99  # a query with no match at all: skipped
    q_pids[1], q_cams[1] = g_pids[0], g_cams[0]
    g_pids[g_pids == g_pids[0]] = -5  # query 1's only same-pid image is in its own camera
    g_pids[0] = q_pids[1]
    return dist, q_pids, g_pids, q_cams, g_cams


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_matches_plain_loop(seed: int, ties: bool) -> None:
    dist, qp, gp, qc, gc = _random_problem(seed, ties)
    ref_cmc, ref_map, ref_minp, ref_valid = reference_rank(dist, qp, gp, qc, gc, max_rank=50)
    res = rank_result(dist, qp, gp, qc, gc, max_rank=50, num_workers=2)
    assert res.num_valid_queries == ref_valid < len(qp)  # the two match-less queries skipped
    np.testing.assert_allclose(res.cmc, ref_cmc, atol=1e-6)
    assert res.mAP == pytest.approx(ref_map, abs=1e-6)
    assert res.mINP == pytest.approx(ref_minp, abs=1e-6)
    assert len(res.cmc) == 50  # galleries smaller than max_rank: curve padded, ends at 1.0
    if dist.shape[1] < 50:
        assert res.cmc[-1] == 1.0


def test_chunked_threads_match_plain_loop_on_float64() -> None:
    rng = np.random.default_rng(7)
    dist = rng.random((300, 20000))  # several chunks and threads; float64 stays float64
    qp, gp = rng.integers(0, 40, 300), rng.integers(0, 40, 20000)
    qc, gc = rng.integers(0, 4, 300), rng.integers(0, 4, 20000)
    ref_cmc, ref_map, ref_minp, _ = reference_rank(dist, qp, gp, qc, gc, max_rank=20)
    cmc, mAP, mINP = evaluate_rank(torch.from_numpy(dist), qp, gp, qc, gc, max_rank=20)
    np.testing.assert_allclose(cmc, ref_cmc, atol=1e-6)
    assert (mAP, mINP) == pytest.approx((ref_map, ref_minp), abs=1e-6)


def test_hand_made_case() -> None:
    """Two queries, gallery of 6; values worked out by hand.

    Query 0 (pid 1, cam 0), distances ranked: g0 (pid 1, cam 0: junk, removed), g1 (pid 2),
    g2 (pid 1, cam 1), g3 (pid 3), g4 (pid 1, cam 2), g5 (pid 2). Valid list: g1 g2 g3 g4 g5,
    true matches at ranks 2 and 4: AP = (1/2 + 2/4) / 2 = 0.5, INP = 2/4 = 0.5, first hit 2.
    Query 1 (pid 2, cam 1): g5 and g1 tie at 0.0; the tie goes to the lower index g1 (pid 2,
    cam 0, a true match) at rank 1, then g5 at rank 2: AP = 1, INP = 2/2 = 1, first hit 1.
    """
    dist = np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                     [9.0, 0.0, 7.0, 8.0, 6.0, 0.0]])
    g_pids = np.array([1, 2, 1, 3, 1, 2])
    g_cams = np.array([0, 0, 1, 1, 2, 2])
    cmc, mAP, mINP = evaluate_rank(dist, np.array([1, 2]), g_pids, np.array([0, 1]), g_cams, max_rank=5)
    np.testing.assert_allclose(cmc, [0.5, 1.0, 1.0, 1.0, 1.0])
    assert mAP == pytest.approx(0.75)
    assert mINP == pytest.approx(0.75)


def test_rank_result_accessors() -> None:
    res = RankResult(np.array([0.5, 0.7, 0.8, 0.9, 0.95]), 0.6, 0.4, 10)
    assert (res.r1, res.r5) == (0.5, 0.95)
    assert res.to_dict() == {"mAP": 0.6, "mINP": 0.4, "R1": 0.5, "R5": 0.95, "num_valid_queries": 10}
    with pytest.raises(ReIDError, match="rank-10"):
        _ = res.r10
    # a curve of 12 ranks reports R1, R5 and R10, each read at its own index
    long = RankResult(np.arange(1, 13) / 12, 0.6, 0.4, 10)
    assert long.to_dict() == {"mAP": 0.6, "mINP": 0.4, "R1": 1 / 12, "R5": 5 / 12,
                              "R10": 10 / 12, "num_valid_queries": 10}


@pytest.mark.parametrize(
    "shape, q_len, g_len, match",
    [((0, 5), 0, 5, "empty"), ((3, 0), 3, 0, "empty"), ((3, 5), 2, 5, "q_pids"), ((3, 5), 3, 4, "g_pids")],
)
def test_bad_inputs_raise_reid_error(shape, q_len, g_len, match) -> None:
    with pytest.raises(ReIDError, match=match):
        evaluate_rank(np.zeros(shape), np.zeros(q_len), np.zeros(g_len),
                      np.zeros(shape[0]), np.zeros(shape[1]))


def test_no_valid_query_and_nan_raise_reid_error() -> None:
    with pytest.raises(ReIDError, match="no query has a true match"):
        evaluate_rank(np.zeros((2, 3)), np.array([1, 2]), np.array([3, 3, 3]), np.zeros(2), np.ones(3))
    dist = np.array([[0.1, np.nan, 0.3]])
    with pytest.raises(ReIDError, match="NaN"):
        evaluate_rank(dist, np.array([1]), np.array([1, 2, 3]), np.zeros(1), np.ones(3))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.float16, np.float32])
def test_any_numeric_distance_dtype_ranks_like_float64(dtype) -> None:
    """Integer and half-precision matrices are ranked by their values, ties included."""
    rng = np.random.default_rng(3)
    dist = rng.integers(0, 6, (12, 30)).astype(np.float64)  # many ties
    q_pids, g_pids = rng.integers(0, 4, 12), rng.integers(0, 4, 30)
    q_cams, g_cams = rng.integers(0, 2, 12), rng.integers(0, 2, 30)
    want = rank_result(dist, q_pids, g_pids, q_cams, g_cams, max_rank=10)
    got = rank_result(dist.astype(dtype), q_pids, g_pids, q_cams, g_cams, max_rank=10)
    np.testing.assert_array_equal(got.cmc, want.cmc)
    assert (got.mAP, got.mINP) == (want.mAP, want.mINP)


def test_rank_result_refuses_a_vector_and_defaults_to_50_ranks() -> None:
    with pytest.raises(ReIDError, match=r"^distmat must be \[Q, G\], got shape \(3,\)$"):
        rank_result(np.zeros(3), [0], [0, 0, 0], [0], [1, 1, 1])
    dist = np.arange(6.0).reshape(2, 3)
    assert len(rank_result(dist, [0, 1], [0, 1, 2], [0, 0], [1, 1, 1]).cmc) == 50
    assert len(evaluate_rank(dist, [0, 1], [0, 1, 2], [0, 0], [1, 1, 1])[0]) == 50


def test_label_length_errors_name_the_array_and_its_sizes() -> None:
    dist = np.arange(6.0).reshape(2, 3)
    good = dict(q_pids=[0, 1], g_pids=[0, 1, 2], q_camids=[0, 0], g_camids=[1, 1, 1])
    for name, expected in (("q_pids", 2), ("g_pids", 3), ("q_camids", 2), ("g_camids", 3)):
        bad = good | {name: list(range(expected + 1))}
        with pytest.raises(ReIDError, match=rf"^{name} has {expected + 1} entries, expected {expected}$"):
            rank_result(dist, **bad)


def test_column_vector_labels_and_bfloat16_distances_are_accepted() -> None:
    """Labels shaped [N, 1] (a common pandas/torch leftover) and a bf16 distance tensor rank
    exactly like flat labels and the float32 matrix they round from."""
    rng = np.random.default_rng(5)
    dist = torch.tensor(rng.integers(0, 50, (6, 20)), dtype=torch.bfloat16)  # exact in bf16
    qp, gp = rng.integers(0, 3, 6), rng.integers(0, 3, 20)
    qc, gc = np.zeros(6, int), np.ones(20, int)
    want = rank_result(dist.float().numpy(), qp, gp, qc, gc, max_rank=5)
    got = rank_result(dist, qp[:, None], gp[:, None], qc[:, None], gc[:, None], max_rank=5)
    np.testing.assert_array_equal(got.cmc, want.cmc)
    assert (got.mAP, got.mINP) == (want.mAP, want.mINP)


def test_one_rank_curve_and_the_refusals_of_the_accumulator() -> None:
    dist = np.array([[0.2, 0.1, 0.3]])
    res = rank_result(dist, [0], [1, 0, 2], [0], [1, 1, 1], max_rank=1)
    assert res.cmc.tolist() == [1.0]
    with pytest.raises(ReIDError, match=r"^max_rank must be >= 1, got 0$"):
        rank_result(dist, [0], [1, 0, 2], [0], [1, 1, 1], max_rank=0)
    with pytest.raises(ReIDError, match=r"^no query has a true match in the gallery \(same pid, "
                                        r"other camera\); check that query and gallery come "
                                        r"from the same split$"):
        rank_result(dist, [7], [1, 0, 2], [0], [1, 1, 1])
    with pytest.raises(ReIDError, match=r"^the distance matrix contains NaN; check the features "
                                        r"for NaN/inf$"):
        rank_result(np.array([[0.2, np.nan, 0.3]]), [0], [1, 0, 2], [0], [1, 1, 1])


def test_distances_are_ranked_at_their_own_precision() -> None:
    """float64 tensors and wide integers keep the differences float32 would round away:
    1 + 1e-12 and 2**25 + 1 must rank behind 1 and 2**25 (which sit at the higher index)."""
    for dist in (torch.tensor([[1.0 + 1e-12, 1.0]], dtype=torch.float64),
                 np.array([[2**25 + 1, 2**25]], dtype=np.int64),
                 np.array([[2**25 + 1, 2**25]], dtype=np.int32)):
        res = rank_result(dist, [0], [0, 1], [0], [1, 1], max_rank=2)
        assert res.cmc.tolist() == [0.0, 1.0], type(dist)

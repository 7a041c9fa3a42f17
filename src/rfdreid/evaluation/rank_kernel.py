"""The numba kernel behind :func:`rfdreid.evaluation.metrics.query_rank_stats`.

A separate module so that numba (and its compile cache) loads only when a ranking is first
computed, not on ``import rfdreid.evaluation``. See the metrics module doc for the rule.

A true match at gallery index m with distance d sits, in the stable order of its row, after
every item j < m with ``dist <= d`` and every item j > m with ``dist < d``. Both are strict
compares, ``dist < nextafter(d, inf)`` and ``dist < d``, so the row is cut at the matches'
indices and each segment is counted against four thresholds per pass: k x G compares for k
true matches, no sort, and the compiler vectorises the branch-free counting loops.
"""

from __future__ import annotations

import numba
import numpy as np

_LANES = 4  # thresholds counted per pass over a row (8 measured no faster)
_EXACT_COUNT = 2**24  # float32 holds every integer up to here


@numba.njit(fastmath={"reassoc"}, cache=True)
def _count4(row: np.ndarray, lo: int, hi: int, e0: float, e1: float, e2: float, e3: float,
            out: np.ndarray) -> None:
    """``out[t] += #{lo <= j < hi: row[j] < e_t}`` for four thresholds in one pass.

    The counts add float32 ones in vector lanes (``reassoc`` lets the compiler split the
    sums; about 1.6x faster than int64 lanes): exact while each sum stays <= 2**24, hence
    the outer steps. No other float maths lives in this function.
    """
    one, zero = np.float32(1.0), np.float32(0.0)
    for start in range(lo, hi, _EXACT_COUNT):
        c0 = c1 = c2 = c3 = zero
        for j in range(start, min(start + _EXACT_COUNT, hi)):
            v = row[j]
            c0 += one if v < e0 else zero
            c1 += one if v < e1 else zero
            c2 += one if v < e2 else zero
            c3 += one if v < e3 else zero
        out[0] += int(c0)
        out[1] += int(c1)
        out[2] += int(c2)
        out[3] += int(c3)


@numba.njit(cache=True)
def _stable_ranks(row: np.ndarray, idx: np.ndarray, inf: float, out: np.ndarray) -> None:
    """``out[t]`` = items before ``row[idx[t]]`` in the row's stable order; ``idx`` ascending.

    Up to four indices (shorter ``idx`` is padded with its last entry, counted and dropped).
    """
    n = len(idx)
    m = np.empty(_LANES, dtype=np.int64)
    for t in range(_LANES):
        m[t] = idx[min(t, n - 1)]
    d0, d1, d2, d3 = row[m[0]], row[m[1]], row[m[2]], row[m[3]]
    u0, u1, u2, u3 = (np.nextafter(d0, inf), np.nextafter(d1, inf), np.nextafter(d2, inf),
                      np.nextafter(d3, inf))
    counts = np.zeros(_LANES, dtype=np.int64)
    _count4(row, 0, m[0], u0, u1, u2, u3, counts)
    _count4(row, m[0], m[1], d0, u1, u2, u3, counts)
    _count4(row, m[1], m[2], d0, d1, u2, u3, counts)
    _count4(row, m[2], m[3], d0, d1, d2, u3, counts)
    _count4(row, m[3], len(row), d0, d1, d2, d3, counts)
    for t in range(n):
        if row[m[t]] == inf:  # nextafter(inf) is inf: the tied infs before it, counted here
            for j in range(m[t]):
                counts[t] += row[j] == inf
        out[t] = counts[t]


@numba.njit(parallel=True, cache=True)
def rank_rows(
    dist: np.ndarray,
    q_camids: np.ndarray,
    block_start: np.ndarray,
    block_count: np.ndarray,
    order: np.ndarray,
    g_camids: np.ndarray,
    inf: float,
    first: np.ndarray,
    ap: np.ndarray,
    inp: np.ndarray,
) -> int:
    """Fill ``first``/``ap``/``inp`` [c] for the rows of ``dist`` [c, G]; returns the NaN count.

    Query i's same-pid gallery items are ``order[block_start[i]:block_start[i] + block_count[i]]``
    in index order; those in the query's camera are junk, the others true matches. ``inf``
    is +inf in ``dist``'s dtype (the direction of ``nextafter``).
    """
    n_rows, n_gallery = dist.shape
    nan_count = 0
    for i in numba.prange(n_rows):
        row = dist[i]
        nans = 0
        for j in range(n_gallery):
            nans += row[j] != row[j]
        nan_count += nans
        block = order[block_start[i]:block_start[i] + block_count[i]]
        is_true = g_camids[block] != q_camids[i]
        true_idx = block[is_true]
        n_true = len(true_idx)
        if n_true == 0:
            first[i], ap[i], inp[i] = -1, 0.0, 0.0
            continue
        ranks = np.empty(n_true, dtype=np.int64)
        for a in range(0, n_true, _LANES):
            _stable_ranks(row, true_idx[a:a + _LANES], inf, ranks[a:a + _LANES])
        for a in range(n_true):  # junk items before each true match leave the ranking
            m, d = true_idx[a], row[true_idx[a]]
            for mb in block[~is_true]:
                if row[mb] < d or (row[mb] == d and mb < m):
                    ranks[a] -= 1
        ranks = np.sort(ranks)
        precision = 0.0
        for t in range(n_true):
            precision += (t + 1) / (ranks[t] + 1)
        first[i] = ranks[0]
        ap[i] = precision / n_true
        inp[i] = n_true / (ranks[n_true - 1] + 1)
    return nan_count

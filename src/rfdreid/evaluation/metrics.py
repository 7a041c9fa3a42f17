"""Re-id ranking metrics: CMC, mAP and mINP under the Market-1501 rule.

The rule (Zheng et al., ICCV 2015), for every query:

* gallery images with the query's pid **and** the query's camera are ignored (they are
  "junk": the same person seen by the same camera is too easy to count);
* every other gallery image with the query's pid is a *true match*, everything with another
  pid is a negative;
* a query with no true match left is skipped (it counts in no average).

Distances: smaller = more similar. Ties are broken by gallery index, exactly as a stable
argsort of the query's row would order them.

Per query, with the true matches at 0-based ranks ``r_1 < ... < r_n`` among the *valid*
gallery (junk removed):

* CMC(k) = 1 if ``r_1 < k``; averaged over valid queries. The curve always has ``max_rank``
  entries: past the end of a small gallery every valid query has found its match, so the
  curve simply stays at its last value, 1.0.
* AP = mean over i of precision at the i-th true match = ``mean(i / (r_i + 1))``.
* INP = n / (r_n + 1): the share of the list one must read to find the hardest match.

Speed: CMC, AP and INP depend only on the ranks of the (few) true matches, so no argsort of
the distance matrix is needed. For each query chunk we sort the *values* of each row (NumPy's
SIMD sort, several times faster than an argsort) and binary-search each true match's distance
in it; junk items and ties are corrected from the small same-pid block. Chunks run in a
thread pool (NumPy's sort releases the GIL).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rfdreid.errors import ReIDError

ArrayLike = np.ndarray | torch.Tensor

# Elements (rows x gallery) of one query chunk; 2**22 float32 = 16 MiB per matrix.
_CHUNK_ELEMENTS = 2**22
# Bound on the [rows, P, P] same-pid comparison block inside one chunk.
_PAIR_ELEMENTS = 2**22


@dataclass(frozen=True)
class RankResult:
    """Ranking metrics of one evaluation.

    ``cmc``: [max_rank] float64, ``cmc[k-1]`` = rank-k accuracy in [0, 1].
    ``mAP`` / ``mINP``: in [0, 1]. ``num_valid_queries``: queries that had a true match.
    """

    cmc: np.ndarray
    mAP: float
    mINP: float
    num_valid_queries: int

    def rank(self, k: int) -> float:
        """Rank-k accuracy (``k`` >= 1, at most ``len(cmc)``)."""
        if not 1 <= k <= len(self.cmc):
            raise ReIDError(f"rank-{k} is outside the CMC curve (max_rank={len(self.cmc)})")
        return float(self.cmc[k - 1])

    @property
    def r1(self) -> float:
        return self.rank(1)

    @property
    def r5(self) -> float:
        return self.rank(5)

    @property
    def r10(self) -> float:
        return self.rank(10)

    def to_dict(self) -> dict[str, Any]:
        """Plain floats for logs and JSON: mAP, mINP, R1/R5/R10 (those within max_rank)."""
        out: dict[str, Any] = {"mAP": self.mAP, "mINP": self.mINP}
        for k in (1, 5, 10):
            if k <= len(self.cmc):
                out[f"R{k}"] = self.rank(k)
        out["num_valid_queries"] = self.num_valid_queries
        return out


def as_numpy(x: ArrayLike) -> np.ndarray:
    """A NumPy view of a tensor or array (no copy for CPU tensors)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    return np.asarray(x)


@dataclass(frozen=True)
class GalleryGroups:
    """Gallery indices grouped by pid, to find each query's same-pid block without a Q x G mask.

    ``order``: gallery indices sorted by pid (index order within a pid);
    ``pids``: the sorted unique pids; ``starts``/``counts``: each pid's slice of ``order``.
    """

    pids_all: np.ndarray
    camids_all: np.ndarray
    order: np.ndarray
    pids: np.ndarray
    starts: np.ndarray
    counts: np.ndarray

    @classmethod
    def build(cls, g_pids: np.ndarray, g_camids: np.ndarray) -> GalleryGroups:
        order = np.argsort(g_pids, kind="stable")
        pids, starts, counts = np.unique(g_pids[order], return_index=True, return_counts=True)
        return cls(g_pids, g_camids, order, pids, starts, counts)


def query_rank_stats(
    dist: np.ndarray, q_pids: np.ndarray, q_camids: np.ndarray, groups: GalleryGroups
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-query statistics of one chunk of a distance matrix.

    Args:
        dist: [c, G] distances (float32 or float64), smaller = better.
        q_pids, q_camids: [c] the chunk's query labels.
        groups: the gallery, grouped by pid.

    Returns:
        ``(first, ap, inp)``, each [c]: the 0-based rank of the first true match (-1 for a
        query without a true match), its AP and its INP (0 for skipped queries).
    """
    c, n_gallery = dist.shape
    rows = np.arange(c)[:, None]

    # Each query's same-pid block, padded to P columns: gallery index, distance, kind.
    pos = np.minimum(np.searchsorted(groups.pids, q_pids), len(groups.pids) - 1)
    counts = np.where(groups.pids[pos] == q_pids, groups.counts[pos], 0)
    width = max(int(counts.max(initial=0)), 1)
    slot = np.arange(width)
    in_block = slot < counts[:, None]
    gidx = groups.order[np.minimum(groups.starts[pos][:, None] + slot, n_gallery - 1)]
    d_same = dist[rows, gidx]
    true = in_block & (groups.camids_all[gidx] != q_camids[:, None])
    junk = in_block & ~true

    ordered = np.sort(dist, axis=1)
    if np.isnan(ordered[:, -1]).any():  # NaN sorts last
        raise ReIDError("the distance matrix contains NaN; check the features for NaN/inf")
    lt_all = _row_searchsorted(ordered, d_same, "left")
    eq_all = _row_searchsorted(ordered, d_same, "right") - lt_all

    # Corrections from the same-pid block (item a against threshold b), in row batches.
    lt_junk = np.empty_like(lt_all)
    eq_block = np.empty_like(lt_all)
    eq_true_before = np.empty_like(lt_all)
    step = max(1, _PAIR_ELEMENTS // (width * width))
    for s in range(0, c, step):
        sl = slice(s, s + step)
        d = d_same[sl]
        less = d[:, :, None] < d[:, None, :]
        equal = d[:, :, None] == d[:, None, :]
        earlier = gidx[sl][:, :, None] < gidx[sl][:, None, :]
        lt_junk[sl] = (less & junk[sl][:, :, None]).sum(1)
        eq_block[sl] = (equal & in_block[sl][:, :, None]).sum(1)
        eq_true_before[sl] = (equal & earlier & true[sl][:, :, None]).sum(1)

    # Rank among valid items = valid items strictly closer + valid items tied but earlier.
    rank = lt_all - lt_junk + eq_true_before
    # Negatives tied with a true match: rare with float distances, counted row by row.
    for r, b in np.argwhere(true & (eq_all > eq_block)):
        j = gidx[r, b]
        tied = (dist[r, :j] == d_same[r, b]) & (groups.pids_all[:j] != q_pids[r])
        rank[r, b] += np.count_nonzero(tied)

    n_true = true.sum(1)
    rank = np.sort(np.where(true, rank, n_gallery), axis=1)
    found = slot < n_true[:, None]
    precision = np.where(found, (slot + 1) / (rank + 1), 0.0)
    valid = n_true > 0
    ap = precision.sum(1) / np.maximum(n_true, 1)
    hardest = rank[np.arange(c), np.maximum(n_true - 1, 0)]
    inp = np.where(valid, n_true / (hardest + 1), 0.0)
    first = np.where(valid, rank[:, 0], -1)
    return first, ap, inp


def _row_searchsorted(ordered: np.ndarray, values: np.ndarray, side: str) -> np.ndarray:
    """Row-wise ``searchsorted``: ``ordered`` [c, G] sorted rows, ``values`` [c, P] -> [c, P]."""
    return np.stack([np.searchsorted(o, v, side=side) for o, v in zip(ordered, values)])


class RankAccumulator:
    """Sums per-query statistics over chunks; :meth:`result` gives the averages."""

    def __init__(self, max_rank: int) -> None:
        if max_rank < 1:
            raise ReIDError(f"max_rank must be >= 1, got {max_rank}")
        self.max_rank = max_rank
        self.first_hist = np.zeros(max_rank, dtype=np.int64)
        self.ap_sum = 0.0
        self.inp_sum = 0.0
        self.num_valid = 0

    def add(self, first: np.ndarray, ap: np.ndarray, inp: np.ndarray) -> None:
        valid = first >= 0
        early = first[valid & (first < self.max_rank)]
        self.first_hist += np.bincount(early, minlength=self.max_rank)
        self.ap_sum += float(ap[valid].sum())
        self.inp_sum += float(inp[valid].sum())
        self.num_valid += int(valid.sum())

    def result(self) -> RankResult:
        if self.num_valid == 0:
            raise ReIDError(
                "no query has a true match in the gallery (same pid, other camera); "
                "check that query and gallery come from the same split"
            )
        cmc = np.cumsum(self.first_hist) / self.num_valid
        return RankResult(cmc, self.ap_sum / self.num_valid, self.inp_sum / self.num_valid, self.num_valid)


def check_labels(
    num_q: int, num_g: int, q_pids: ArrayLike, g_pids: ArrayLike, q_camids: ArrayLike, g_camids: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate label lengths against a Q x G problem; returns them as int64 arrays."""
    if num_q == 0 or num_g == 0:
        raise ReIDError(f"empty evaluation: {num_q} queries, {num_g} gallery images")
    arrays = []
    for name, arr, n in (("q_pids", q_pids, num_q), ("g_pids", g_pids, num_g),
                         ("q_camids", q_camids, num_q), ("g_camids", g_camids, num_g)):
        a = as_numpy(arr).astype(np.int64, copy=False).reshape(-1)
        if len(a) != n:
            raise ReIDError(f"{name} has {len(a)} entries, expected {n}")
        arrays.append(a)
    return arrays[0], arrays[1], arrays[2], arrays[3]


def evaluate_rank(
    distmat: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    q_camids: ArrayLike,
    g_camids: ArrayLike,
    max_rank: int = 50,
    num_workers: int | None = None,
) -> tuple[np.ndarray, float, float]:
    """CMC, mAP and mINP of a query x gallery distance matrix (Market-1501 rule, see module doc).

    Args:
        distmat: [Q, G] distances (NumPy array or tensor), smaller = more similar.
        q_pids, q_camids: [Q] query person and camera ids.
        g_pids, g_camids: [G] gallery person and camera ids.
        max_rank: length of the returned CMC curve.
        num_workers: threads over query chunks (default: ``torch.get_num_threads()``).

    Returns:
        ``(cmc, mAP, mINP)`` with ``cmc`` [max_rank] float64 (``cmc[0]`` = rank-1).

    Example:
        >>> cmc, mAP, mINP = evaluate_rank(dist, q_pids, g_pids, q_camids, g_camids)
        >>> print(f"R1 {cmc[0]:.1%}  mAP {mAP:.1%}")
    """
    result = rank_result(distmat, q_pids, g_pids, q_camids, g_camids, max_rank, num_workers)
    return result.cmc, result.mAP, result.mINP


def rank_result(
    distmat: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    q_camids: ArrayLike,
    g_camids: ArrayLike,
    max_rank: int = 50,
    num_workers: int | None = None,
) -> RankResult:
    """:func:`evaluate_rank` returning a :class:`RankResult` (with the valid-query count)."""
    dist = as_numpy(distmat)
    if dist.ndim != 2:
        raise ReIDError(f"distmat must be [Q, G], got shape {dist.shape}")
    if not np.issubdtype(dist.dtype, np.floating) or dist.dtype == np.float16:
        dist = dist.astype(np.float64 if dist.dtype.itemsize > 2 else np.float32)
    qp, gp, qc, gc = check_labels(*dist.shape, q_pids, g_pids, q_camids, g_camids)
    groups = GalleryGroups.build(gp, gc)
    acc = RankAccumulator(max_rank)
    step = max(1, _CHUNK_ELEMENTS // dist.shape[1])
    starts = range(0, dist.shape[0], step)

    def run(s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sl = slice(s, s + step)
        return query_rank_stats(dist[sl], qp[sl], qc[sl], groups)

    workers = num_workers or torch.get_num_threads()
    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, os.cpu_count() or 1)) as pool:
            for stats in pool.map(run, starts):
                acc.add(*stats)
    else:
        for s in starts:
            acc.add(*run(s))
    return acc.result()

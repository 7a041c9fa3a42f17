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

Speed: CMC, AP and INP depend only on the ranks of the (few) true matches, so no sort of
the distance matrix is needed. A true match's rank is the number of gallery items before it
in the stable order of its row (closer, or tied and earlier by index), less the junk items
among them, which the query's small same-pid block gives: k x G branch-free compares per
query for k same-pid items, in a numba kernel (:mod:`rfdreid.evaluation.rank_kernel`,
compiled once and cached on disk) that runs the queries in parallel.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rfdreid.errors import ReIDError

ArrayLike = np.ndarray | torch.Tensor


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

    ``camids``: every gallery item's camera; ``order``: gallery indices sorted by pid (index
    order within a pid); ``pids``: the sorted unique pids; ``starts``/``counts``: each pid's
    slice of ``order``.
    """

    camids: np.ndarray
    order: np.ndarray
    pids: np.ndarray
    starts: np.ndarray
    counts: np.ndarray

    @classmethod
    def build(cls, g_pids: np.ndarray, g_camids: np.ndarray) -> GalleryGroups:
        order = np.argsort(g_pids, kind="stable")
        pids, starts, counts = np.unique(g_pids[order], return_index=True, return_counts=True)
        return cls(g_camids.astype(np.int64, copy=False), order, pids, starts, counts)


def query_rank_stats(
    dist: np.ndarray,
    q_pids: np.ndarray,
    q_camids: np.ndarray,
    groups: GalleryGroups,
    num_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-query statistics of (a chunk of) a distance matrix, rows ranked in parallel.

    Args:
        dist: [c, G] distances (float32 or float64), smaller = better.
        q_pids, q_camids: [c] the chunk's query labels.
        groups: the gallery, grouped by pid.
        num_threads: numba threads over rows (default: ``torch.get_num_threads()``).

    Returns:
        ``(first, ap, inp)``, each [c]: the 0-based rank of the first true match (-1 for a
        query without a true match), its AP and its INP (0 for skipped queries).
    """
    from rfdreid.evaluation import rank_kernel  # numba loads on the first ranking only

    dist = np.ascontiguousarray(dist)  # the kernel scans unit-stride rows
    q_pids = np.asarray(q_pids, dtype=np.int64)
    pos = np.minimum(np.searchsorted(groups.pids, q_pids), len(groups.pids) - 1)
    counts = np.where(groups.pids[pos] == q_pids, groups.counts[pos], 0)
    c = dist.shape[0]
    first, ap, inp = np.empty(c, dtype=np.int64), np.empty(c), np.empty(c)
    with _numba_threads(num_threads or torch.get_num_threads()):
        nans = rank_kernel.rank_rows(
            dist, np.asarray(q_camids, dtype=np.int64), groups.starts[pos], counts,
            groups.order, groups.camids, dist.dtype.type(np.inf), first, ap, inp)
    if nans:
        raise ReIDError("the distance matrix contains NaN; check the features for NaN/inf")
    return first, ap, inp


@contextmanager
def _numba_threads(n: int) -> Iterator[None]:
    """Run numba's parallel loops on ``n`` threads (capped at its pool), then restore.

    torch's count is restored too: numba's OpenMP layer shares torch's OpenMP runtime, and
    restoring numba's default (every core) raised torch's threads with it, so a job run
    with OMP_NUM_THREADS=1 beside another embedded on two threads after its first ranking.
    """
    import numba

    torch_threads = torch.get_num_threads()  # before numba's pool starts and changes it
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
        torch.set_num_threads(torch_threads)


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
        num_workers: threads over queries (default: ``torch.get_num_threads()``).

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
    acc = RankAccumulator(max_rank)
    acc.add(*query_rank_stats(dist, qp, qc, GalleryGroups.build(gp, gc), num_workers))
    return acc.result()

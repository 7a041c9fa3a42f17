"""Large galleries: faiss top-k retrieval and RFD re-ranking of a shortlist.

When the gallery holds millions of images, the full ranking of
:func:`rfdreid.evaluation.evaluate_features` still works (memory stays bounded) but costs a
Q x G matmul. For retrieval, a faiss index returns the top-k directly:

* ``GalleryIndex(features, kind="flat")`` is exact brute force (BLAS inside faiss);
* ``kind="ivf"`` clusters the gallery into ``nlist`` cells and searches ``nprobe`` of them:
  much faster, approximate; :func:`recall_at_k` measures what it misses.

RFD (eq. 8) needs the resolution similarity D_r of every pair, which no index over the
identity features knows. :func:`search_rfd` therefore retrieves a *shortlist* by D_f alone
and re-ranks it by eq. 8 (either form). This is an approximation: a gallery image outside the
shortlist can never enter the RFD top-k. It equals the full RFD ranking whenever the
shortlist contains the true RFD top-k. That is guaranteed when it covers the whole gallery,
and (for ``lam >= 0``) whenever the shortlist's largest D_f exceeds its k-th fused distance
by more than ``lam`` ("literal": D_r = cos <= 1) or ``2 lam`` ("filter": D_r = 1 - cos <= 2):
no image outside can then get below that.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from rfdreid.errors import ReIDError
from rfdreid.evaluation.distance import (
    DEFAULT_LAMBDA,
    DEFAULT_RFD_FORM,
    check_rfd_form,
    l2_normalise,
    rfd_distance,
)
from rfdreid.evaluation.metrics import ArrayLike, as_numpy

# Query rows per block when gathering shortlist resolution features ([rows, S, Dr] floats).
_GATHER_ELEMENTS = 2**24


def _float32_rows(x: ArrayLike, name: str) -> np.ndarray:
    a = np.ascontiguousarray(as_numpy(x), dtype=np.float32)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ReIDError(f"{name} must be a non-empty [N, D] matrix, got shape {a.shape}")
    return a


class GalleryIndex:
    """A faiss index over gallery features.

    Args:
        features: [G, D] gallery features (float32 array or tensor).
        metric: ``"l2"`` (Euclidean distance, smaller = better) or ``"ip"`` (inner product,
            larger = better; use L2-normalised features for cosine).
        kind: ``"flat"`` (exact) or ``"ivf"`` (inverted file, approximate).
        nlist: IVF cells (default ``sqrt(G)``). nprobe: IVF cells visited per query.
        train_size: IVF k-means training sample (default ``min(G, 64 * nlist)``).
        seed: seed of the training sample and of k-means.

    Example:
        >>> index = GalleryIndex(gf, kind="ivf", nprobe=32)
        >>> dist, idx = index.search(qf, k=10)   # [Q, 10] each
    """

    def __init__(
        self,
        features: ArrayLike,
        metric: Literal["l2", "ip"] = "l2",
        kind: Literal["flat", "ivf"] = "flat",
        nlist: int | None = None,
        nprobe: int = 16,
        train_size: int | None = None,
        seed: int = 0,
    ) -> None:
        if metric not in ("l2", "ip"):
            raise ReIDError(f"metric must be 'l2' or 'ip', got {metric!r}")
        if kind not in ("flat", "ivf"):
            raise ReIDError(f"kind must be 'flat' or 'ivf', got {kind!r}")
        gallery = _float32_rows(features, "gallery features")
        n, dim = gallery.shape
        self.metric, self.kind = metric, kind
        import faiss  # here, not at the top: only large-gallery search pays for loading it

        faiss_metric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        if kind == "flat":
            self.index = faiss.IndexFlat(dim, faiss_metric)
        else:
            nlist = nlist or max(1, int(math.sqrt(n)))
            if not 1 <= nlist <= n:
                raise ReIDError(f"nlist must be in [1, {n}] for a gallery of {n}, got {nlist}")
            self.quantizer = faiss.IndexFlat(dim, faiss_metric)  # must outlive the IVF index
            self.index = faiss.IndexIVFFlat(self.quantizer, dim, nlist, faiss_metric)
            self.index.cp.seed = seed
            size = min(n, train_size or 64 * nlist)
            sample = np.random.default_rng(seed).choice(n, size=size, replace=False)
            self.index.train(gallery[np.sort(sample)])
            self.index.nprobe = min(nprobe, nlist)
        self.index.add(gallery)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k gallery items of each query.

        Args:
            queries: [Q, D] query features. k: results per query, 1 <= k <= G.

        Returns:
            ``(distances, indices)``, [Q, k] float32 and int64, best first. For ``"l2"`` the
            distances are Euclidean (faiss' squared L2, square-rooted); for ``"ip"`` inner
            products. IVF may return fewer than k hits: missing slots have index -1.
        """
        if not 1 <= k <= self.ntotal:
            raise ReIDError(f"k must be in [1, {self.ntotal}] (gallery size), got {k}")
        q = _float32_rows(queries, "queries")
        if q.shape[1] != self.index.d:
            raise ReIDError(f"queries have dimension {q.shape[1]}, the index {self.index.d}")
        dist, idx = self.index.search(q, k)
        if self.metric == "l2":
            dist = np.sqrt(np.maximum(dist, 0.0))
        return dist, idx


def search_rfd(
    index: GalleryIndex,
    qf: ArrayLike,
    qr: ArrayLike,
    gr: ArrayLike,
    k: int,
    lam: float = DEFAULT_LAMBDA,
    shortlist: int | None = None,
    form: str = DEFAULT_RFD_FORM,
) -> tuple[np.ndarray, np.ndarray]:
    """RFD top-k: shortlist by D_f from ``index``, re-rank by eq. 8 (:func:`rfd_distance`).

    An approximation when the shortlist is smaller than the gallery (see the module doc).

    Args:
        index: an ``"l2"`` :class:`GalleryIndex` over the gallery identity features.
        qf: [Q, D] query identity features. qr: [Q, Dr] query resolution features.
        gr: [G, Dr] gallery resolution features (row i = index item i).
        k: results per query. lam: RFD weight (0.1 in the paper).
        shortlist: candidates taken from the index (default ``10 * k``, at most G).
        form: the reading of eq. 7-8, "literal" or "filter".

    Returns:
        ``(fused, indices)``, [Q, k] float32 / int64, best first by the fused distance.
    """
    if index.metric != "l2":
        raise ReIDError("search_rfd needs an 'l2' GalleryIndex: eq. 8 fuses Euclidean D_f")
    check_rfd_form(form)
    q_res = torch.from_numpy(_float32_rows(qr, "qr"))
    g_res = torch.from_numpy(_float32_rows(gr, "gr"))
    if g_res.shape[0] != index.ntotal or q_res.shape[1] != g_res.shape[1]:
        raise ReIDError(
            f"gr is {tuple(g_res.shape)} and qr {tuple(q_res.shape)}; expected gr to have "
            f"{index.ntotal} rows (one per indexed image) and the same dimension as qr"
        )
    size = min(index.ntotal, max(k, shortlist or 10 * k))
    d_f, idx = index.search(qf, size)
    if q_res.shape[0] != idx.shape[0]:
        raise ReIDError(f"qr has {q_res.shape[0]} rows, qf {idx.shape[0]}")
    q_res, g_res = l2_normalise(q_res), l2_normalise(g_res)

    found = torch.from_numpy(idx >= 0)
    cand = torch.from_numpy(np.maximum(idx, 0))
    d_r = torch.empty(cand.shape, dtype=torch.float32)
    step = max(1, _GATHER_ELEMENTS // (size * g_res.shape[1]))
    for s in range(0, cand.shape[0], step):
        sl = slice(s, s + step)
        d_r[sl] = torch.einsum("qd,qsd->qs", q_res[sl], g_res[cand[sl]])
    fused = rfd_distance(torch.from_numpy(d_f), d_r, lam, form)
    fused = torch.where(found, fused, torch.full_like(fused, math.inf))
    order = torch.argsort(fused, dim=1, stable=True)[:, :k]
    return fused.gather(1, order).numpy(), np.take_along_axis(idx, order.numpy(), axis=1)


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact top-k that an approximate search also returned.

    Args:
        approx: [Q, k] indices from the approximate search (-1 = missing).
        exact: [Q, k] indices from an exact search.

    Returns:
        Mean over queries of ``|approx_i & exact_i| / k``, in [0, 1].
    """
    if approx.shape != exact.shape or approx.ndim != 2 or approx.size == 0:
        raise ReIDError(
            f"recall needs two equal non-empty [Q, k] arrays, got {approx.shape} and {exact.shape}"
        )
    hits = (approx[:, :, None] == exact[:, None, :]) & (approx[:, :, None] >= 0)
    return float(hits.any(axis=2).sum() / exact.size)

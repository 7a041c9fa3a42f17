"""k-reciprocal re-ranking (Zhong, Zheng, Cao, Li: "Re-ranking Person Re-identification with
k-reciprocal Encoding", CVPR 2017), applied AFTER RFD's fusion.

Why after the fusion: re-ranking only reads a distance matrix, so the best one rfdreid has
(eq. 8's ``D_f - lam * D_r`` when a B-R is given) is the one whose neighbourhoods it mines;
``rfd_lambda = 0`` re-ranks plain B-F.

The probes P and the gallery G are pooled into one set of N = |P| + |G| items and every item
is compared with every other (query-query, query-gallery and gallery-gallery blocks of D_f
and of the resolution cosine), because the neighbourhood of a gallery item counts as much as
the probe's. Notation (the paper's):

* ``N(p, k)``: p together with its k nearest other items of the pooled set (ties: lower
  index first). Counting p in its own neighbourhood matters because a fused RFD distance can
  be negative, so "nearest" alone would not always put p first; k1 and k2 are used alike.
* eq. 4, k-reciprocal neighbours: ``R(p, k) = {g in N(p, k) : p in N(g, k)}``.
* eq. 6, expansion: ``R*(p, k) = R(p, k) ∪ R(q, ⌈k/2⌉)`` for every ``q in R(p, k)`` whose
  ``|R(p, k) ∩ R(q, ⌈k/2⌉)| >= 2/3 |R(q, ⌈k/2⌉)|`` (positives missed by R are pulled in
  through their own smaller reciprocal sets, but only candidates that mostly agree with R).
* eq. 7, Gaussian-kernel encoding: ``V[p, g] = exp(-d(p, g))`` for ``g in R*(p, k1)``, else
  0: a sparse N-vector per item, weighting close neighbours more than far ones.
* eq. 10, local query expansion: ``V[p] <- mean of V[g] over g in N(p, k2)``.
* eq. 11-12, Jaccard distance of the weighted sets, summed over the non-zeros only:
  ``d_J(p, g) = 1 - sum_j min(V[p, j], V[g, j]) / sum_j max(V[p, j], V[g, j])``, with
  ``sum max = sum V[p] + sum V[g] - sum min``, so only ``sum min`` needs the inverted index
  (for each column j, the gallery rows that are non-zero there).
* eq. 13, final distance: ``d*(p, g) = (1 - lam) * d_J(p, g) + lam * d(p, g)``; the paper's
  defaults are k1 = 20, k2 = 6, lam = 0.3.

V is used as eq. 7 prints it, without normalising rows: each item's weights keep the scale of
its own distances, so no step beyond the paper's equations enters the result.

Memory: the pooled N x N float32 distance matrix is the limit (it is built one row block at
a time; V is sparse). :func:`rerank_features` refuses, in one line, when that matrix and the
Q x G result would exceed ``max_gib``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

from rfdreid.errors import ReIDError
from rfdreid.evaluation.distance import (
    DEFAULT_RFD_FORM,
    _euclidean,
    _squared_norms,
    check_rfd_form,
    duplicate_rows,
    l2_normalise,
    rfd_distance,
)
from rfdreid.evaluation.metrics import ArrayLike

DEFAULT_K1 = 20
DEFAULT_K2 = 6
DEFAULT_RERANK_LAMBDA = 0.3
DEFAULT_MAX_GIB = 4.0
# Row blocks of the N x N work (distance rows, neighbour sorts, expansion masks): ~64 MiB each.
_BLOCK_BYTES = 64 * 2**20
# Queries per chunk of the sparse Jaccard sums (their [chunk, G] float64 sums stay small).
_JACCARD_CHUNK = 64
_MAX_EXPONENT = 80.0  # eq. 7's weights exp(-d) are computed for d >= -_MAX_EXPONENT


@dataclass(frozen=True)
class RerankParams:
    """k1 (reciprocal neighbourhood), k2 (query expansion), lam (eq. 13's weight of the
    original distance) and the memory cap in GiB; checked on construction."""

    k1: int = DEFAULT_K1
    k2: int = DEFAULT_K2
    lam: float = DEFAULT_RERANK_LAMBDA
    max_gib: float = DEFAULT_MAX_GIB

    def __post_init__(self) -> None:
        for name, (accepts, rule) in RERANK_RULES.items():
            value = getattr(self, name)
            if not accepts(value):
                raise ReIDError(f"re-ranking {RERANK_FLAGS[name]} must be {rule} "
                                f"(--rerank-{RERANK_FLAGS[name].replace('_', '-')}), "
                                f"got {value!r}")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


_WHOLE = (lambda v: _number(v) and isinstance(v, int) and v >= 1, "a whole number >= 1")
RERANK_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "k1": _WHOLE,
    "k2": _WHOLE,
    "lam": (lambda v: _number(v) and 0.0 <= v <= 1.0, "in [0, 1]"),
    "max_gib": (lambda v: _number(v) and v > 0, "a positive number of GiB"),
}
"""What RerankParams accepts, field by field; the config checks eval.rerank_* by them too."""
RERANK_FLAGS = {"k1": "k1", "k2": "k2", "lam": "lambda", "max_gib": "max_gib"}
"""The option / config suffix of each field (eval.rerank_<suffix>, --rerank-<suffix>)."""


def _rows_per_block(row_bytes: int) -> int:
    return max(1, _BLOCK_BYTES // max(1, row_bytes))


def neighbour_table(dist: torch.Tensor, k: int) -> torch.Tensor:
    """[N, k + 1] int64: row p is ``N(p, k)`` in order, p itself first, then its k nearest
    other items by ``dist`` [N, N] (a stable sort: ties go to the lower index)."""
    n = dist.shape[0]
    out = torch.empty(n, k + 1, dtype=torch.int64)
    step = _rows_per_block(n * 16)  # a row copy and its sort indices
    for s in range(0, n, step):
        rows = torch.arange(s, min(s + step, n))
        block = dist[rows].clone()
        block[torch.arange(len(rows)), rows] = -math.inf  # p first, whatever d(p, p) is
        out[rows] = smallest_stable(block, k + 1)
    return out


def smallest_stable(rows: torch.Tensor, m: int) -> torch.Tensor:
    """[R, m] int64: per row the column indices of its m smallest values in ascending order,
    ties to the lower index: ``argsort(rows, stable=True)[:, :m]`` without sorting whole
    rows. topk finds them; in the rare rows where values equal to the m-th one lie beyond
    it, those equal values are taken by index instead of topk's arbitrary choice."""
    top = rows.topk(m, dim=1, largest=False)
    threshold = top.values[:, -1:]
    cols = top.indices.sort(dim=1).values                       # ascending index per row
    tied = (rows == threshold).sum(dim=1) > (top.values == threshold).sum(dim=1)
    if bool(tied.any()):
        which = tied.nonzero()[:, 0]
        sub, edge = rows[which], threshold[which]
        below, at = sub < edge, sub == edge
        room = m - below.sum(dim=1, keepdim=True)
        chosen = below | (at & (at.cumsum(dim=1) <= room))
        cols[which] = chosen.nonzero()[:, 1].view(-1, m)
    order = torch.argsort(rows.gather(1, cols), dim=1, stable=True)
    return cols.gather(1, order)


def reciprocal_mask(table: torch.Tensor, k: int) -> torch.Tensor:
    """[N, k + 1] bool: entry (p, j) tells whether ``table[p, j]`` is in ``R(p, k)`` (eq. 4),
    i.e. whether p is also among the first k + 1 of that neighbour's own row."""
    nb = table[:, :k + 1]
    n = nb.shape[0]
    out = torch.empty(n, k + 1, dtype=torch.bool)
    step = _rows_per_block((k + 1) ** 2 * 9)
    for s in range(0, n, step):
        rows = torch.arange(s, min(s + step, n))
        out[rows] = (nb[nb[rows]] == rows[:, None, None]).any(dim=2)
    return out


def expanded_reciprocal_sets(table: torch.Tensor, k1: int) -> tuple[np.ndarray, np.ndarray]:
    """``R*(p, k1)`` of every p (eq. 6) as CSR (indptr [N + 1], sorted indices).

    ``table``: [N, >= k1 + 1] from :func:`neighbour_table`. A candidate q in R(p, k1) adds
    its ``R(q, ⌈k1/2⌉)`` when at least 2/3 of that set lies in R(p, k1).
    """
    n, half = table.shape[0], math.ceil(k1 / 2)
    full = reciprocal_mask(table, k1)          # [N, k1 + 1]
    small = reciprocal_mask(table, half)       # [N, half + 1]
    nb, nb_half = table[:, :k1 + 1], table[:, :half + 1]
    indptr, indices = [np.zeros(1, np.int64)], []
    step = _rows_per_block(max(2 * n, (k1 + 1) * (half + 1) * 12))
    for s in range(0, n, step):
        rows = slice(s, min(s + step, n))
        r_p, in_r_p = nb[rows], full[rows]                       # R(p, k1): [c, k1 + 1]
        c_idx = torch.arange(r_p.shape[0])
        in_r = torch.zeros(r_p.shape[0], n, dtype=torch.bool)    # R(p, k1) as a row mask
        in_r[c_idx[:, None].expand_as(r_p)[in_r_p], r_p[in_r_p]] = True
        cand_members = nb_half[r_p]                              # [c, k1 + 1, half + 1]
        cand_valid = small[r_p]                                  # members of R(q, half)
        inside = in_r.gather(1, cand_members.flatten(1)).view_as(cand_members)
        overlap = (inside & cand_valid).sum(dim=2)
        accepted = in_r_p & (3 * overlap >= 2 * cand_valid.sum(dim=2))
        member = in_r
        add = accepted[..., None] & cand_valid
        member[c_idx[:, None, None].expand_as(cand_members)[add], cand_members[add]] = True
        row_id, col = member.nonzero(as_tuple=True)              # row-major: sorted per row
        counts = torch.bincount(row_id, minlength=r_p.shape[0]).numpy()
        indptr.append(indptr[-1][-1] + np.cumsum(counts))
        indices.append(col.numpy())
    return np.concatenate(indptr), np.concatenate(indices)


class SparseRows(NamedTuple):
    """An [N, N] sparse matrix in CSR form: row p holds ``values[indptr[p]:indptr[p + 1]]``
    at columns ``indices[...]`` (ascending)."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray


def _gather(ptr: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR pointers ``ptr`` and rows ``which`` [M]: (entry, pos), one pair per stored
    element of those rows; ``pos`` indexes the stored arrays, ``entry`` says which of the M."""
    lengths = ptr[which + 1] - ptr[which]
    entry = np.repeat(np.arange(len(which)), lengths)
    pos = np.repeat(ptr[which] - np.cumsum(lengths) + lengths, lengths) + np.arange(len(entry))
    return entry, pos


def encode(dist: torch.Tensor, table: torch.Tensor, k1: int, k2: int) -> SparseRows:
    """V after eq. 7 (``exp(-d(p, g))`` for g in R*(p, k1)) and eq. 10 (V[p] replaced by the
    mean of V[g] over g in N(p, k2)), float64."""
    n = dist.shape[0]
    indptr, indices = expanded_reciprocal_sets(table, k1)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    # exp(-d) of a fused distance far below 0 (a large RFD λ) would overflow: clipped at
    # -_MAX_EXPONENT, where the weights are already ~1e34
    d = dist[torch.from_numpy(rows), torch.from_numpy(indices)].double().numpy()
    weights = np.exp(-np.maximum(d, -_MAX_EXPONENT))
    sources = table[:, :k2 + 1].numpy().ravel()              # N(p, k2), row after row
    entry, pos = _gather(indptr, sources)
    owner = entry // (k2 + 1)
    keys, inverse = np.unique(owner * n + indices[pos], return_inverse=True)  # sorted
    values = np.bincount(inverse, weights=weights[pos]) / (k2 + 1)
    counts = np.bincount(keys // n, minlength=n)
    return SparseRows(np.concatenate([[0], np.cumsum(counts)]), keys % n, values)


def jaccard_distance(v: SparseRows, num_query: int) -> torch.Tensor:
    """[Q, G] float32 ``d_J`` (eq. 11-12) between the first ``num_query`` rows of ``v`` and
    the others, summing min(V[p, j], V[g, j]) over the query's non-zero columns j only,
    through the inverted index (column j -> the gallery rows non-zero there)."""
    n = len(v.indptr) - 1
    num_gallery = n - num_query
    rows = np.repeat(np.arange(n), np.diff(v.indptr))
    sums = np.bincount(rows, weights=v.values, minlength=n)
    start = v.indptr[num_query]
    by_col = np.argsort(v.indices[start:], kind="stable")
    g_rows, g_vals = rows[start:][by_col] - num_query, v.values[start:][by_col]
    g_ptr = np.concatenate([[0], np.cumsum(np.bincount(v.indices[start:], minlength=n))])
    out = torch.empty(num_query, num_gallery)
    for s in range(0, num_query, _JACCARD_CHUNK):
        e = min(s + _JACCARD_CHUNK, num_query)
        span = slice(v.indptr[s], v.indptr[e])
        entry, pos = _gather(g_ptr, v.indices[span])  # query entry x gallery rows sharing j
        mins = np.minimum(v.values[span][entry], g_vals[pos])
        cells = (rows[span][entry] - s) * num_gallery + g_rows[pos]
        inter = np.bincount(cells, weights=mins, minlength=(e - s) * num_gallery)
        inter = inter.reshape(e - s, num_gallery)
        union = sums[s:e, None] + sums[None, num_query:] - inter
        # an empty union (every weight underflowed: distances in the hundreds) shares
        # nothing: d_J = 1, not 0/0
        share = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        out[s:e] = torch.from_numpy(1.0 - share)
    return out


def rerank(dist: torch.Tensor, num_query: int, params: RerankParams = RerankParams()
           ) -> torch.Tensor:
    """Re-ranked [Q, G] distances ``d*`` (eq. 13) from the pooled distance matrix.

    Args:
        dist: [N, N] distances among the N = Q + G pooled items, queries first (smaller =
            more alike; may be negative, e.g. RFD-fused).
        num_query: Q, the number of leading rows that are queries.
        params: k1, k2, lam. k1 and k2 above N - 1 are clipped to N - 1 (a set cannot have
            more neighbours than other items).

    Returns:
        [Q, G] float32; ``params.lam = 1`` returns ``dist[:Q, Q:]`` exactly.
    """
    n = dist.shape[0]
    if dist.ndim != 2 or dist.shape[1] != n:
        raise ReIDError(f"re-ranking needs a square pooled distance matrix, got {tuple(dist.shape)}")
    if not 1 <= num_query < n:
        raise ReIDError(f"re-ranking needs at least one query and one gallery item, got "
                        f"{num_query} queries among {n} items")
    if n - num_query < 2:
        raise ReIDError("re-ranking needs a gallery of at least 2 images (a ranking of one "
                        "cannot change); leave out --rerank")
    dist = dist.float()
    k1, k2 = min(params.k1, n - 1), min(params.k2, n - 1)
    table = neighbour_table(dist, max(k1, k2))
    d_j = jaccard_distance(encode(dist, table, k1, k2), num_query)
    return d_j.mul_(1.0 - params.lam).add_(dist[:num_query, num_query:], alpha=params.lam)


def rerank_memory_gib(num_query: int, num_gallery: int) -> float:
    """GiB that :func:`rerank_features` holds at its peak: the pooled (Q+G)^2 float32
    distance matrix and the Q x G result."""
    n = num_query + num_gallery
    return 4 * (n * n + num_query * num_gallery) / 2**30


def pooled_distance(f: torch.Tensor, r: torch.Tensor | None, rfd_lambda: float,
                    form: str) -> torch.Tensor:
    """[N, N] float32 distance among the rows of ``f`` [N, D] (B-F), fused with the B-R
    features ``r`` [N, Dr] by eq. 8 when given; built one row block at a time so only one
    block of temporaries exists. The diagonal's D_f is set to its exact value, 0."""
    n = f.shape[0]
    out = torch.empty(n, n)
    f_sq = _squared_norms(f)
    r_unit = l2_normalise(r) if r is not None else None
    step = _rows_per_block(n * 4 * 3)
    for s in range(0, n, step):
        rows = slice(s, min(s + step, n))
        d_f = _euclidean(f[rows], f_sq[rows], f, f_sq)
        d_f[torch.arange(d_f.shape[0]), torch.arange(s, rows.stop)] = 0.0
        if r_unit is None:
            out[rows] = d_f
        else:
            rfd_distance(d_f, r_unit[rows] @ r_unit.T, rfd_lambda, form, out=out[rows])
    # identical images get bit-identical rows and columns whatever the block shapes and the
    # CPU's kernels, as in evaluate_features: neighbour ties then break the same everywhere
    repeats, firsts = duplicate_rows(f) if r is None else duplicate_rows(f, r)
    if len(repeats):
        out[repeats] = out[firsts].clone()
        out[:, repeats] = out[:, firsts].clone()
    return out


def rerank_features(
    qf: ArrayLike, gf: ArrayLike, qr: ArrayLike | None = None, gr: ArrayLike | None = None,
    rfd_lambda: float = 0.0, rfd_form: str = DEFAULT_RFD_FORM,
    params: RerankParams = RerankParams(),
) -> torch.Tensor:
    """Re-ranked [Q, G] distances from features: the pooled distance (D_f, fused with the
    resolution cosine by eq. 8 when ``qr``/``gr`` are given and ``rfd_lambda`` != 0), then
    :func:`rerank`.

    Refuses, in one line naming the sizes, when :func:`rerank_memory_gib` exceeds
    ``params.max_gib``.

    Example:
        >>> d = rerank_features(qf, gf, qr, gr, rfd_lambda=0.1)   # B-F+RFD + re-ranking
        >>> d.argsort(dim=1)[:, :10]                              # top-10 per query
    """
    q, g = torch.as_tensor(qf).float(), torch.as_tensor(gf).float()
    num_query, num_gallery = q.shape[0], g.shape[0]
    need = rerank_memory_gib(num_query, num_gallery)
    if need > params.max_gib:
        raise ReIDError(
            f"re-ranking {num_query} queries against {num_gallery} gallery images needs their "
            f"{num_query + num_gallery}² distance matrix, {need:.1f} GiB, above the cap of "
            f"{params.max_gib:g} GiB; use a smaller gallery or raise --rerank-max-gib"
        )
    if num_gallery < 2:
        raise ReIDError("re-ranking needs a gallery of at least 2 images (a ranking of one "
                        "cannot change); leave out --rerank")
    check_rfd_form(rfd_form)
    use_r = qr is not None and gr is not None and rfd_lambda != 0.0
    r = torch.cat([torch.as_tensor(qr).float(), torch.as_tensor(gr).float()]) if use_r else None
    dist = pooled_distance(torch.cat([q, g]), r, rfd_lambda, rfd_form)
    return rerank(dist, num_query, params)

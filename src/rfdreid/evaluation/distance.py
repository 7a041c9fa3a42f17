"""Distances and THE place of the RFD fusion (paper section 3.4, eqs. 7-8).

* :func:`euclidean_distance` gives D_f, the identity distance of baseline B-F.
* :func:`cosine_similarity` gives cos(f_r(x_i), f_r(x_j)), the right-hand side of eq. 7.
* :func:`rfd_distance` fuses them (eq. 8) under one of two readings, ``form``:

  - ``"literal"``: eq. 7 as printed, ``D_r = cos``, so ``D = D_f - lam * cos``. Subtracting
    the resolution *similarity* pulls same-resolution pairs closer.
  - ``"filter"``: eq. 7 as named, ``D_r`` a *distance*, ``D_r = 1 - cos``, so
    ``D = D_f - lam * (1 - cos)``, which ranks like ``D_f + lam * cos``: resolution
    similarity is penalised, i.e. "filtering the resolution related features from the
    final feature vectors" (abstract) and "filters out the resolution dependent features to
    compute the final distance matrix" (section 5).

  The paper supports both: eq. 7 is introduced as "calculate the distance between the two
  images" yet written as a cosine similarity, and D_f is "the euclidean distance" yet
  "similar to eq. 7". :data:`DEFAULT_RFD_FORM` is the reading the measurements in
  docs/results.md support. ``lam = 0`` is plain B-F under both forms.
* :func:`evaluate_features` evaluates features directly, one query chunk at a time: D_f (and
  the resolution cosine) are computed once per chunk and fused for every requested ``lam``,
  so a sweep over lambdas costs one distance computation and the Q x G matrix never exists.
  Chunks are wide (up to 256 queries, a few hundred MiB of rows), so the matrix products
  read the gallery few times and run near the matmul rate; they go one gallery block at a
  time, so the element-wise work (norms, clamp, sqrt, the fusion) stays in cache.

Identical gallery rows get bit-identical distances (:func:`duplicate_rows`): a matrix product
may round one row differently from its copy depending on where the row falls in a block
(the AVX2 kernels do), and rankers break exact ties by gallery order, so without this the
metrics of a gallery with duplicate images would depend on the CPU and the block sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rfdreid.errors import ReIDError, finite_number
from rfdreid.evaluation.metrics import (
    ArrayLike,
    GalleryGroups,
    RankAccumulator,
    RankResult,
    check_labels,
    query_rank_stats,
)

DEFAULT_LAMBDA = 0.1  # "we use lambda = 0.1 for all our experiments" (section 3.4)
RFD_FORMS = ("literal", "filter")
DEFAULT_RFD_FORM = "filter"  # chosen on CAVIAR's 10 splits and MLR-Market: docs/results.md
# evaluate_features: bytes of the fused [chunk, G] float32 rows of all lambdas together; at
# most _MAX_CHUNK queries (their features stay in cache across blocks); elements of one
# [chunk, gallery block] product (2**18 float32 = 1 MiB, about L2-sized).
_CHUNK_BYTES = 512 * 2**20
_MAX_CHUNK = 256
_BLOCK_ELEMENTS = 2**18
_HASH_ROWS = 1024  # rows hashed at a time by duplicate_rows (their uint64 products ~ 20 MiB)


def _as_features(x: ArrayLike, name: str) -> torch.Tensor:
    """[N, D] float32 CPU tensor (no copy when it already is one)."""
    t = torch.as_tensor(x)
    if t.ndim != 2:
        raise ReIDError(f"{name} must be a [N, D] feature matrix, got shape {tuple(t.shape)}")
    return t.detach().to("cpu", torch.float32)


def duplicate_rows(*features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows that repeat an earlier row bit for bit in every matrix of `features`, and the
    index of that earlier (first) row; both empty when every row is distinct.

    Args:
        features: [N, D_i] float32 CPU tensors describing the same N items.

    Exact and cheap: a row's hash is a sum of its float bits times random odd weights in
    wrapping uint64 arithmetic, which no kernel reorders into another value; rows sharing a
    hash are then compared bit for bit, so a collision costs a comparison, never a
    wrong answer. All hashes distinct (no duplicates) costs one pass over the features.
    """
    bits = [f.contiguous().numpy().view(np.uint32) for f in features]
    n = len(bits[0])
    rng = np.random.default_rng(0)
    weights = [rng.integers(0, 2**63, size=b.shape[1], dtype=np.uint64) * 2 + 1 for b in bits]
    hashes = np.zeros(n, np.uint64)
    for s in range(0, n, _HASH_ROWS):
        for b, w in zip(bits, weights):
            hashes[s:s + _HASH_ROWS] += (b[s:s + _HASH_ROWS] * w).sum(1, dtype=np.uint64)
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    none = torch.empty(0, dtype=torch.long)
    if len(first) == n:
        return none, none
    earlier = first[inverse.reshape(-1)]
    candidates = np.flatnonzero(earlier != np.arange(n))
    same = np.ones(len(candidates), dtype=bool)
    for b in bits:
        same &= (b[candidates] == b[earlier[candidates]]).all(1)
    return torch.from_numpy(candidates[same]), torch.from_numpy(earlier[candidates[same]])


def _copy_duplicates(d: torch.Tensor, dups: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Give duplicate gallery columns of `d` [Q, G] the value of their first occurrence."""
    repeats, firsts = dups
    if len(repeats):
        d[:, repeats] = d[:, firsts]
    return d


def _squared_norms(x: torch.Tensor) -> torch.Tensor:
    return (x * x).sum(1)


def _euclidean(q: torch.Tensor, q_sq: torch.Tensor, g: torch.Tensor, g_sq: torch.Tensor,
               out: torch.Tensor | None = None) -> torch.Tensor:
    """sqrt(max(||q||^2 + ||g||^2 - 2 q.g, 0)) from precomputed squared norms (into ``out``)."""
    d2 = torch.addmm(q_sq[:, None] + g_sq[None, :], q, g.T, beta=1.0, alpha=-2.0, out=out)
    return d2.clamp_min_(0.0).sqrt_()


def euclidean_distance(qf: ArrayLike, gf: ArrayLike) -> torch.Tensor:
    """Euclidean distance between every query and gallery feature.

    Args:
        qf: [Q, D] query features. gf: [G, D] gallery features (tensor or array).

    Returns:
        [Q, G] float32 tensor. Computed as ||q||^2 + ||g||^2 - 2 q.g (one matmul), clamped
        at 0 before the square root, so it is never negative or NaN; identical rows give 0
        up to float32 rounding of the expansion. Identical gallery rows get identical
        columns (module doc).
    """
    q, g = _as_features(qf, "qf"), _as_features(gf, "gf")
    _check_dims(q, g, "qf", "gf")
    return _copy_duplicates(_euclidean(q, _squared_norms(q), g, _squared_norms(g)),
                            duplicate_rows(g))


def l2_normalise(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit length (a zero row stays zero)."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def cosine_similarity(qf: ArrayLike, gf: ArrayLike) -> torch.Tensor:
    """Eq. 7: ``D_r(x_i, x_j) = f_r(x_i).f_r(x_j) / (||f_r(x_i)|| ||f_r(x_j)||)``.

    Args:
        qf: [Q, D] query resolution features. gf: [G, D] gallery resolution features.

    Returns:
        [Q, G] float32 similarity in [-1, 1] (larger = more alike; a zero row gives 0).
        Identical gallery rows get identical columns (module doc).
    """
    q, g = _as_features(qf, "qr"), _as_features(gf, "gr")
    _check_dims(q, g, "qr", "gr")
    return _copy_duplicates(l2_normalise(q) @ l2_normalise(g).T, duplicate_rows(g))


def check_rfd_form(form: str) -> str:
    """`form` itself, or a ReIDError listing the readings of eq. 7-8."""
    if form not in RFD_FORMS:
        raise ReIDError(f"unknown RFD form {form!r}; choose from {', '.join(RFD_FORMS)} "
                        "(see rfdreid.evaluation.distance)")
    return form


# Largest |λ| of eq. 8: distances are float32 and D_r is within [-1, 2] in either form, so
# |λ| <= float32 max / 4 keeps λ * D_r, and D_f - λ * D_r for any D_f below float32 max / 2,
# finite. Beyond it the fused distance overflows to inf (and inf - inf = NaN), ranking
# arbitrarily; below it a huge λ still means something: "rank by resolution first".
MAX_LAMBDA = float(torch.finfo(torch.float32).max) / 4


def check_rfd_lambda(lam: float, what: str = "λ") -> float:
    """`lam`, or a ReIDError naming `what` when it is NaN, inf or beyond :data:`MAX_LAMBDA`."""
    if abs(finite_number(lam, what)) > MAX_LAMBDA:
        raise ReIDError(f"{what}={lam} is invalid; |λ| must be at most {MAX_LAMBDA:.3g}, "
                        "beyond which eq. 8 overflows float32")
    return lam


def rfd_distance(
    d_f: torch.Tensor, cos_r: torch.Tensor, lam: float = DEFAULT_LAMBDA,
    form: str = DEFAULT_RFD_FORM, out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. 8, ``D = D_f - lam * D_r``, with D_r read as ``form`` says (module doc).

    Args:
        d_f: [..., G] identity distance (Euclidean, B-F). cos_r: same shape, cosine
        similarity of the B-R resolution features (eq. 7's right-hand side). lam: weight of
        the resolution term (0.1 in the paper). form: "literal" (D_r = cos) or "filter"
        (D_r = 1 - cos).

    Returns:
        The fused distance, smaller = better. ``lam = 0`` returns ``d_f`` unchanged.
    """
    if d_f.shape != cos_r.shape:
        raise ReIDError(f"D_f {tuple(d_f.shape)} and D_r {tuple(cos_r.shape)} differ in shape")
    d_r = cos_r if check_rfd_form(form) == "literal" else 1.0 - cos_r
    return torch.sub(d_f, lam * d_r, out=out)


def _check_dims(q: torch.Tensor, g: torch.Tensor, qname: str, gname: str) -> None:
    if q.shape[1] != g.shape[1]:
        raise ReIDError(f"{qname} has dimension {q.shape[1]} but {gname} has {g.shape[1]}")


def _resolution_features(
    qr: ArrayLike | None, gr: ArrayLike | None, q: torch.Tensor, g: torch.Tensor,
    lambdas: list[float],
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """L2-normalised B-R features of queries and gallery (eq. 8's cosine), checked against
    the identity features; (None, None) for plain B-F, where every λ must be 0."""
    if (qr is None) != (gr is None):
        raise ReIDError("pass both qr and gr (resolution features of query and gallery), or neither")
    if qr is None or gr is None:
        if any(lam != 0.0 for lam in lambdas):
            raise ReIDError(f"lambdas {lambdas} need resolution features qr/gr (RFD, eq. 8)")
        return None, None
    q_res, g_res = l2_normalise(_as_features(qr, "qr")), l2_normalise(_as_features(gr, "gr"))
    _check_dims(q_res, g_res, "qr", "gr")
    if q_res.shape[0] != q.shape[0] or g_res.shape[0] != g.shape[0]:
        raise ReIDError(
            f"resolution features cover {q_res.shape[0]} queries / {g_res.shape[0]} gallery "
            f"images, identity features {q.shape[0]} / {g.shape[0]}"
        )
    return q_res, g_res


def _work_sizes(n_query: int, n_gallery: int, n_lambdas: int, chunk_size: int | None,
                block_size: int | None) -> tuple[int, int]:
    """(queries per chunk, gallery rows per block): the defaults bound the row buffers
    (about 512 MiB over all λ, at most _MAX_CHUNK queries) and each product (about 1 MiB)."""
    if chunk_size is None:
        chunk_size = max(1, min(_MAX_CHUNK, _CHUNK_BYTES // (4 * n_gallery * n_lambdas)))
    if chunk_size < 1:
        raise ReIDError(f"chunk_size must be >= 1, got {chunk_size}")
    if block_size is None:
        block_size = max(1, _BLOCK_ELEMENTS // min(chunk_size, n_query))
    if block_size < 1:
        raise ReIDError(f"block_size must be >= 1, got {block_size}")
    return chunk_size, block_size


def evaluate_features(
    qf: ArrayLike,
    gf: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    q_camids: ArrayLike,
    g_camids: ArrayLike,
    qr: ArrayLike | None = None,
    gr: ArrayLike | None = None,
    lambdas: Sequence[float] = (0.0,),
    max_rank: int = 50,
    chunk_size: int | None = None,
    form: str = DEFAULT_RFD_FORM,
    block_size: int | None = None,
) -> dict[float, RankResult]:
    """Evaluate B-F features, optionally fused with B-R resolution features (RFD), per lambda.

    For each chunk of queries and each block of the gallery: D_f = Euclidean(qf, gf) once,
    D_r = cosine(qr, gr) once (when given), fused as ``D_f - lam * D_r`` into one [chunk, G]
    row buffer per lambda; the full rows are then ranked (see
    :mod:`rfdreid.evaluation.metrics`). Working memory is those buffers, independent of Q.
    Gallery images with identical features get identical distances (module doc), so the
    result does not depend on the CPU, chunk_size or block_size.

    Args:
        qf: [Q, D] query features. gf: [G, D] gallery features (tensor or array).
        q_pids, q_camids: [Q]; g_pids, g_camids: [G] labels.
        qr: [Q, Dr] query resolution features; gr: [G, Dr] gallery ones (both or neither).
        lambdas: the lambdas to evaluate; any non-zero one needs qr/gr. 0 = plain B-F.
        max_rank: length of each CMC curve.
        chunk_size: queries per chunk (default: about 512 MiB of row buffers, all lambdas,
            and at most 256).
        form: the reading of eq. 7-8 (:func:`rfd_distance`).
        block_size: gallery rows per distance block (default: about 1 MiB per product).

    Returns:
        ``{lam: RankResult}`` in the order of ``lambdas``.

    Example:
        >>> res = evaluate_features(qf, gf, qp, gp, qc, gc, qr=qr, gr=gr, lambdas=(0.0, 0.1))
        >>> res[0.1].r1 - res[0.0].r1   # what RFD adds on top of B-F
    """
    q, g = _as_features(qf, "qf"), _as_features(gf, "gf")
    _check_dims(q, g, "qf", "gf")
    qp, gp, qc, gc = check_labels(q.shape[0], g.shape[0], q_pids, g_pids, q_camids, g_camids)
    check_rfd_form(form)
    lambdas = [float(lam) for lam in lambdas]
    if not lambdas:
        raise ReIDError("lambdas is empty; pass at least one (0.0 = plain B-F)")
    q_res, g_res = _resolution_features(qr, gr, q, g, lambdas)
    chunk_size, block_size = _work_sizes(q.shape[0], g.shape[0], len(lambdas), chunk_size,
                                         block_size)
    groups = GalleryGroups.build(gp, gc)
    # D_f ties rows with equal identity features; a fused distance, rows equal in both.
    same_f = duplicate_rows(g)
    same_both = same_f if g_res is None or not len(same_f[0]) else duplicate_rows(g, g_res)
    g_sq = _squared_norms(g)
    accs = {lam: RankAccumulator(max_rank) for lam in lambdas}
    # One row buffer per lambda, reused by every chunk (fresh pages cost a fault each).
    buffers = {lam: torch.empty(min(chunk_size, q.shape[0]), g.shape[0]) for lam in lambdas}
    for s in range(0, q.shape[0], chunk_size):
        sl = slice(s, s + chunk_size)
        q_chunk = q[sl]
        q_sq = _squared_norms(q_chunk)
        rows = {lam: buf[:len(q_chunk)] for lam, buf in buffers.items()}
        for b in range(0, g.shape[0], block_size):
            bl = slice(b, b + block_size)
            d_f = _euclidean(q_chunk, q_sq, g[bl], g_sq[bl],
                             out=rows[0.0][:, bl] if 0.0 in rows else None)
            cos_r = q_res[sl] @ g_res[bl].T if q_res is not None else None
            for lam, out in rows.items():
                if lam != 0.0:
                    rfd_distance(d_f, cos_r, lam, form, out=out[:, bl])
        for lam, out in rows.items():
            _copy_duplicates(out, same_f if lam == 0.0 else same_both)
            accs[lam].add(*query_rank_stats(out.numpy(), qp[sl], qc[sl], groups))
    return {lam: acc.result() for lam, acc in accs.items()}

"""Verification: at what distance are two crops the same person?

Ranking metrics (CMC, mAP) say how well a gallery is ordered; a user who keeps only the
hits below a distance needs a threshold and what it costs. From a query x gallery distance
matrix (B-F's D_f or eq. 8's fused one) and the labels:

* **genuine pairs**: same pid, different camera; **impostor pairs**: different pid. Same
  pid and same camera is ignored, as the CMC rule of :mod:`rfdreid.evaluation.metrics`
  ignores it (too easy to count).
* **ROC** (:func:`roc`): a threshold t accepts a pair when ``d <= t``; TPR(t) and FPR(t) are
  the accepted shares of genuine and impostor pairs, exact at every distinct pair distance
  (ties are accepted together).
* **TPR at a target FPR** (:func:`tpr_at_fpr`): with N impostor pairs, at most
  ``k = floor(target * N)`` may be accepted, so t must lie below the (k+1)-th smallest
  impostor distance; the threshold is the largest float32 below it (the largest t whose
  FPR <= target). With N < 1 / target no false accept is allowed at all and the FPR is not
  resolved at that level: the point is "not reachable".
* **pair groups** (:func:`pair_groups`): the same counts for LR->HR pairs (a low-resolution
  query, a high-resolution gallery image: the cross-resolution case), HR->HR, and "other"
  (the gallery image is low-resolution), each a rectangular block of the matrix.

Memory: the pair distances are copied out of the [Q, G] float32 matrix (with masks and a
sort), about 16 bytes per pair on top of the matrix; :func:`check_pair_count` refuses more
than :data:`MAX_PAIRS` (2**27 pairs, ~2 GiB of work; MLR-Market's 3,368 x 15,913 = 54M
pairs fit).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rfdreid.errors import ReIDError, finite_number
from rfdreid.evaluation.methods import Method
from rfdreid.evaluation.metrics import ArrayLike, as_numpy, check_labels

FPR_TARGETS = (1e-2, 1e-3, 1e-4)
MAX_PAIRS = 2**27
HISTOGRAM_BINS = 50
GROUPS = ("all", "LR→HR", "HR→HR", "other")


def check_pair_count(num_q: int, num_g: int) -> None:
    """A one-line ReIDError when Q x G pairs exceed :data:`MAX_PAIRS` (before any distance
    matrix is built)."""
    if num_q * num_g > MAX_PAIRS:
        raise ReIDError(f"verification of {num_q} x {num_g} = {num_q * num_g:,} pairs exceeds "
                        f"the cap of {MAX_PAIRS:,} (about 16 bytes each); drop --verification "
                        "or evaluate a smaller query set or gallery")


@dataclass(frozen=True)
class PairDistances:
    """Genuine and impostor pair distances of one group, each sorted ascending."""

    genuine: np.ndarray
    impostor: np.ndarray

    @classmethod
    def from_matrix(cls, dist: ArrayLike, q_pids: ArrayLike, g_pids: ArrayLike,
                    q_camids: ArrayLike, g_camids: ArrayLike) -> PairDistances:
        """Pairs of a [Q, G] matrix; same pid and same camera is left out (module doc)."""
        d = as_numpy(dist)
        if d.ndim != 2:
            raise ReIDError(f"dist must be a [Q, G] matrix, got shape {d.shape}")
        check_pair_count(*d.shape)
        qp, gp, qc, gc = check_labels(*d.shape, q_pids, g_pids, q_camids, g_camids)
        same = qp[:, None] == gp[None, :]
        genuine = same & (qc[:, None] != gc[None, :])
        return cls(np.sort(d[genuine]), np.sort(d[~same]))


def pair_groups(dist: ArrayLike, q_pids: ArrayLike, g_pids: ArrayLike, q_camids: ArrayLike,
                g_camids: ArrayLike, q_hr: ArrayLike, g_hr: ArrayLike
                ) -> dict[str, PairDistances]:
    """{group: pairs} for "all" and every non-empty group of :data:`GROUPS` (module doc).

    q_hr, g_hr: [Q], [G] booleans, True for a high-resolution image.
    """
    d = as_numpy(dist)
    labels = check_labels(*d.shape, q_pids, g_pids, q_camids, g_camids)
    qh, gh = as_numpy(q_hr).astype(bool), as_numpy(g_hr).astype(bool)
    if qh.shape != (d.shape[0],) or gh.shape != (d.shape[1],):
        raise ReIDError(f"q_hr / g_hr cover {qh.shape} / {gh.shape} images, dist {d.shape}")
    out = {"all": PairDistances.from_matrix(d, *labels)}  # first: it checks the pair count
    qp, gp, qc, gc = labels
    everyone = np.ones_like(qh)
    for name, (rows, cols) in {"LR→HR": (~qh, gh), "HR→HR": (qh, gh),
                               "other": (everyone, ~gh)}.items():
        if rows.any() and cols.any():
            out[name] = PairDistances.from_matrix(d[np.ix_(rows, cols)], qp[rows], gp[cols],
                                                  qc[rows], gc[cols])
    return out


def roc(pairs: PairDistances) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FPR, TPR) at every distinct pair distance, ascending; t accepts d <= t."""
    thresholds = np.unique(np.concatenate([pairs.genuine, pairs.impostor]))
    return (thresholds, _accepted(pairs.impostor, thresholds), _accepted(pairs.genuine, thresholds))


def _accepted(sorted_d: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Share of `sorted_d` at or below each threshold."""
    return np.searchsorted(sorted_d, thresholds, side="right") / max(len(sorted_d), 1)


@dataclass(frozen=True)
class OperatingPoint:
    """TPR at a target FPR: the threshold achieving it and the FPR it really has; None
    throughout when the target is not reachable with this many impostor pairs."""

    target: float
    threshold: float | None
    tpr: float | None
    fpr: float | None

    def to_dict(self) -> dict[str, Any]:
        if self.threshold is None:
            return {"reachable": False}
        return {"reachable": True, "threshold": self.threshold, "tpr": self.tpr,
                "fpr": self.fpr}


def tpr_at_fpr(pairs: PairDistances, target: float) -> OperatingPoint:
    """The largest threshold whose FPR <= target, and its TPR (module doc)."""
    if not 0 < target < 1:
        raise ReIDError(f"a target FPR must lie in (0, 1), got {target}")
    n = len(pairs.impostor)
    allowed = math.floor(target * n + 1e-9)  # 1e-9: 0.29 * 100 must allow 29, not 28
    if allowed < 1 or not len(pairs.genuine):
        return OperatingPoint(target, None, None, None)
    t = np.nextafter(np.float32(pairs.impostor[min(allowed, n - 1)]), np.float32(-np.inf))
    tpr, fpr = (float(_accepted(s, np.array([t]))[0]) for s in (pairs.genuine, pairs.impostor))
    return OperatingPoint(target, float(t), tpr, fpr)


def histograms(pairs: PairDistances, bins: int = HISTOGRAM_BINS
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges [bins + 1], genuine counts, impostor counts) over shared bins."""
    both = np.concatenate([pairs.genuine, pairs.impostor])
    edges = np.histogram_bin_edges(both, bins=bins)
    return (edges, np.histogram(pairs.genuine, edges)[0], np.histogram(pairs.impostor, edges)[0])


def require_both_kinds(pairs: PairDistances, where: str) -> None:
    """A one-line ReIDError when a protocol has no genuine or no impostor pairs: without
    either there is no ROC to speak of."""
    for kind, values, fix in (
            ("genuine", pairs.genuine, "a gallery image of each query's identity from another "
             "camera"),
            ("impostor", pairs.impostor, "gallery images of other identities")):
        if not len(values):
            raise ReIDError(f"verification of {where} needs {kind} pairs and there are none; "
                            f"drop --verification or give the protocol {fix}")


def report(groups: dict[str, PairDistances], targets: tuple[float, ...] = FPR_TARGETS
           ) -> dict[str, dict[str, Any]]:
    """JSON-ready {group: {genuine, impostor, at_fpr: {"0.001": point}, histogram}}."""
    out = {}
    for name, pairs in groups.items():
        edges, gen, imp = histograms(pairs) if len(pairs.genuine) + len(pairs.impostor) \
            else (np.zeros(0), np.zeros(0), np.zeros(0))
        out[name] = {"genuine": len(pairs.genuine), "impostor": len(pairs.impostor),
                     "at_fpr": {f"{t:g}": tpr_at_fpr(pairs, t).to_dict() for t in targets},
                     "histogram": {"edges": edges.tolist(), "genuine": gen.tolist(),
                                   "impostor": imp.tolist()}}
    return out


def threshold_from_results(results: Path, checkpoint: Path, method: Method, fpr: float,
                           feature: dict[str, bool], gallery: str | None = None) -> float:
    """The threshold `rfdreid evaluate --verification` measured for `checkpoint` and
    `method` at `fpr` (all pairs; on `gallery`, by default the multi-resolution gallery
    when there is one, since a searched folder mixes resolutions), or a one-line ReIDError
    naming the fix.

    `feature` ({"flip": ..., "normalize": ...}) is how the caller builds its test feature:
    a threshold measured on another feature (unnormalised, say) is on another scale, so a
    mismatch with the evaluation's recorded settings is refused."""
    try:
        data = json.loads(Path(results).read_text())
    except (OSError, ValueError) as e:
        raise ReIDError(f"cannot read --results {results}: {e}") from None
    entries = data.get("verification") if isinstance(data, dict) else None
    if not entries:
        raise ReIDError(f"{results} has no verification section; run `rfdreid evaluate "
                        "--verification` first")
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    for key, here in feature.items():
        there = settings.get(key, {}).get("value") if isinstance(settings.get(key), dict) else None
        if there is not None and there != here:
            flag = f"--{'' if there else 'no-'}{key}"
            raise ReIDError(f"{results} measured its thresholds with {key}={there}, this search "
                            f"uses {key}={here}; search with {flag}")
    try:
        here = Path(checkpoint).resolve()
        mine = [e for e in entries if Path(e["split"]).resolve() == here]
        if not mine:
            raise ReIDError(f"{results} holds no verification of {checkpoint}; evaluate that "
                            "checkpoint with --verification")
        galleries = mine[0]["galleries"]
        if gallery is not None and gallery not in galleries:
            raise ReIDError(f"{results} verified the {', '.join(galleries)} galleries, not "
                            f"{gallery}")
        rows = _method_rows(galleries[gallery] if gallery else (
            galleries.get("multi") or next(iter(galleries.values()))))
        if method not in rows:
            raise ReIDError(f"{results} measured {', '.join(m.label for m in rows)}, not "
                            f"{method.label}; match --lambda / --rfd-form / --br to the "
                            "evaluation")
        at_fpr = rows[method]["all"]["at_fpr"]
        point = at_fpr.get(f"{fpr:g}")
        if point is None:
            raise ReIDError(f"{results} has thresholds at FPR {', '.join(at_fpr)}, not {fpr:g}")
        if not point["reachable"]:
            raise ReIDError(f"FPR {fpr:g} was not reachable in {results} (fewer than "
                            f"{1 / fpr:g} impostor pairs); pick a larger --at-fpr")
        return finite_number(float(point["threshold"]), f"the threshold in {results}")
    except (KeyError, TypeError, AttributeError, StopIteration, ValueError):
        raise ReIDError(f"{results} has a malformed verification section; run `rfdreid "
                        "evaluate --verification` again") from None


def _method_rows(rows: list[dict[str, Any]] | dict[str, Any]) -> dict[Method, dict[str, Any]]:
    """{method: report} of one gallery's verification: records of `{"method": fields,
    "groups": report}`, or (results.json before the records) a dict keyed by label."""
    if isinstance(rows, dict):
        return {Method.parse(label): rep for label, rep in rows.items()}
    return {Method.from_record(r["method"]): r["groups"] for r in rows}


def to_markdown(title: str, reports: dict[str, dict[str, dict[str, Any]]]) -> str:
    """One table of {method: report()}: TPR (%) at each target FPR with its threshold, one
    row per method and pair group."""
    targets = list(next(iter(next(iter(reports.values())).values()))["at_fpr"])
    lines = [f"### verification, {title}", "",
             "| method | pair group | genuine | impostor | "
             + " | ".join(f"TPR @ FPR {t} (threshold)" for t in targets) + " |",
             "|---|---|---|---|" + "---|" * len(targets)]
    for method, groups in reports.items():
        for group, r in groups.items():
            cells = [f"{100 * p['tpr']:.1f} ({p['threshold']:.4g})" if p["reachable"]
                     else "not reachable"
                     for p in r["at_fpr"].values()]
            lines.append(f"| {method} | {group} | {r['genuine']} | {r['impostor']} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines + [""])

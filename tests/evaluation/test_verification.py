"""Verification (evaluation/verification.py) against hand counts and brute-force loops that
share no code with the module: genuine / impostor pairs under the CMC rule, the exact ROC,
TPR at a target FPR with the largest threshold achieving it, pair groups, refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rfdreid.errors import ReIDError
from rfdreid.evaluation import verification as v

# 2 queries (camera 0) x 4 gallery images. Counted by hand:
#   genuine  (same id, other camera): (q0, g0) = 0.1, (q1, g2) = 0.2
#   ignored  (same id, same camera):  (q0, g1) = 0.05
#   impostor (other id): q0: 0.7, 0.4; q1: 0.6, 0.3, 0.9
DIST = np.array([[0.1, 0.05, 0.7, 0.4],
                 [0.6, 0.3, 0.2, 0.9]], dtype=np.float32)
LABELS = (np.array([1, 2]), np.array([1, 1, 2, 3]), np.array([0, 0]), np.array([1, 0, 1, 1]))


def test_hand_counted_pairs_roc_and_operating_point():
    pairs = v.PairDistances.from_matrix(DIST, *LABELS)
    # Fails if the same-camera same-id pair (0.05) is counted as genuine or as impostor.
    assert pairs.genuine.tolist() == pytest.approx([0.1, 0.2])
    assert pairs.impostor.tolist() == pytest.approx([0.3, 0.4, 0.6, 0.7, 0.9])
    thresholds, fpr, tpr = v.roc(pairs)
    assert thresholds.tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.9])
    assert tpr.tolist() == [0.5, 1, 1, 1, 1, 1, 1]
    assert fpr.tolist() == [0, 0, 0.2, 0.4, 0.6, 0.8, 1]
    # FPR <= 0.2 allows one false accept (0.3): every t below 0.4 does, 0.4 itself not.
    point = v.tpr_at_fpr(pairs, 0.2)
    assert point.threshold == np.nextafter(np.float32(0.4), np.float32(0))
    assert (point.tpr, point.fpr) == (1.0, 0.2)
    # FPR 0.1 needs 10 impostor pairs to mean anything; there are 5.
    assert v.tpr_at_fpr(pairs, 0.1).to_dict() == {"reachable": False}


def _brute_pairs(dist, qp, gp, qc, gc):
    """Genuine / impostor distances by a double loop over every (query, gallery) pair."""
    gen, imp = [], []
    for i, j in itertools.product(range(dist.shape[0]), range(dist.shape[1])):
        if qp[i] != gp[j]:
            imp.append(float(dist[i, j]))
        elif qc[i] != gc[j]:
            gen.append(float(dist[i, j]))
    return gen, imp


def _problem(seed: int, q: int = 12, g: int = 40):
    """Random distances with many ties (two decimals), ids and cameras."""
    rng = np.random.default_rng(seed)
    dist = rng.integers(0, 60, (q, g)).astype(np.float32) / np.float32(50)
    return dist, (rng.integers(0, 5, q), rng.integers(0, 5, g), rng.integers(0, 3, q),
                  rng.integers(0, 3, g))


@pytest.mark.parametrize("seed", range(4))
def test_roc_equals_brute_force_over_every_threshold(seed):
    dist, labels = _problem(seed)
    gen, imp = _brute_pairs(dist, *labels)
    candidates = sorted(set(gen) | set(imp))
    want_tpr = [sum(d <= t for d in gen) / len(gen) for t in candidates]
    want_fpr = [sum(d <= t for d in imp) / len(imp) for t in candidates]
    thresholds, fpr, tpr = v.roc(v.PairDistances.from_matrix(dist, *labels))
    assert thresholds.tolist() == candidates
    assert tpr.tolist() == pytest.approx(want_tpr) and fpr.tolist() == pytest.approx(want_fpr)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("target", [0.01, 0.05, 0.29])
def test_threshold_is_the_largest_within_the_target_fpr(seed, target):
    """By definition: FPR(t) <= target, and the next float32 above t exceeds it."""
    dist, labels = _problem(seed)
    gen, imp = _brute_pairs(dist, *labels)
    point = v.tpr_at_fpr(v.PairDistances.from_matrix(dist, *labels), target)

    def fpr(t):
        return sum(d <= t for d in imp) / len(imp)

    t = np.float32(point.threshold)
    assert fpr(t) <= target < fpr(np.nextafter(t, np.float32(np.inf)))
    assert point.tpr == sum(d <= t for d in gen) / len(gen)
    assert point.fpr == fpr(t)


def test_pair_groups_follow_the_resolution_of_each_side():
    dist, labels = _problem(7)
    rng = np.random.default_rng(1)
    q_hr, g_hr = rng.random(len(labels[0])) < 0.5, rng.random(len(labels[1])) < 0.5
    groups = v.pair_groups(dist, *labels, q_hr, g_hr)
    qp, gp, qc, gc = labels
    want = {name: ([], []) for name in v.GROUPS}
    for i, j in itertools.product(range(dist.shape[0]), range(dist.shape[1])):
        if qp[i] == gp[j] and qc[i] == gc[j]:
            continue
        kind = 0 if qp[i] == gp[j] else 1
        name = ("HR→HR" if q_hr[i] else "LR→HR") if g_hr[j] else "other"
        for n in ("all", name):
            want[n][kind].append(float(dist[i, j]))
    assert set(groups) == set(v.GROUPS)
    for name, (gen, imp) in want.items():
        assert groups[name].genuine.tolist() == sorted(gen), name
        assert groups[name].impostor.tolist() == sorted(imp), name
    # Only LR queries and HR gallery images: the other groups are absent, not empty.
    only = v.pair_groups(dist, *labels, np.zeros(len(qp), bool), np.ones(len(gp), bool))
    assert set(only) == {"all", "LR→HR"}


def test_report_counts_histograms_and_markdown():
    pairs = v.PairDistances.from_matrix(DIST, *LABELS)
    rep = v.report({"all": pairs}, targets=(0.2, 0.1))
    assert rep["all"]["genuine"] == 2 and rep["all"]["impostor"] == 5
    assert rep["all"]["at_fpr"]["0.2"]["tpr"] == 1.0
    assert rep["all"]["at_fpr"]["0.1"] == {"reachable": False}
    hist = rep["all"]["histogram"]
    assert sum(hist["genuine"]) == 2 and sum(hist["impostor"]) == 5
    assert hist["edges"][0] == pytest.approx(0.1) and hist["edges"][-1] == pytest.approx(0.9)
    md = v.to_markdown("test", {"B-F": rep})
    assert "| B-F | all | 2 | 5 | 100.0 (0.4) | not reachable |" in md
    with pytest.raises(ReIDError, match="must lie in"):
        v.tpr_at_fpr(pairs, 1.0)


def test_refusals_are_one_line_errors(monkeypatch):
    monkeypatch.setattr(v, "MAX_PAIRS", 7)
    with pytest.raises(ReIDError, match="2 x 4 = 8 pairs exceeds the cap of 7"):
        v.PairDistances.from_matrix(DIST, *LABELS)
    monkeypatch.undo()
    one_id = v.PairDistances.from_matrix(DIST, np.array([1, 1]), np.ones(4, int), *LABELS[2:])
    with pytest.raises(ReIDError, match="needs impostor pairs and there are none"):
        v.require_both_kinds(one_id, "the test gallery")
    same_cam = v.PairDistances.from_matrix(DIST, *LABELS[:2], np.zeros(2, int), np.zeros(4, int))
    with pytest.raises(ReIDError, match="needs genuine pairs"):
        v.require_both_kinds(same_cam, "the test gallery")

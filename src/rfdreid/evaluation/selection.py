"""Choosing RFD's reading of eq. 8 and its λ on validation identities (issue 25).

The paper fixes λ = 0.1 and leaves the reading of D_r open (evaluation/distance.py); a
user of another dataset has neither the paper's tuning nor its test set. `evaluate
--select-lambda` scores every candidate (form, λ) on identities held out of training
and keeps one by a named rule. The rule lives here, apart from feature extraction, because
it is applied twice: by evaluate on fresh validation scores and by `python -m
rfdreid.report` replaying every rule on the recorded validation curves, and both must
choose alike.

Rules (SELECT_RULES):
- "per-gallery": the best validation mAP, separately for each gallery protocol.
- "pooled": one candidate for all galleries, the best mean validation mAP over them (the
  galleries share the validation identities, so pooling halves the noise of one choice).
- "prior": the paper's setting (filter, λ = 0.1) unless the pooled best beats it on
  validation by more than `margin` mAP points (a shrinkage toward the published value).
Ties go to the smaller λ (plain B-F first), then to the prior's form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rfdreid.errors import ReIDError

SELECT_RULES = ("per-gallery", "pooled", "prior")
BF = ("B-F", 0.0)  # λ = 0: the fusion is off whatever the form
PRIOR = ("filter", 0.1)  # the paper's λ (section 4.1) in this project's default reading

Candidate = tuple[str, float]
Curves = Mapping[str, Mapping[Candidate, float]]  # {gallery: {candidate: validation score}}


def candidates(forms: Sequence[str], grid: Sequence[float]) -> list[Candidate]:
    """B-F and every (form, λ) of the grid, λ = 0 counted once (as B-F)."""
    return [BF] + [(f, float(lam)) for f in forms for lam in sorted(set(grid)) if lam != 0]


def _best(scores: Mapping[Candidate, float]) -> Candidate:
    return max(scores, key=lambda c: (scores[c], -c[1], c[0] == PRIOR[0]))


def _pooled(curves: Curves) -> dict[Candidate, float]:
    shared = set.intersection(*(set(c) for c in curves.values()))
    return {c: float(np.mean([curves[g][c] for g in curves])) for c in shared}


def choose(curves: Curves, rule: str = "per-gallery", margin: float = 1.0,
           prior: Candidate = PRIOR) -> dict[str, Candidate]:
    """The candidate each gallery protocol gets under `rule` (module docstring)."""
    if rule not in SELECT_RULES:
        raise ReIDError(f"unknown selection rule {rule!r}; choose {', '.join(SELECT_RULES)}")
    if not curves or not all(curves.values()):
        raise ReIDError("no validation scores to choose from")
    if rule == "per-gallery":
        return {g: _best(scores) for g, scores in curves.items()}
    pooled = _pooled(curves)
    pick = _best(pooled)
    if rule == "prior":
        if prior not in pooled:
            raise ReIDError(f"the 'prior' rule needs {prior[0]} λ={prior[1]:g} among the "
                            "candidates: add it to --select-lambda / eval.select_forms")
        if pooled[pick] <= pooled[prior] + margin:
            pick = prior
    return {g: pick for g in curves}

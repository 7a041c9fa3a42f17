"""Choosing the reading of eq. 8 and λ on validation ids (issue 25), replayed per rule.

An evaluation with --select-lambda records each split's validation curve (every form and
λ of the grid) and the test rows of every candidate; here each selection rule of
evaluation/selection.py, and restricted grids, is replayed on those curves and scored on
the test rows against the paper's fixed setting (filter, λ = 0.1), paired by split and
degradation draw.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rfdreid.evaluation.selection import BF, PRIOR, Candidate, choose
from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.stats import Paired

EXPERIMENTS = {  # CSV name -> title on the page
    "caviar_val5": "CAVIAR, 10 splits, 5 of 25 training ids held out",
    "mlr_per_image_800": "MLR-Market, per-image factors, 10 draws",
    "mlr_sing_800": "MLR-Market, SING (one LR camera per id), 10 draws",
}
GALLERIES = ("multi", "single")


@dataclass(frozen=True)
class Rule:
    """A selection rule of evaluation/selection.py on a (possibly restricted) grid."""

    rule: str
    margin: float = 1.0
    forms: tuple[str, ...] = ("filter", "literal")
    grid: tuple[float, ...] | None = None  # None: every λ evaluated

    def admits(self, c: Candidate) -> bool:
        return c == BF or (c[0] in self.forms and (self.grid is None or c[1] in self.grid))


RULES = {
    "per gallery, both forms": Rule("per-gallery"),
    "pooled over galleries, both forms": Rule("pooled"),
    "prior at filter 0.1 (leave it for +1 val mAP)": Rule("prior"),
    "per gallery, filter only": Rule("per-gallery", forms=("filter",)),
    "pooled, coarse grid λ ∈ {0.1, 1}": Rule("pooled", grid=(0.1, 1.0)),
}
DEFAULT_RULE = "per gallery, both forms"


def curves(res: Results, experiment: str) -> dict[str, dict[str, dict[Candidate, float]]]:
    """{split: {gallery: {candidate: validation mAP}}} from NAME_validation.csv."""
    out: dict[str, dict[str, dict[Candidate, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in res.rows(f"{experiment}_validation"):
        out[r["split"]][r["gallery"]][(r["form"], float(r["lambda"]))] = float(r["val_mAP"])
    return out


def test_metric(res: Results, experiment: str, gallery: str, c: Candidate,
                metric: str = "R1", queries: str = "") -> dict[tuple[str, str], float]:
    """The test `metric` of candidate c, by (split, draw), on all queries ("") or on one
    query group of `evaluate --by-resolution-class`."""
    match = {"method": "B-F"} if c == BF else {
        "method": "B-F+RFD", "form": c[0], "lambda": f"{c[1]:g}", "lambda_chosen_on": ""}
    rows = res.rows(experiment, gallery=gallery, queries=queries, **match)
    return {(r["split"], r["draw"]): float(r[metric]) for r in rows}


def replay(res: Results, experiment: str, gallery: str, rule: Rule, metric: str = "R1"
           ) -> tuple[dict[tuple[str, str], float], list[Candidate]]:
    """The test metric of the candidate `rule` picks on each split (every draw of the
    split gets the split's one choice), and the choices in split order."""
    picked: dict[str, Candidate] = {}
    for split, by_gallery in curves(res, experiment).items():
        admitted = {g: {c: v for c, v in cv.items() if rule.admits(c)}
                    for g, cv in by_gallery.items()}
        picked[split] = choose(admitted, rule.rule, rule.margin)[gallery]
    out = {}
    for split, c in picked.items():
        for (s, draw), v in test_metric(res, experiment, gallery, c, metric).items():
            if s == split:
                out[(s, draw)] = v
    return out, [picked[s] for s in sorted(picked, key=int)]


def _label(c: Candidate) -> str:
    return "B-F" if c == BF else f"{c[0][0]}{c[1]:g}"


def _row(name: str, xs: dict[tuple[str, str], float], ref: dict[tuple[str, str], float] | None,
         choices: str) -> list[str]:
    """A table row; ref None marks the reference row itself (nothing to compare)."""
    vs = ""
    if ref is not None:
        paired = Paired.of(ref, xs)
        vs = f"{fmt.signed(paired.mean)} ({fmt.counts(paired)})"
    return [name, fmt.spread(list(xs.values())), vs, choices]


def table(res: Results, experiment: str, gallery: str) -> str:
    """R1 of the fixed settings and of every replayed rule, paired against filter 0.1."""
    ref = test_metric(res, experiment, gallery, PRIOR)
    rows = [_row("B-F", test_metric(res, experiment, gallery, BF), ref, ""),
            _row("filter, λ = 0.1 (fixed)", ref, None, ""),
            _row("literal, λ = 0.1 (fixed)",
                 test_metric(res, experiment, gallery, ("literal", 0.1)), ref, "")]
    for name, rule in RULES.items():
        xs, picks = replay(res, experiment, gallery, rule)
        rows.append(_row(name, xs, ref, " ".join(_label(c) for c in picks)))
    return fmt.table(["setting", "R1 (mean ± SD)", "vs filter 0.1: mean (better / worse / tie)",
                      "choice per split (f = filter, l = literal)"], rows)


def tables(res: Results) -> dict[str, str]:
    return {f"select.{e}.{g}": table(res, e, g) for e in EXPERIMENTS for g in GALLERIES
            if e in res.experiments}


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in EXPERIMENTS:
        if e not in res.experiments:
            continue
        for g in GALLERIES:
            ref = test_metric(res, e, g, PRIOR)
            for name, rule in RULES.items():
                xs, _ = replay(res, e, g, rule)
                key = f"select.{e}.{g}.{rule.rule}.{'-'.join(rule.forms)}"
                key += "" if rule.grid is None else ".coarse"
                out |= fmt.paired_values(key, Paired.of(ref, xs))
    return out

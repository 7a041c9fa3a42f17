"""Where RFD helps and why (issue 25): resolution invariance or camera-bias removal?

Two measurements, each holding one of camera and resolution fixed while the other varies:
(a) CAVIAR's queries split by whether their true match lies in another resolution class
    (B-R's pixel-count label) or in the same one; both groups cross cameras, so a gain in
    both is not about resolution;
(b) MLR-Market built two ways from the same images: factors drawn per image (resolution
    independent of the camera) and SING's one LR camera per identity (resolution follows
    the camera, as on CAVIAR).
"""

from __future__ import annotations

from rfdreid.evaluation.selection import BF, PRIOR, Candidate
from rfdreid.workflows.evaluate import CLASS_GROUPS
from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.selection import test_metric
from rfdreid.report.stats import Paired, mean

CAVIAR = "caviar_val5"
MLR = {"per-image": "mlr_per_image_800", "SING": "mlr_sing_800"}
LITERAL = ("literal", 0.1)


def _queries(res: Results, experiment: str, gallery: str, queries: str) -> int:
    """Queries of the group summed over splits (the first draw of each)."""
    return sum(int(r["n_queries"]) for r in res.rows(experiment, gallery=gallery,
                                                     queries=queries, method="B-F", draw="0"))


def _cells(bf: dict[tuple[str, str], float], rfd: dict[tuple[str, str], float]) -> list[str]:
    p = Paired.of(bf, rfd)
    return [fmt.spread(list(rfd.values())),
            f"{fmt.signed(p.mean)} ({fmt.counts(p)}, p = {fmt.p_value(p.p)})"]


def class_table(res: Results, experiment: str) -> str:
    rows = []
    for gallery in ("multi", "single"):
        for group in ("", *CLASS_GROUPS):
            if not res.find(experiment, gallery=gallery, queries=group):
                continue  # no query of this group in any split
            bf = test_metric(res, experiment, gallery, BF, queries=group)
            rows.append([gallery, group or "all queries",
                         str(_queries(res, experiment, gallery, group)),
                         fmt.spread(list(bf.values())),
                         *_cells(bf, test_metric(res, experiment, gallery, PRIOR, queries=group)),
                         *_cells(bf, test_metric(res, experiment, gallery, LITERAL,
                                                 queries=group))])
    return fmt.table(["gallery", "queries", "n (all splits)", "B-F R1", "filter 0.1 R1",
                      "filter − B-F (better / worse / tie)", "literal 0.1 R1",
                      "literal − B-F (better / worse / tie)"], rows)


def variant_table(res: Results) -> str:
    rows = []
    for name, experiment in MLR.items():
        for gallery in ("multi", "single"):
            bf = test_metric(res, experiment, gallery, BF, queries="")
            rows.append([name, gallery, fmt.spread(list(bf.values())),
                         *_cells(bf, test_metric(res, experiment, gallery, PRIOR, queries="")),
                         *_cells(bf, test_metric(res, experiment, gallery, LITERAL, queries=""))])
    return fmt.table(["MLR variant", "gallery", "B-F R1", "filter 0.1 R1",
                      "filter − B-F (better / worse / tie)", "literal 0.1 R1",
                      "literal − B-F"], rows)


def tables(res: Results) -> dict[str, str]:
    out = {}
    for experiment in (CAVIAR, *MLR.values()):
        if experiment in res.experiments:
            out[f"why.classes.{experiment}"] = class_table(res, experiment)
    if all(e in res.experiments for e in MLR.values()):
        out["why.mlr_variants"] = variant_table(res)
    return out


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    for experiment in (CAVIAR, *MLR.values()):
        if experiment not in res.experiments:
            continue
        for gallery in ("multi", "single"):
            for key, group in zip(("other", "same"), CLASS_GROUPS):
                if not res.find(experiment, gallery=gallery, queries=group):
                    continue
                bf = test_metric(res, experiment, gallery, BF, queries=group)
                rfd = test_metric(res, experiment, gallery, PRIOR, queries=group)
                out |= fmt.paired_values(f"why.{experiment}.{gallery}.{key}", Paired.of(bf, rfd))
                out[f"why.{experiment}.{gallery}.{key}.bf"] = fmt.num(mean(list(bf.values())))
                out[f"why.{experiment}.{gallery}.{key}.filter"] = fmt.num(mean(list(rfd.values())))
                out[f"why.{experiment}.{gallery}.{key}.queries"] = str(
                    _queries(res, experiment, gallery, group))
            if experiment == CAVIAR:
                continue
            bf = test_metric(res, experiment, gallery, BF)
            for form, c in (("filter", PRIOR), ("literal", LITERAL)):
                out |= fmt.paired_values(f"why.{experiment}.{gallery}.{form}",
                                         Paired.of(bf, test_metric(res, experiment, gallery, c)))
    return out

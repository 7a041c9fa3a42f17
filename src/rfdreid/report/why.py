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

from collections.abc import Iterator

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


Runs = dict[tuple[str, str], float]


def _groups(res: Results, experiment: str, groups: tuple[str, ...]
            ) -> Iterator[tuple[str, str, Runs, Runs, Runs]]:
    """(gallery, query group, B-F, filter 0.1, literal 0.1 test R1 by (split, draw)) of
    each gallery and query group ("" = all queries) that has queries in some split."""
    for gallery in ("multi", "single"):
        for group in groups:
            if res.find(experiment, gallery=gallery, queries=group):
                yield gallery, group, *(test_metric(res, experiment, gallery, c, queries=group)
                                        for c in (BF, PRIOR, LITERAL))


def class_table(res: Results, experiment: str) -> str:
    rows = [[gallery, group or "all queries", str(_queries(res, experiment, gallery, group)),
             fmt.spread(list(bf.values())), *_cells(bf, rfd), *_cells(bf, literal)]
            for gallery, group, bf, rfd, literal in _groups(res, experiment, ("", *CLASS_GROUPS))]
    return fmt.table(["gallery", "queries", "n (all splits, first draw)", "B-F R1", "filter 0.1 R1",
                      "filter − B-F (better / worse / tie)", "literal 0.1 R1",
                      "literal − B-F (better / worse / tie)"], rows)


def variant_table(res: Results) -> str:
    rows = [[name, gallery, fmt.spread(list(bf.values())), *_cells(bf, rfd), *_cells(bf, literal)]
            for name, experiment in MLR.items()
            for gallery, _, bf, rfd, literal in _groups(res, experiment, ("",))]
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
    names = {"": "", CLASS_GROUPS[0]: "other", CLASS_GROUPS[1]: "same"}
    for experiment in (e for e in (CAVIAR, *MLR.values()) if e in res.experiments):
        for gallery, group, bf, rfd, literal in _groups(res, experiment, tuple(names)):
            key = f"why.{experiment}.{gallery}"
            if not group:  # all queries: both readings against B-F (MLR; CAVIAR has its tables)
                if experiment != CAVIAR:
                    out |= fmt.paired_values(f"{key}.filter", Paired.of(bf, rfd))
                    out |= fmt.paired_values(f"{key}.literal", Paired.of(bf, literal))
                continue
            key += f".{names[group]}"
            out |= fmt.paired_values(key, Paired.of(bf, rfd))
            out[f"{key}.bf"] = fmt.num(mean(list(bf.values())))
            out[f"{key}.filter"] = fmt.num(mean(list(rfd.values())))
            out[f"{key}.queries"] = str(_queries(res, experiment, gallery, group))
    return out

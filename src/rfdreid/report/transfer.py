"""Starting from MLR-Market instead of CAVIAR's 25 ids (issue 28): the MLR-Market-trained
pair evaluated on CAVIAR's test splits as it is (cross-dataset), and CAVIAR trained from it
(fine-tuning), each beside the CAVIAR-trained pairs of the same 10 splits (ImageNet start,
the preset's 600 iterations, training seed 0), paired by split; and the same pair on
MLR-Duke's test set (first degradation draw) beside the MLR-Duke-trained pair."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.stats import Paired, mean

HOME = "caviar_600"  # CAVIAR-trained, ImageNet start, the same splits
CROSS = "cross_mlr_sing_caviar"
FINETUNE = "finetune_caviar"
DUKE_HOME = "mlr_duke_800"  # MLR-Duke-trained, the same budget and protocol file
CROSS_DUKE = "cross_mlr_sing_duke"
METHODS = {"B-F": ("B-F", "", ""), "filter 0.1": ("B-F+RFD", "filter", "0.1"),
           "literal 0.1": ("B-F+RFD", "literal", "0.1")}


def by_split(res: Results, experiment: str, gallery: str, method: str,
             metric: str = "R1") -> dict[tuple[str, str], float]:
    """`metric` of one gallery and row (METHODS) by (split, "") over all queries: the
    first draw of an evaluation record, training seed 0 of a seeds table."""
    name, form, lam = METHODS[method]
    match = {"gallery": gallery, "method": name, "form": form, "lambda": lam, "seed": "0"}
    rows = res.rows(experiment, **match)
    return {(r["split"], ""): float(r[metric]) for r in rows
            if r.get("queries", "") == "" and r.get("draw", "0") == "0"}


def _table(res: Results, experiment: str, heading: str, home: str = HOME,
           home_heading: str = "CAVIAR from ImageNet") -> str:
    """R1 of `home` and `experiment` per gallery and row; the difference is paired by
    split, with counts and a sign test where there is more than one split."""
    rows, tested = [], False
    for gallery in ("single", "multi"):
        for method in METHODS:
            here = by_split(res, home, gallery, method)
            there = by_split(res, experiment, gallery, method)
            p = Paired.of(here, there)
            tested = tested or p.n > 1
            test = f" ({fmt.counts(p)}, p = {fmt.p_value(p.p)})" if p.n > 1 else ""
            rows.append([gallery, method, fmt.spread(list(here.values())),
                         fmt.spread(list(there.values())), fmt.signed(p.mean) + test])
    return fmt.table(["gallery", "method", f"{home_heading} R1", f"{heading} R1",
                      "difference" + (" (better / worse / tie)" if tested else "")], rows)


def tables(res: Results) -> dict[str, str]:
    out = {}
    if CROSS in res.experiments:
        out["transfer.cross"] = _table(res, CROSS, "MLR-Market pair, no CAVIAR training")
    if FINETUNE in res.experiments:
        out["transfer.finetune"] = _table(res, FINETUNE, "CAVIAR from the MLR-Market pair")
    if CROSS_DUKE in res.experiments:
        out["transfer.cross_duke"] = _table(res, CROSS_DUKE, "MLR-Market pair, no Duke training",
                                            DUKE_HOME, "MLR-Duke-trained pair")
    return out


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, experiment in (("cross", CROSS), ("finetune", FINETUNE)):
        if experiment not in res.experiments:
            continue
        for gallery in ("single", "multi"):
            bf = by_split(res, experiment, gallery, "B-F")
            out[f"transfer.{key}.{gallery}.bf"] = fmt.num(mean(list(bf.values())))
            out[f"transfer.{key}.{gallery}.n"] = str(len(bf))
            out |= fmt.paired_values(f"transfer.{key}.{gallery}.vs_home",
                                     Paired.of(by_split(res, HOME, gallery, "B-F"), bf))
            out |= fmt.paired_values(f"transfer.{key}.{gallery}.filter",
                                     Paired.of(bf, by_split(res, experiment, gallery,
                                                            "filter 0.1")))
    if CROSS_DUKE in res.experiments:
        for gallery in ("single", "multi"):
            cross = by_split(res, CROSS_DUKE, gallery, "B-F")
            home = by_split(res, DUKE_HOME, gallery, "B-F")
            out[f"transfer.cross_duke.{gallery}.bf"] = fmt.num(mean(list(cross.values())))
            out[f"transfer.cross_duke.{gallery}.home"] = fmt.num(mean(list(home.values())))
            out |= fmt.paired_values(f"transfer.cross_duke.{gallery}.filter", Paired.of(
                cross, by_split(res, CROSS_DUKE, gallery, "filter 0.1")))
    if FINETUNE in res.experiments:  # issue 28's target: the paper's CAVIAR B-F, single gallery
        paper = float(res.one("paper", key="caviar.single.B-F")["R1"])
        tuned = mean(list(by_split(res, FINETUNE, "single", "B-F").values()))
        out["transfer.finetune.single.vs_paper"] = fmt.signed(tuned - paper)
        out["transfer.finetune.paper"] = fmt.num(paper)
    return out

"""MLR tables over 10 degradation draws (issue 26): MLR-Market under both constructions
(per-image factors, SING's one LR camera per identity) and MLR-Duke, each with B-F, both
readings at the paper's λ and the (reading, λ) chosen on validation ids; mean ± SD over
the draws, the paper's row beside."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.stats import Paired, mean, sample_sd

EXPERIMENTS = {  # CSV -> the paper's rows (docs/results/paper.csv key prefix)
    "mlr_per_image_800": "mlr",
    "mlr_sing_800": "mlr",
    "mlr_duke_800": "duke",
}
METRICS = ("R1", "R5", "R10", "mAP", "mINP")
ROWS = {  # label -> (row selection, the paper's method)
    "B-F": ({"method": "B-F"}, "B-F"),
    "B-F+RFD filter (λ = 0.1)": ({"method": "B-F+RFD", "form": "filter", "lambda": "0.1"},
                                 "B-F+RFD"),
    "B-F+RFD literal (λ = 0.1)": ({"method": "B-F+RFD", "form": "literal", "lambda": "0.1"},
                                  None),
    "B-F+RFD, reading and λ chosen on validation": (
        {"method": "B-F+RFD", "form": "", "lambda_chosen_on": "validation"}, None),
}


def by_draw(res: Results, experiment: str, gallery: str, label: str,
            metric: str = "R1") -> dict[tuple[str, str], float]:
    match = {"lambda_chosen_on": "", **ROWS[label][0]}
    return {(r["split"], r["draw"]): float(r[metric])
            for r in res.rows(experiment, gallery=gallery, queries="", **match)}


def table(res: Results, experiment: str) -> str:
    paper_key = EXPERIMENTS[experiment]
    rows = []
    for gallery in ("single", "multi"):
        for label, (_, paper) in ROWS.items():
            cells = []
            for metric in METRICS:
                xs = list(by_draw(res, experiment, gallery, label, metric).values())
                cells.append(fmt.mean_sd(mean(xs), sample_sd(xs)))
            p = res.find("paper", key=f"{paper_key}.{gallery}.{paper}") if paper else []
            rows.append([gallery, label, *cells, *([p[0]["R1"], p[0]["R5"]] if p else ["", ""])])
    return fmt.table(["gallery", "method", *METRICS, "paper R1", "paper R5"], rows)


def tables(res: Results) -> dict[str, str]:
    return {f"draws.{e}": table(res, e) for e in EXPERIMENTS if e in res.experiments}


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in EXPERIMENTS:
        if e not in res.experiments:
            continue
        for gallery in ("single", "multi"):
            bf = by_draw(res, e, gallery, "B-F")
            out[f"draws.{e}.{gallery}.bf"] = fmt.num(mean(list(bf.values())))
            out[f"draws.{e}.{gallery}.n"] = str(len(bf))
            for key, label in (("filter", "B-F+RFD filter (λ = 0.1)"),
                               ("literal", "B-F+RFD literal (λ = 0.1)"),
                               ("chosen", "B-F+RFD, reading and λ chosen on validation")):
                for metric in ("R1", "mAP"):
                    out |= fmt.paired_values(
                        f"draws.{e}.{gallery}.{key}.{metric}",
                        Paired.of(by_draw(res, e, gallery, "B-F", metric),
                                  by_draw(res, e, gallery, label, metric)))
    return out

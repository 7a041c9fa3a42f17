"""The experiments with validation ids held out of training (issues 25, 26): CAVIAR's 10
splits, MLR-Market under both constructions (per-image factors, SING's one LR camera per
identity) and MLR-Duke over 10 degradation draws. Each table has B-F, both readings at
the paper's λ and the (reading, λ) chosen on the validation ids, mean ± SD over splits or
draws, the paper's row beside; CAVIAR adds k-reciprocal re-ranking (issue 28)."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.stats import Paired, mean

EXPERIMENTS = {  # CSV -> the paper's rows (docs/results/paper.csv key prefix)
    "caviar_val5": "caviar",
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
                cells.append(fmt.spread(xs))
            p = res.find("paper", key=f"{paper_key}.{gallery}.{paper}") if paper else []
            rows.append([gallery, label, *cells, *([p[0]["R1"], p[0]["R5"]] if p else ["", ""])])
    return fmt.table(["gallery", "method", *METRICS, "paper R1", "paper R5"], rows)


def tables(res: Results) -> dict[str, str]:
    out = {f"heldout.{e}": table(res, e) for e in EXPERIMENTS if e in res.experiments}
    for experiment, key in RERANK.items():
        if experiment in res.experiments:
            out[key] = rerank_table(res, experiment)
    return out


RERANK = {  # experiment evaluated with --rerank -> its table's placeholder
    "caviar_val5": "heldout.rerank",
    "rerank_mlr_sing_800": "heldout.rerank.mlr_sing_800",
    "rerank_mlr_per_image_800": "heldout.rerank.mlr_per_image_800",
}
RERANK_ROWS = {  # label -> row selection
    "B-F": {"method": "B-F"},
    "B-F+RFD filter (λ = 0.1)": {"method": "B-F+RFD", "form": "filter", "lambda": "0.1"},
    "B-F + re-ranking": {"method": "B-F + re-ranking"},
    "B-F+RFD filter (λ = 0.1) + re-ranking": {"method": "B-F+RFD + re-ranking",
                                              "form": "filter", "lambda": "0.1"},
}


def rerank_runs(res: Results, experiment: str, gallery: str, label: str,
                metric: str) -> list[float]:
    """`metric` of one RERANK_ROWS row over the experiment's runs, all queries."""
    return [float(r[metric]) for r in res.rows(experiment, gallery=gallery, queries="",
                                               lambda_chosen_on="", **RERANK_ROWS[label])]


def rerank_table(res: Results, experiment: str) -> str:
    """k-reciprocal re-ranking after B-F's and RFD's distance, mean ± SD over the
    experiment's runs (CAVIAR's 10 splits; MLR-Market's first draw)."""
    rows = [[gallery, label, *(fmt.spread(rerank_runs(res, experiment, gallery, label, m))
                               for m in ("R1", "mAP"))]
            for gallery in ("single", "multi") for label in RERANK_ROWS]
    return fmt.table(["gallery", "method", "R1", "mAP"], rows)


def rerank_values(res: Results, experiment: str) -> dict[str, str]:
    """What re-ranking adds to B-F's and to RFD's distance (mean over the runs):
    heldout.<experiment>.<gallery>.rerank.{bf,filter}.{R1,mAP}."""
    out = {}
    for gallery in ("single", "multi"):
        for key, before in (("bf", "B-F"), ("filter", "B-F+RFD filter (λ = 0.1)")):
            after = f"{before} + re-ranking"
            for m in ("R1", "mAP"):
                out[f"heldout.{experiment}.{gallery}.rerank.{key}.{m}"] = fmt.signed(
                    mean(rerank_runs(res, experiment, gallery, after, m))
                    - mean(rerank_runs(res, experiment, gallery, before, m)))
    return out


def holding_out_cost(res: Results, gallery: str) -> Paired:
    """B-F R1 with 5 of 25 CAVIAR training ids held out against all 25 (seed 0, 600
    iterations), paired by split: the same test sets, since the ids are held out of the
    training half only."""
    full = {k[0]: v for k, v in res.by_run("caviar_600", gallery=gallery, seed="0",
                                           method="B-F").items()}
    held = {k[0]: v for k, v in by_draw(res, "caviar_val5", gallery, "B-F").items()}
    return Paired.of({(k, ""): v for k, v in full.items()}, {(k, ""): v for k, v in held.items()})


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    if "caviar_val5" in res.experiments:
        for gallery in ("single", "multi"):
            out |= fmt.paired_values(f"heldout.cost.{gallery}", holding_out_cost(res, gallery))
    for e in RERANK:
        if e in res.experiments:
            out |= rerank_values(res, e)
    for e in EXPERIMENTS:
        if e not in res.experiments:
            continue
        out[f"heldout.{e}.iterations"] = res.experiments[e][0]["iterations"]
        for gallery in ("single", "multi"):
            bf = by_draw(res, e, gallery, "B-F")
            out[f"heldout.{e}.{gallery}.bf"] = fmt.num(mean(list(bf.values())))
            out[f"heldout.{e}.{gallery}.n"] = str(len(bf))
            for key, label in (("filter", "B-F+RFD filter (λ = 0.1)"),
                               ("literal", "B-F+RFD literal (λ = 0.1)"),
                               ("chosen", "B-F+RFD, reading and λ chosen on validation")):
                for metric in ("R1", "mAP"):
                    out |= fmt.paired_values(
                        f"heldout.{e}.{gallery}.{key}.{metric}",
                        Paired.of(by_draw(res, e, gallery, "B-F", metric),
                                  by_draw(res, e, gallery, label, metric)))
    return out

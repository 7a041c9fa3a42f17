"""MLR-Market-1501: the one-run tables at 4000 and 800 iterations and the interpolation
ablation; every difference against B-F is computed from the rows."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results, Row
from rfdreid.report.schedule import share_of_paper

EXPERIMENTS = ("mlr_market_4000", "mlr_market_800")
METRICS = ("R1", "R5", "R10", "mAP", "mINP")
FIXED = {  # rows at the paper's λ, in table order: label -> (selection, the paper's row)
    "B-F": ({"method": "B-F"}, "B-F"),
    "B-F+RFD filter (λ = 0.1)": ({"method": "B-F+RFD", "form": "filter", "lambda": "0.1"}, "B-F+RFD"),
    "B-F+RFD literal (λ = 0.1)": ({"method": "B-F+RFD", "form": "literal", "lambda": "0.1"}, None),
}


def sweep(res: Results, experiment: str) -> list[Row]:
    """The λ sweep of the filter reading: not chosen, not the paper's λ."""
    rows = res.rows(experiment, gallery="multi", form="filter", lambda_chosen_on="")
    return sorted((r for r in rows if r["lambda"] != "0.1"), key=lambda r: float(r["lambda"]))


def paper_cells(res: Results, gallery: str, method: str | None) -> list[str]:
    if method is None:
        return ["", ""]
    row = res.one("paper", key=f"mlr.{gallery}.{method}")
    return [row["R1"], row["R5"]]


def run_table(res: Results, experiment: str) -> str:
    rows = []
    for gallery in ("single", "multi"):
        for label, (match, paper) in FIXED.items():
            row = res.one(experiment, gallery=gallery, lambda_chosen_on="", **match)
            rows.append([gallery, label, *(row[m] for m in METRICS), *paper_cells(res, gallery, paper)])
        if gallery == "multi":
            lams = sweep(res, experiment)
            rows.append([gallery, "B-F+RFD filter, λ = " + " / ".join(r["lambda"] for r in lams),
                         " / ".join(r["R1"] for r in lams), "", "", " / ".join(r["mAP"] for r in lams), "", "", ""])
        for chosen in res.find(experiment, gallery=gallery, lambda_chosen_on="validation"):
            rows.append([gallery, f"B-F+RFD filter (λ chosen on validation: {chosen['lambda']})",
                         *(chosen[m] for m in METRICS), "", ""])
    return fmt.table(["gallery", "method", *METRICS, "paper R1", "paper R5"], rows)


def interpolation_table(res: Results) -> str:
    rows = []
    for degradation in ("bicubic", "bilinear"):
        def cell(gallery: str, method: str, metric: str) -> str:
            return res.one("mlr_interpolation", degradation=degradation, lr="2e-4", gallery=gallery, method=method)[metric]
        paper = res.one("paper", key=f"mlr.{degradation}")
        rows.append([degradation, cell("single", "B-F", "R1"), cell("single", "B-F", "R5"), cell("multi", "B-F", "R1"),
                     cell("multi", "B-F", "R5"), cell("multi", "B-F+RFD", "R1"), f"{paper['R1']} / {paper['R5']}"])
    header = ["degradation", "single R1", "single R5", "multi R1", "multi R5", "multi R1 with RFD", "paper R1 / R5"]
    return fmt.table(header, rows)


def tables(res: Results) -> dict[str, str]:
    return {**{e: run_table(res, e) for e in EXPERIMENTS}, "mlr_interpolation": interpolation_table(res)}


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in EXPERIMENTS:
        for gallery in ("single", "multi"):
            bf = res.one(e, gallery=gallery, method="B-F")
            out[f"{e}.{gallery}.bf.R1"] = bf["R1"]
            out[f"{e}.{gallery}.bf.mAP"] = bf["mAP"]
            for chosen in res.find(e, gallery=gallery, lambda_chosen_on="validation"):
                out[f"{e}.{gallery}.lambda_chosen"] = chosen["lambda"]
            for label, form in (("filter", "filter"), ("literal", "literal")):
                row = res.one(e, gallery=gallery, form=form, lambda_chosen_on="", **{"lambda": "0.1"})
                for m in ("R1", "mAP"):
                    out[f"{e}.{gallery}.{label}.{m}_diff"] = fmt.signed(float(row[m]) - float(bf[m]))
        out[f"{e}.percent_of_paper"] = share_of_paper(float(bf["iterations"]), "market")
    paper = {m: float(res.one("paper", key=f"mlr.single.{m}")["R1"]) for m in ("B-F", "B-F+RFD")}
    out["paper.mlr.single.gain"] = fmt.signed(paper["B-F+RFD"] - paper["B-F"])
    out["paper.mlr.single.bf"] = fmt.num(paper["B-F"])
    long, short = (float(res.one(e, gallery="single", method="B-F")["iterations"]) for e in EXPERIMENTS)
    out["mlr.iterations_ratio"] = fmt.num(long / short, 0)
    interp = {(r["degradation"], r["lr"], r["gallery"], r["method"]): float(r["R1"]) for r in res.rows("mlr_interpolation")}
    for gallery in ("single", "multi"):
        out[f"mlr_interpolation.{gallery}.diff"] = fmt.signed(
            interp["bilinear", "2e-4", gallery, "B-F"] - interp["bicubic", "2e-4", gallery, "B-F"])
        out[f"mlr_interpolation.{gallery}.bicubic"] = fmt.num(interp["bicubic", "2e-4", gallery, "B-F"])
        out[f"mlr_interpolation.{gallery}.collapsed"] = fmt.num(interp["bicubic", "1e-3", gallery, "B-F"])
    return out

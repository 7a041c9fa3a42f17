"""The CAVIAR section: seed 0 at 600 iterations, both RFD readings against B-F, per split."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.stats import Paired, mean, sample_sd

EXPERIMENT = "caviar_600"
GALLERIES = ("multi", "single")
METHODS = {  # placeholder name -> (table label, row selection)
    "bf": ("B-F", {"method": "B-F"}),
    "filter": ("B-F+RFD filter (λ = 0.1, default)", {"method": "B-F+RFD", "form": "filter"}),
    "literal": ("B-F+RFD literal (λ = 0.1)", {"method": "B-F+RFD", "form": "literal"}),
}
SHORT = {"bf": "B-F", "filter": "filter", "literal": "literal"}
PAPER_ROWS = {"bf": "B-F", "filter": "B-F+RFD"}


def r1(res: Results, gallery: str, method: str) -> dict[tuple[str, str], float]:
    """Seed 0's R1 per split: the CAVIAR section is the one run of `rfdreid reproduce`."""
    return res.by_run(EXPERIMENT, gallery=gallery, seed="0", **METHODS[method][1])


def paper_cells(res: Results, gallery: str, method: str) -> list[str]:
    if method not in PAPER_ROWS:
        return ["", "", ""]
    row = res.one("paper", key=f"caviar.{gallery}.{PAPER_ROWS[method]}")
    return [row["R1"], row["R5"], row["R10"]]


def summary_table(res: Results, gallery: str) -> str:
    rows = []
    for method, (label, _) in METHODS.items():
        xs = list(r1(res, gallery, method).values())
        rows.append([label, fmt.mean_sd(mean(xs), sample_sd(xs)), *paper_cells(res, gallery, method)])
    return fmt.table(["method", "R1", "paper R1", "paper R5", "paper R10"], rows)


def per_split_table(res: Results) -> str:
    rows = []
    for gallery in GALLERIES:
        for method in METHODS:
            by_split = r1(res, gallery, method)
            rows.append([gallery, SHORT[method]] + [f"{v:.1f}" for v in by_split.values()])
    return fmt.table(["gallery", "method", *map(str, range(10))], rows)


def tables(res: Results) -> dict[str, str]:
    return {
        "caviar_multi": summary_table(res, "multi"),
        "caviar_single": summary_table(res, "single"),
        "caviar_per_split": per_split_table(res),
    }


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    for gallery in GALLERIES:
        bf = r1(res, gallery, "bf")
        out[f"caviar.{gallery}.bf.mean"] = fmt.num(mean(list(bf.values())))
        out[f"caviar.{gallery}.bf.sd"] = fmt.num(sample_sd(list(bf.values())))
        for form in ("filter", "literal"):
            out |= fmt.paired_values(f"caviar.{gallery}.{form}", Paired.of(bf, r1(res, gallery, form)))
    paper = {m: float(res.one("paper", key=f"caviar.single.{m}")["R1"]) for m in ("B-F", "B-F+RFD")}
    out["paper.caviar.single.gain"] = fmt.signed(paper["B-F+RFD"] - paper["B-F"])
    return out

"""Cross-dataset evaluation (issue 28): MLR-Market-trained B-F / B-R on CAVIAR's 10 test
splits, beside the CAVIAR-trained pairs of the same splits, paired by split."""

from __future__ import annotations

from rfdreid.evaluation.selection import BF, PRIOR
from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.selection import test_metric
from rfdreid.report.stats import Paired, mean, sample_sd

CROSS = "cross_mlr_to_caviar"
HOME = "caviar_val5"
ROWS = {"B-F": BF, "B-F+RFD filter (λ = 0.1)": PRIOR, "B-F+RFD literal (λ = 0.1)": ("literal", 0.1)}


def table(res: Results) -> str:
    rows = []
    for gallery in ("single", "multi"):
        for label, c in ROWS.items():
            home = test_metric(res, HOME, gallery, c)
            cross = test_metric(res, CROSS, gallery, c)
            p = Paired.of(home, cross)
            rows.append([gallery, label, fmt.mean_sd(mean(list(home.values())),
                                                     sample_sd(list(home.values()))),
                         fmt.mean_sd(mean(list(cross.values())), sample_sd(list(cross.values()))),
                         f"{fmt.signed(p.mean)} ({fmt.counts(p)})"])
    return fmt.table(["gallery", "method", "trained on CAVIAR (20 ids) R1",
                      "trained on MLR-Market R1", "MLR-Market − CAVIAR (better / worse / tie)"],
                     rows)


def tables(res: Results) -> dict[str, str]:
    return {"cross.caviar": table(res)} if CROSS in res.experiments else {}


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    if CROSS in res.experiments:
        for gallery in ("single", "multi"):
            bf = test_metric(res, CROSS, gallery, BF)
            out |= fmt.paired_values(f"cross.{gallery}.filter",
                                     Paired.of(bf, test_metric(res, CROSS, gallery, PRIOR)))
    return out

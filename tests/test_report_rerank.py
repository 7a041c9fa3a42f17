"""report/heldout.py's re-ranking table and values against hand-made CSV rows: each row is
found by its typed columns, and a gain is the re-ranked row minus the same row before."""

from __future__ import annotations

from pathlib import Path

from rfdreid.report import heldout
from rfdreid.report.data import Results

EXPERIMENT = "rerank_mlr_sing_800"
R1 = {("B-F", "", ""): 40.0, ("B-F+RFD", "filter", "0.1"): 38.0,
      ("B-F + re-ranking", "", ""): 43.0, ("B-F+RFD + re-ranking", "filter", "0.1"): 39.5,
      ("B-F+RFD", "filter", "0.5"): 99.0}  # another λ: must not be read as the 0.1 row


def _rows() -> list[dict[str, str]]:
    return [{"experiment": EXPERIMENT, "gallery": gallery, "queries": queries,
             "method": method, "form": form, "lambda": lam, "lambda_chosen_on": "",
             "split": "0", "draw": "0", "R1": str(r1 + (gallery == "multi") + 30 * bool(queries)),
             "mAP": str(r1 / 2)}
            for (method, form, lam), r1 in R1.items() for gallery in ("single", "multi")
            for queries in ("", "match in another resolution class")]


def test_rerank_values_and_table() -> None:
    res = Results(Path("."), {EXPERIMENT: _rows()})
    values = heldout.values(res)
    assert values[f"heldout.{EXPERIMENT}.single.rerank.bf.R1"] == "+3.0"
    assert values[f"heldout.{EXPERIMENT}.multi.rerank.filter.R1"] == "+1.5"
    assert values[f"heldout.{EXPERIMENT}.multi.rerank.bf.mAP"] == "+1.5"
    table = heldout.tables(res)[heldout.RERANK[EXPERIMENT]]
    assert "| multi | B-F+RFD filter (λ = 0.1) + re-ranking | 40.5 | 19.8 |" in table

"""`python -m rfdreid.report.collect RESULTS_JSON --experiment NAME`: an evaluation's
results.json -> docs/results/NAME.csv (one row per split, draw, gallery, query group and
method) and NAME_validation.csv (the validation curves that --select-lambda chose on).

Why: the results page is generated from these CSVs only (rfdreid.report), so a number on
it is a copy of what `rfdreid evaluate` measured, never retyped.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from rfdreid.workflows.evaluate import Method
from rfdreid.fileio import atomic_write_text

COLUMNS = ("experiment", "dataset", "gallery", "queries", "method", "form", "lambda",
           "lambda_chosen_on", "split", "draw", "seed", "iterations", "precision",
           "R1", "R5", "R10", "mAP", "mINP", "n_queries")
VALIDATION_COLUMNS = ("experiment", "split", "gallery", "form", "lambda", "val_mAP", "chosen")


def _split_name(path: str, index: int) -> str:
    found = re.search(r"split_(\d+)", path)
    return str(int(found.group(1))) if found else str(index)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100.0 * x:.1f}"


def result_rows(payload: dict[str, Any], experiment: str, dataset: str, seed: str,
                iterations: str) -> list[dict[str, str]]:
    """Every (split, draw, gallery, query group, method) of one results.json."""
    repeats = int(payload.get("repeats", 1))
    rows = []
    for i, per in enumerate(payload["per_split"]):
        pair, draw = divmod(i, repeats)
        split = _split_name(payload["splits"][pair], pair)
        precision = payload.get("precision", [{}] * (pair + 1))[pair].get("B-F", "")
        for gallery_key, methods in per.items():
            gallery, _, queries = gallery_key.partition(", ")
            for label, r in methods.items():
                m = Method.parse(label)
                rows.append({
                    "experiment": experiment, "dataset": dataset, "gallery": gallery,
                    "queries": queries,
                    "method": ("B-F" if m.form is None and not m.chosen else "B-F+RFD")
                    + (" + re-ranking" if m.rerank else ""),
                    "form": "" if m.form_chosen else m.form or "",
                    "lambda": f"{m.lam:g}" if m.form and not m.chosen else "",
                    "lambda_chosen_on": "validation" if m.chosen else "",
                    "split": split, "draw": str(draw), "seed": seed, "iterations": iterations,
                    "precision": precision, "R1": _pct(r.get("R1")), "R5": _pct(r.get("R5")),
                    "R10": _pct(r.get("R10")), "mAP": _pct(r["mAP"]), "mINP": _pct(r["mINP"]),
                    "n_queries": str(r["num_valid_queries"]),
                })
    return rows


def validation_rows(payload: dict[str, Any], experiment: str) -> list[dict[str, str]]:
    """The validation curve of every split and gallery, and which candidate was chosen."""
    rows = []
    for pair, chosen in enumerate(payload.get("chosen_lambda") or []):
        if not chosen:
            continue
        split = _split_name(payload["splits"][pair], pair)
        for gallery, c in chosen.items():
            for form, curve in c["curve"].items():
                for lam, v in curve.items():
                    pick = (form == c["form"] and float(lam) == c["lambda"]) or (
                        form == "B-F" and c["lambda"] == 0)
                    rows.append({"experiment": experiment, "split": split, "gallery": gallery,
                                 "form": form, "lambda": lam, "val_mAP": f"{v:.3f}",
                                 "chosen": "yes" if pick else ""})
    return rows


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rfdreid.report.collect", description=__doc__)
    parser.add_argument("results", type=Path, nargs="+", help="results.json file(s), in order")
    parser.add_argument("--experiment", required=True, help="CSV name under docs/results/")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seed", default="0", help="training seed of the runs")
    parser.add_argument("--iterations", default="", help="B-F iterations of the runs")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args(argv)
    rows: list[dict[str, str]] = []
    val: list[dict[str, str]] = []
    for path in args.results:
        payload = json.loads(path.read_text(encoding="utf-8"))
        rows += result_rows(payload, args.experiment, args.dataset, args.seed, args.iterations)
        val += validation_rows(payload, args.experiment)
    atomic_write_text(args.out / f"{args.experiment}.csv", to_csv(rows, COLUMNS))
    if val:
        atomic_write_text(args.out / f"{args.experiment}_validation.csv",
                          to_csv(val, VALIDATION_COLUMNS))
    print(f"wrote {len(rows)} rows ({len(val)} validation) for {args.experiment}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

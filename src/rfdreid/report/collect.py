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

from rfdreid.evaluation.methods import Method
from rfdreid.fileio import atomic_write_text

COLUMNS = ("experiment", "dataset", "gallery", "queries", "method", "form", "lambda",
           "lambda_chosen_on", "split", "draw", "seed", "iterations", "precision",
           "R1", "R5", "R10", "mAP", "mINP", "n_queries")
VALIDATION_COLUMNS = ("experiment", "split", "gallery", "form", "lambda", "val_mAP", "chosen")


def _split_name(payload: dict[str, Any], index: int) -> str:
    """The split number in the pair's protocol file name (a model evaluated on another
    dataset's split) or run folder (`runs/split_03/bf`), else the pair's position."""
    pair = (payload.get("pairs") or [{}] * (index + 1))[index]
    for path in (pair.get("protocol"), payload["splits"][index]):
        found = re.search(r"split_(\d+)", path or "")
        if found:
            return str(int(found.group(1)))
    return str(index)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100.0 * x:.1f}"


def _records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """results.json's typed records; files written before they existed (their rows keyed
    by label only) are read through Method.parse, the one place a label is parsed."""
    if "records" in payload:
        return payload["records"]
    repeats = int(payload.get("repeats", 1))
    out = []
    for i, per in enumerate(payload["per_split"]):
        pair, repeat = divmod(i, repeats)
        for title, methods in per.items():
            gallery, _, queries = title.partition(", ")
            for label, r in methods.items():
                out.append({"pair": pair, "repeat": repeat, "gallery": gallery,
                            "queries": queries, **Method.parse(label).to_record(), **r})
    return out


def _precision(payload: dict[str, Any], pair: int) -> str:
    """B-F's training precision: a name, or the {"value": ...} record of `auto`."""
    p = (payload.get("precision") or [{}] * (pair + 1))[pair].get("B-F", "")
    return str(p.get("value", "")) if isinstance(p, dict) else str(p)


def result_rows(payload: dict[str, Any], experiment: str, dataset: str, seed: str,
                iterations: str) -> list[dict[str, str]]:
    """Every (split, draw, gallery, query group, method) of one results.json."""
    rows = []
    for rec in _records(payload):
        m = Method.from_record(rec)
        pair = rec["pair"]
        rows.append({
            "experiment": experiment, "dataset": dataset, "gallery": rec["gallery"],
            "queries": rec["queries"],
            "method": ("B-F" if m.form is None and not m.chosen else "B-F+RFD")
            + (" + re-ranking" if m.rerank else ""),
            "form": "" if m.form_chosen else m.form or "",
            "lambda": f"{m.lam:g}" if m.form and not m.chosen else "",
            "lambda_chosen_on": "validation" if m.chosen else "",
            "split": _split_name(payload, pair), "draw": str(rec["repeat"]), "seed": seed,
            "iterations": iterations,
            "precision": _precision(payload, pair),
            "R1": _pct(rec.get("R1")), "R5": _pct(rec.get("R5")), "R10": _pct(rec.get("R10")),
            "mAP": _pct(rec["mAP"]), "mINP": _pct(rec["mINP"]),
            "n_queries": str(rec["num_valid_queries"]),
        })
    return rows


def validation_rows(payload: dict[str, Any], experiment: str) -> list[dict[str, str]]:
    """The validation curve of every split and gallery, and which candidate was chosen."""
    rows = []
    for pair, chosen in enumerate(payload.get("chosen_lambda") or []):
        if not chosen:
            continue
        split = _split_name(payload, pair)
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

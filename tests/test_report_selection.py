"""results.json -> docs/results CSVs (report/collect.py) -> selection rules replayed on the
recorded validation curves (report/selection.py), against hand-made numbers."""

from __future__ import annotations

import json
from pathlib import Path

from rfdreid.evaluation.selection import BF, PRIOR
from rfdreid.report import collect, selection, why
from rfdreid.report.data import Results

ROWS = {"B-F": 0.30, "B-F+RFD filter (λ=0.1)": 0.32, "B-F+RFD filter (λ=1)": 0.20,
        "B-F+RFD literal (λ=0.1)": 0.28, "B-F+RFD literal (λ=1)": 0.40}
# validation mAP per split: split 0 prefers literal 1 on both galleries, split 1 prefers
# filter 0.1 on single and B-F on multi (pooled: filter 0.1), split 2 literal 1 by 0.5
CURVES = [
    {"single": {"B-F": 1, "filter": {"0.1": 2, "1": 0}, "literal": {"0.1": 1, "1": 9}},
     "multi": {"B-F": 1, "filter": {"0.1": 2, "1": 0}, "literal": {"0.1": 1, "1": 9}}},
    {"single": {"B-F": 5, "filter": {"0.1": 8, "1": 0}, "literal": {"0.1": 1, "1": 1}},
     "multi": {"B-F": 6, "filter": {"0.1": 5, "1": 0}, "literal": {"0.1": 1, "1": 1}}},
    {"single": {"B-F": 1, "filter": {"0.1": 3, "1": 0}, "literal": {"0.1": 1, "1": 3.5}},
     "multi": {"B-F": 1, "filter": {"0.1": 3, "1": 0}, "literal": {"0.1": 1, "1": 3.5}}},
]


def _metrics(r1: float, split: int) -> dict[str, float]:
    r1 = r1 + split / 100  # splits differ, methods keep their order
    return {"mAP": r1 / 2, "mINP": r1 / 4, "R1": r1, "R5": r1, "R10": r1,
            "num_valid_queries": 7}


def _payload() -> dict:
    per_split, chosen = [], []
    for s, curves in enumerate(CURVES):
        per_split.append({g: {label: _metrics(v, s) for label, v in ROWS.items()}
                          for g in ("single", "multi", "multi, match in another resolution class")})
        chosen.append({g: {"form": "filter", "lambda": 0.1, "val_mAP": 0, "val_mAP_B-F": 0,
                           "curve": {f: ({"0": c} if f == "B-F" else c) for f, c in cv.items()}}
                       for g, cv in curves.items()})
    return {"splits": [f"runs/split_{s:02d}/bf/checkpoint.pt" for s in range(3)],
            "repeats": 1, "precision": [{"B-F": "bf16"}] * 3, "per_split": per_split,
            "chosen_lambda": chosen}


def _results(tmp_path: Path) -> Results:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_payload()))
    out = tmp_path / "docs" / "results"
    assert collect.main([str(path), "--experiment", "caviar_val5", "--dataset", "toy",
                         "--out", str(out)]) == 0
    return Results.load(tmp_path)


def test_collect_keeps_every_row_and_names_the_query_group(tmp_path):
    res = _results(tmp_path)
    rows = res.experiments["caviar_val5"]
    assert len(rows) == 3 * 3 * len(ROWS)
    grouped = res.rows("caviar_val5", gallery="multi", queries="match in another resolution class",
                       split="2", method="B-F+RFD", form="literal", **{"lambda": "1"})
    assert [r["R1"] for r in grouped] == ["42.0"] and grouped[0]["n_queries"] == "7"


def test_rules_replay_on_the_recorded_curves(tmp_path):
    res = _results(tmp_path)
    per_gallery, picks = selection.replay(res, "caviar_val5", "multi",
                                          selection.RULES["per gallery, both forms"])
    assert picks == [("literal", 1.0), BF, ("literal", 1.0)]
    assert per_gallery == {("0", "0"): 40.0, ("1", "0"): 31.0, ("2", "0"): 42.0}
    _, pooled = selection.replay(res, "caviar_val5", "multi",
                                 selection.RULES["pooled over galleries, both forms"])
    assert pooled == [("literal", 1.0), PRIOR, ("literal", 1.0)]
    _, prior = selection.replay(res, "caviar_val5", "multi",
                                selection.RULES["prior at filter 0.1 (leave it for +1 val mAP)"])
    assert prior == [("literal", 1.0), PRIOR, PRIOR]  # split 2 gains only 0.5 on validation
    _, filter_only = selection.replay(res, "caviar_val5", "single",
                                      selection.RULES["per gallery, filter only"])
    assert filter_only == [PRIOR, PRIOR, PRIOR]


def test_tables_pair_against_the_fixed_filter_setting(tmp_path):
    res = _results(tmp_path)
    text = selection.table(res, "caviar_val5", "multi")
    # split s adds s points to every row: literal 0.1 loses 4 to filter 0.1 on every
    # split, B-F 2; per gallery picks l1 (+8), B-F (-2), l1 (+8)
    assert "| literal, λ = 0.1 (fixed) | 29.0 ± 1.0 | −4.0 (0 / 3 / 0) |" in text
    assert "| B-F | 31.0 ± 1.0 | −2.0 (0 / 3 / 0) |" in text
    assert "| per gallery, both forms | 37.7 ± 5.9 | +4.7 (2 / 1 / 0) | l1 B-F l1 |" in text
    groups = why.class_table(res, "caviar_val5")
    assert "| multi | match in another resolution class | 21 | 31.0 ± 1.0 | 33.0 ± 1.0 |" in groups
    assert "same resolution class" not in groups  # no query of that group

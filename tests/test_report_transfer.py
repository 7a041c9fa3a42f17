"""report/transfer.py against hand-made CSV rows: a transfer table pairs the target-trained
rows with the transferred ones by split, reads the first draw only, and gives counts and a
sign test only where there is more than one split."""

from __future__ import annotations

from pathlib import Path

from rfdreid.report import transfer
from rfdreid.report.data import Results

METHODS = {("B-F", "", ""): 0.0, ("B-F+RFD", "filter", "0.1"): 1.0,
           ("B-F+RFD", "literal", "0.1"): -2.0}


def _rows(experiment: str, base: dict[str, float], draws: int = 1) -> list[dict[str, str]]:
    """R1 = base[split] + the method's offset (+ 50 on draws after the first, which a
    table must ignore)."""
    out = []
    for split, r1 in base.items():
        for draw in range(draws):
            for (method, form, lam), offset in METHODS.items():
                for gallery in ("single", "multi"):
                    out.append({"experiment": experiment, "gallery": gallery, "queries": "",
                                "method": method, "form": form, "lambda": lam,
                                "split": split, "draw": str(draw), "seed": "0",
                                "R1": str(r1 + offset + 50 * draw)})
    return out


def test_duke_cross_table_one_split_no_sign_test() -> None:
    res = Results(Path("."), {transfer.DUKE_HOME: _rows(transfer.DUKE_HOME, {"0": 40.0}, draws=3),
                              transfer.CROSS_DUKE: _rows(transfer.CROSS_DUKE, {"0": 15.0})})
    table = transfer.tables(res)["transfer.cross_duke"]
    assert "| single | B-F | 40.0 | 15.0 | −25.0 |" in table
    assert "| multi | filter 0.1 | 41.0 | 16.0 | −25.0 |" in table
    assert "p =" not in table and "better / worse" not in table
    values = transfer.values(res)
    assert values["transfer.cross_duke.multi.home"] == "40.0"
    assert values["transfer.cross_duke.multi.filter.mean"] == "+1.0"


def test_caviar_cross_table_paired_by_split() -> None:
    home = {"0": 30.0, "1": 34.0, "2": 32.0}
    res = Results(Path("."), {transfer.HOME: _rows(transfer.HOME, home),
                              transfer.CROSS: _rows(transfer.CROSS, {"0": 10.0, "1": 9.0, "2": 12.0})})
    table = transfer.tables(res)["transfer.cross"]
    # differences 10 - 30, 9 - 34, 12 - 32: mean -21.7, worse on all 3 (sign test p = 0.25)
    assert "| single | B-F | 32.0 ± 2.0 | 10.3 ± 1.5 | −21.7 (0 / 3 / 0, p = 0.25) |" in table
    assert "difference (better / worse / tie)" in table

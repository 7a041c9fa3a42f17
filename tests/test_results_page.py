"""docs/results.md and README's result spans must equal what `python -m rfdreid.report`
generates from docs/results/*.csv, so a stale number cannot land; the statistics are
checked against hand-computed values."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from rfdreid.report.__main__ import main
from rfdreid.report.render import first_difference, generated, refresh_spans
from rfdreid.evaluation.sign_test import sign_test_p
from rfdreid.report.stats import Paired, sample_sd

ROOT = Path(__file__).resolve().parents[1]


def test_page_and_readme_are_generated() -> None:
    for path, wanted in generated(ROOT).items():
        diff = first_difference(path, (ROOT / path).read_text(encoding="utf-8"), wanted)
        assert diff is None, diff + "\nrun `python -m rfdreid.report`"


def test_check_fails_on_a_stale_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # tests/ and pyproject.toml: README's robustness figures count tests/robustness there
    for rel in ("docs/results", "docs/img", "docs/results.template.md", "docs/results.md",
                "README.md", "pyproject.toml", "tests"):
        src, dst = ROOT / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dst.write_bytes(src.read_bytes())
    assert main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / "docs/results.md"
    page.write_text(page.read_text(encoding="utf-8").replace("on 8\nof 10 splits", "on 9\nof 10 splits"))
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert "docs/results.md:" in capsys.readouterr().err


def test_sign_test_against_hand_values() -> None:
    assert sign_test_p(8, 1) == pytest.approx(2 * (1 + 9) / 2**9)  # 0.0390625
    assert sign_test_p(8, 1) == pytest.approx(0.0390625)
    assert sign_test_p(10, 0) == pytest.approx(2 / 1024)
    assert sign_test_p(9, 1) == pytest.approx(2 * 11 / 1024)
    assert sign_test_p(3, 3) == 1.0
    assert sign_test_p(0, 0) == 1.0


def test_sample_sd_and_paired_counts() -> None:
    assert sample_sd([1.0, 2.0, 3.0, 4.0]) == pytest.approx(math.sqrt(5 / 3))  # squares 2.25+.25+.25+2.25
    paired = Paired.of({("0", "0"): 30.0, ("1", "0"): 22.4, ("2", "0"): 31.2},
                       {("0", "0"): 28.8, ("1", "0"): 26.8, ("2", "0"): 31.2})
    assert (paired.better, paired.worse, paired.ties) == (1, 1, 1)
    assert paired.mean == pytest.approx((-1.2 + 4.4 + 0.0) / 3)


def test_readme_spans_are_replaced_in_place() -> None:
    text = "R1 <!-- value:a -->+3.3<!-- /value --> on <!-- value:b -->9<!-- /value --> of 10"
    assert refresh_spans(text, {"a": "+3.3", "b": "8"}) == text.replace("-->9<", "-->8<")
    with pytest.raises(KeyError):
        refresh_spans(text, {"a": "+3.3"})

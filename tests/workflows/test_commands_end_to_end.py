"""`rfdreid demo` and `rfdreid reproduce` end to end (in-process), with a few iterations
only."""

from __future__ import annotations

import json

FAST = ["--set", "train.iterations=3", "--set", "train.checkpoint_every=2",
        "--set", "data.height=64", "--set", "data.width=32"]


def test_demo_prints_both_galleries_with_and_without_rfd(cli, tmp_path):
    res = cli("demo", "--out", tmp_path, *FAST)
    assert res.code == 0, res.err[-2000:]
    for title in ("single-resolution gallery", "multi-resolution gallery"):
        assert title in res.out
    assert res.out.count("| B-F |") == 2
    assert res.out.count("| B-F+RFD filter (λ=0.1) |") == 2
    assert res.out.count("| B-F+RFD literal (λ=0.1) |") == 2
    results = json.loads((tmp_path / "runs" / "eval" / "results.json").read_text())
    assert set(results["summary"]) == {"single", "multi"}


def test_reproduce_caviar_one_split(cli, caviar_root, tmp_path):
    res = cli("reproduce", "caviar", "--root", caviar_root, "--out", tmp_path, "--splits", "3",
              *FAST)
    assert res.code == 0, res.err[-2000:]
    assert (tmp_path / "runs" / "split_03" / "br" / "checkpoint.pt").is_file()
    assert "| B-F+RFD filter (λ=0.5) |" in res.out  # the recipe's λ sweep
    assert len(list((tmp_path / "prepared").glob("split_*.json"))) == 10


def test_reproduce_unknown_recipe_is_one_line(cli, tmp_path):
    cli("reproduce", "nope", "--root", tmp_path, "--out", tmp_path).assert_one_line_error(
        "caviar")

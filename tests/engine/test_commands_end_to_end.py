"""`rfdreid demo` and `rfdreid reproduce` end to end, with a few iterations only."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FAST = ["--set", "train.iterations=3", "--set", "train.checkpoint_every=2",
        "--set", "data.height=64", "--set", "data.width=32"]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "rfdreid", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_demo_prints_both_galleries_with_and_without_rfd(tmp_path):
    proc = _run("demo", "--out", str(tmp_path), *FAST)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for title in ("single-resolution gallery", "multi-resolution gallery"):
        assert title in proc.stdout
    assert proc.stdout.count("| B-F |") == 2
    assert proc.stdout.count("| B-F+RFD filter (λ=0.1) |") == 2
    assert proc.stdout.count("| B-F+RFD literal (λ=0.1) |") == 2
    results = json.loads((tmp_path / "runs" / "eval" / "results.json").read_text())
    assert set(results["summary"]) == {"single", "multi"}


def test_reproduce_caviar_one_split(caviar_root, tmp_path):
    proc = _run("reproduce", "caviar", "--root", str(caviar_root), "--out", str(tmp_path),
                "--splits", "3", *FAST)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "runs" / "split_03" / "br" / "checkpoint.pt").is_file()
    assert "| B-F+RFD filter (λ=0.5) |" in proc.stdout  # the recipe's λ sweep
    assert len(list((tmp_path / "prepared").glob("split_*.json"))) == 10


def test_reproduce_unknown_recipe_is_one_line(tmp_path):
    proc = _run("reproduce", "nope", "--root", str(tmp_path), "--out", str(tmp_path))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "caviar" in proc.stderr

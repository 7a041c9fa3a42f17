"""Evaluation driver: both galleries, B-F and B-F+RFD rows, cached features, CLI errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rfdreid.config import EvalConfig, load_config
from rfdreid.engine import evaluate
from rfdreid.engine.trainer import train

from tiny import TINY_OVERRIDES


@pytest.fixture
def trained_pair(tiny_protocol, tmp_path):
    paths = {}
    for kind, task in (("bf", "id"), ("br", "resolution")):
        cfg = load_config(None, [*TINY_OVERRIDES, "train.iterations=2", f"train.task={task}",
                                 f"data.protocol={tiny_protocol}",
                                 f"train.out_dir={tmp_path / 'split_00' / kind}"])
        paths[kind] = train(cfg, progress=False)
    return evaluate.RunPair(bf=paths["bf"], br=paths["br"])


def test_tables_for_both_galleries_and_cache(trained_pair, tmp_path, monkeypatch):
    ecfg = EvalConfig(lambda_sweep=[0.5])
    table, md = evaluate.evaluate_runs([trained_pair], ecfg, out_dir=tmp_path / "eval",
                                       progress=False)
    assert set(table) == {"single", "multi"}
    assert list(table["multi"]) == ["B-F", "B-F+RFD", "B-F+RFD (λ=0.5)"]
    for row in table["single"].values():
        assert 0 <= row["r1"]["mean"] <= row["r5"]["mean"] <= row["r10"]["mean"] <= 100
    assert "| B-F+RFD |" in md
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["init"] == [{"B-F": "random init", "B-R": "random init"}]

    def no_extraction(*a, **k):
        raise AssertionError("features should come from the cache")

    monkeypatch.setattr(evaluate, "extract_features", no_extraction)
    again, _ = evaluate.evaluate_runs([trained_pair], ecfg, progress=False)
    assert again == table


def test_without_br_only_bf_row(trained_pair):
    res = evaluate.evaluate_pair(evaluate.RunPair(bf=trained_pair.bf), EvalConfig(),
                                 progress=False)
    assert list(res["single"]) == [0.0]


def test_cli_swapped_checkpoints_one_line_error(trained_pair):
    proc = subprocess.run(
        [sys.executable, "-m", "rfdreid", "evaluate", "--bf", str(trained_pair.br)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "B-R checkpoint" in proc.stderr


def test_gallery_specific_queries_are_used(trained_pair, tiny_protocol):
    from dataclasses import replace

    from rfdreid.data.records import Protocol

    p = Protocol.load(tiny_protocol)
    replace(p, gallery_queries={"multi": p.query[:2]}).save(tiny_protocol)
    res = evaluate.evaluate_pair(trained_pair, EvalConfig(), progress=False)
    assert res["multi"][0.0].num_valid_queries == 2
    assert res["single"][0.0].num_valid_queries == len(p.query)


def test_paired_gain_and_sign_test():
    import numpy as np

    from rfdreid.evaluation import RankResult

    def split(bf_r1, rfd_r1):
        def res(r1):
            return RankResult(cmc=np.array([r1] * 10), mAP=r1, mINP=r1, num_valid_queries=1)
        return {"multi": {0.0: res(bf_r1), 0.1: res(rfd_r1)}}

    splits = [split(0.5, 0.6)] * 6 + [split(0.5, 0.4)]
    line = evaluate.paired_r1_gain(splits, "multi", 0.1)
    # gains: six +10, one -10 -> mean +7.1; two-sided sign test p = 2 * (1 + 7) / 128
    assert "+7.1" in line and "better on 6, worse on 1 of 7" in line and "p = 0.12" in line

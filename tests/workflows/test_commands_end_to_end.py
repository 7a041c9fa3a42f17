"""`rfdreid demo` and `rfdreid reproduce` end to end (in-process), with a few iterations
only."""

from __future__ import annotations

import json

from data.conftest import fake_caviar, fake_market  # noqa: F401  (fake datasets)

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


def test_reproduce_prepares_with_prepares_default_variant(cli, fake_market, fake_caviar,
                                                          tmp_path, monkeypatch):
    """Without --mlr-variant the MLR recipes prepare SING's construction (the default) and
    the CAVIAR recipes prepare as ever (no variant applies to them); naming one for CAVIAR
    is one line. Training and evaluation are stubbed: only the protocols are checked."""
    from rfdreid.data.records import Protocol
    from rfdreid.workflows import reproduce

    monkeypatch.setattr(reproduce, "run_experiment",
                        lambda protocols, *args, **kwargs: f"{len(protocols)} protocol(s)")
    for variant, extra in (("sing", []), ("per-image", ["--mlr-variant", "per-image"])):
        out = tmp_path / f"mlr-{variant}"
        res = cli("reproduce", "mlr-market", "--root", fake_market, "--out", out, *extra)
        assert res.code == 0, res.err[-2000:]
        assert Protocol.load(out / "prepared" / "protocol.json").mlr_variant == variant
    caviar = fake_caviar(two_cam=4, one_cam=0)
    res = cli("reproduce", "caviar", "--root", caviar, "--out", tmp_path / "cav", "--splits", "0")
    assert res.code == 0, res.err[-2000:]
    assert "1 protocol(s)" in res.out
    assert len(list((tmp_path / "cav" / "prepared").glob("split_*.json"))) == 10
    cli("reproduce", "caviar", "--root", caviar, "--out", tmp_path / "cav-sing", "--mlr-variant",
        "sing").assert_one_line_error("--mlr-variant sing applies to MLR protocols")

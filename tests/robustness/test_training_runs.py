"""Rows 2-12: diverged runs, concurrent writers, kills, log.csv damage, resume changes,
stale temp files and bad config values, as `rfdreid train` meets them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from rfdreid.config import load_config
from rfdreid.training import trainer
from rfdreid.training.checkpoint import load_checkpoint, non_finite_tensors, read_trained_model
from rfdreid.training.runlock import run_lock

from clirun import train_args
from tiny import TINY_OVERRIDES


def _trained_run(cli, protocol: Path, out: Path, *overrides: str) -> dict:
    result = cli(*train_args(protocol, out, "train.iterations=2", *overrides))
    assert result.code == 0, result.err
    return load_checkpoint(out / "checkpoint.pt")


def test_diverging_fresh_run_exits_non_zero_naming_the_iteration(cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    res = cli(*train_args(tiny_protocol, out, "train.lr=1e20"))
    res.assert_one_line_error("diverged", "at iteration", "no checkpoint was written")
    assert not (out / "checkpoint.pt").exists()


def test_diverging_resume_keeps_the_last_good_checkpoint(cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    good = _trained_run(cli, tiny_protocol, out)
    res = cli(*train_args(tiny_protocol, out, "train.iterations=8", "train.lr=1e20"),
              "--resume")
    assert res.code == 1 and "Traceback" not in res.err
    error = res.err.strip().splitlines()[-1]  # after the "resume: applying ..." notes
    assert error.startswith("error: training diverged") and "at iteration" in error
    assert f"{out / 'checkpoint.pt'} is kept" in error
    kept = load_checkpoint(out / "checkpoint.pt")
    assert kept["iteration"] == 2 and not non_finite_tensors(kept["model"])
    assert all((kept["model"][k] == v).all() for k, v in good["model"].items())


def test_second_writer_is_refused_naming_the_holder(cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    with run_lock(out):
        res = cli(*train_args(tiny_protocol, out))
    res.assert_one_line_error(str(out), "being written by pid")
    assert not (out / "checkpoint.pt").exists() and not (out / "log.csv").exists()
    assert cli(*train_args(tiny_protocol, out, "train.iterations=1")).code == 0  # released


def _log_iterations(out: Path) -> list[int]:
    return [int(r.split(",")[0]) for r in (out / "log.csv").read_text().split()[1:]]


def test_resumed_run_killed_before_its_first_row_keeps_the_log(
        cli, tiny_protocol, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _trained_run(cli, tiny_protocol, out)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "_train_step", killed)
    cfg = load_config(None, [*TINY_OVERRIDES, f"data.protocol={tiny_protocol}",
                             f"train.out_dir={out}", "train.iterations=4"])
    with pytest.raises(KeyboardInterrupt):
        trainer.train(cfg, resume=True, progress=False)
    assert _log_iterations(out) == [1, 2]


@pytest.mark.parametrize("damage", ["\n\n", "junk,,\n", "3,0.0002,1.0", "\x00\x00\n"])
def test_damaged_log_does_not_block_resume(damage, cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    _trained_run(cli, tiny_protocol, out)
    with (out / "log.csv").open("a") as f:
        f.write(damage)
    res = cli(*train_args(tiny_protocol, out, "train.iterations=3"), "--resume")
    assert res.code == 0, res.err
    assert _log_iterations(out) == [1, 2, 3]


def test_resume_applies_and_records_a_new_lr(cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    _trained_run(cli, tiny_protocol, out)
    res = cli(*train_args(tiny_protocol, out, "train.iterations=3", "train.lr=0.1"),
              "--resume")
    assert res.code == 0 and "train.lr 0.0002 -> 0.1" in res.err, res.err
    state = load_checkpoint(out / "checkpoint.pt")
    group = state["optimizer"]["param_groups"][0]  # decayed x0.1 after iteration 1 of 3
    assert group["lr"] == pytest.approx(0.01)
    assert any("train.lr" in c for c in state["resume_changes"])
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["lr"] == 0.1
    assert (out / "log.csv").read_text().splitlines()[-1].split(",")[1] == "0.01"


@pytest.mark.parametrize("change, fragment", [
    ("model.embed_dim=48", "model.embed_dim 256 -> 48"),
    ("model.backbone=mobilenetv2", "model.backbone 'resnet18' -> 'mobilenetv2'"),
    ("train.margin=0.5", "train.margin 0.3 -> 0.5"),
])
def test_resume_refuses_other_changes_with_a_diff(change, fragment, cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    before = _trained_run(cli, tiny_protocol, out)
    res = cli(*train_args(tiny_protocol, out, "train.iterations=3", change), "--resume")
    res.assert_one_line_error(str(out / "checkpoint.pt"), fragment)
    assert load_checkpoint(out / "checkpoint.pt")["iteration"] == before["iteration"]


def test_stale_temp_checkpoints_are_removed_at_start(cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    _trained_run(cli, tiny_protocol, out)
    stale = [out / ".checkpoint.pt.abc123", out / ".log.csv.x9"]
    for f in stale:
        f.write_bytes(b"\x00" * 1000)
    assert cli(*train_args(tiny_protocol, out, "train.iterations=3"), "--resume").code == 0
    assert not any(f.exists() for f in stale)


@pytest.mark.parametrize("override, key", [
    ("train.iterations=-5", "train.iterations"),
    ("train.iterations=0", "train.iterations"),
    ("train.iterations=2.7", "train.iterations"),
    ("data.height=0", "data.height"),
    ("data.width=-3", "data.width"),
    ("train.lr=-1", "train.lr"),
    ("train.lr=nan", "train.lr"),
    ("train.num_instances=0", "train.num_instances"),
    ("train.checkpoint_every=0", "train.checkpoint_every"),
    ("train.log_every=0", "train.log_every"),
    ("data.workers=-1", "data.workers"),
    ("eval.batch_size=0", "eval.batch_size"),
    ("data.flip_p=7", "data.flip_p"),
    ("train.task=colour", "train.task"),
    ("model.attention=maybe", "model.attention"),
])
def test_bad_config_value_is_one_line_and_writes_nothing(override, key, cli, tiny_protocol,
                                                        tmp_path):
    out = tmp_path / "run"
    cli(*train_args(tiny_protocol, out, override)).assert_one_line_error(key)
    assert not out.exists()


def test_integers_stay_integers():
    assert load_config(None, ["train.iterations=3.0"]).train.iterations == 3
    assert not math.isnan(load_config(None, ["train.lr=1e-3"]).train.lr)


@pytest.mark.parametrize("text, line", [
    ("train:\n  lr: [1,\n", 3),
    ("train:\n\tlr: 0.1\n", 2),
    ("train: {lr: 0.1\n", 2),
])
def test_broken_preset_yaml_names_file_and_line(text, line, cli, tiny_protocol, tmp_path):
    preset = tmp_path / "broken.yaml"
    preset.write_text(text)
    res = cli("train", "--preset", preset, "--protocol", tiny_protocol, "--out", tmp_path / "r")
    res.assert_one_line_error(f"{preset} line {line}")


def test_export_refuses_a_zero_height(cli, trained):
    res = cli("export", "--checkpoint", trained.bf, "--height", "0")
    res.assert_one_line_error("--height", "greater than or equal to 1")


def test_resume_of_a_checkpoint_older_than_a_config_key(cli, tiny_protocol, tmp_path):
    """Keys added since (schedule, warm-up, head lr) default to the old behaviour: no diff."""
    out = tmp_path / "run"
    _trained_run(cli, tiny_protocol, out)
    state = load_checkpoint(out / "checkpoint.pt")
    for key in ("lr_schedule", "warmup_iters", "head_lr_mult"):
        del state["config"]["train"][key]
    torch.save(state, out / "checkpoint.pt")
    res = cli(*train_args(tiny_protocol, out, "train.iterations=3"), "--resume")
    assert res.code == 0, res.err
    assert load_checkpoint(out / "checkpoint.pt")["iteration"] == 3


def test_checkpoint_from_before_train_precision_resumes_in_fp32(cli, tiny_protocol, tmp_path):
    """Checkpoints older than the key trained in fp32: that is what they resume as and
    report, not today's default `auto` (bf16 on an AMX machine)."""
    out = tmp_path / "run"
    _trained_run(cli, tiny_protocol, out)
    state = load_checkpoint(out / "checkpoint.pt")
    del state["config"]["train"]["precision"], state["precision"]
    torch.save(state, out / "checkpoint.pt")
    assert read_trained_model(out / "checkpoint.pt").precision["value"] == "fp32"
    res = cli(*train_args(tiny_protocol, out, "train.iterations=3"), "--resume")
    assert res.code == 0, res.err
    assert load_checkpoint(out / "checkpoint.pt")["precision"]["value"] == "fp32"

"""Training end to end on a tiny protocol: runs, logs, resumes exactly, runs under DDP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch

from rfdreid.config import load_config
from rfdreid.training import trainer
from rfdreid.training.checkpoint import load_checkpoint, read_trained_model
from rfdreid.errors import ReIDError

from tiny import TINY_OVERRIDES


def _cfg(protocol, out, *extra):
    return load_config(None, [*TINY_OVERRIDES, f"data.protocol={protocol}",
                              f"train.out_dir={out}", *extra])


def test_train_writes_checkpoint_log_and_config(tiny_protocol, tmp_path):
    path = trainer.train(_cfg(tiny_protocol, tmp_path / "bf"), progress=False)
    state = load_checkpoint(path)
    assert state["iteration"] == 4 and state["num_classes"] == 6
    assert state["init"] == read_trained_model(path).init == "random init"
    rows = (tmp_path / "bf" / "log.csv").read_text().splitlines()
    assert rows[0].startswith("iteration") and len(rows) == 5
    assert (tmp_path / "bf" / "config.yaml").is_file()
    # lr divided by 10 at half of the schedule
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(2e-5)
    with pytest.raises(ReIDError, match="--resume"):
        trainer.train(_cfg(tiny_protocol, tmp_path / "bf"), progress=False)


def test_resolution_task_uses_resolution_classes(tiny_protocol, tmp_path):
    path = trainer.train(_cfg(tiny_protocol, tmp_path / "br", "train.task=resolution"),
                         progress=False)
    trained = read_trained_model(path, expect_kind="B-R")
    assert trained.num_classes == 4
    with pytest.raises(ReIDError, match="B-R checkpoint"):
        read_trained_model(path, expect_kind="B-F")


def test_resume_after_interruption_matches_uninterrupted(tiny_protocol, tmp_path, monkeypatch):
    full = load_checkpoint(trainer.train(_cfg(tiny_protocol, tmp_path / "a"), progress=False))

    real_step, calls = trainer._train_step, []

    def dying_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # killed during iteration 4; last checkpoint is iteration 2
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(trainer, "_train_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(_cfg(tiny_protocol, tmp_path / "b"), progress=False)
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["iteration"] == 2
    monkeypatch.setattr(trainer, "_train_step", real_step)
    resumed = load_checkpoint(
        trainer.train(_cfg(tiny_protocol, tmp_path / "b"), resume=True, progress=False))
    assert resumed["iteration"] == 4
    logged = [int(r.split(",")[0]) for r in (tmp_path / "b" / "log.csv").read_text().split()[1:]]
    assert logged == [1, 2, 3, 4]  # row 3 of the killed run was replaced, not repeated
    mtime = (tmp_path / "b" / "checkpoint.pt").stat().st_mtime_ns
    trainer.train(_cfg(tiny_protocol, tmp_path / "b"), resume=True, progress=False)
    assert (tmp_path / "b" / "checkpoint.pt").stat().st_mtime_ns == mtime  # finished: untouched
    for k, v in full["model"].items():
        assert torch.equal(v, resumed["model"][k]), k


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_loss(out) -> float:
    return float((out / "log.csv").read_text().splitlines()[1].split(",")[2])


def test_two_process_gloo_ddp_averages_both_ranks(tiny_protocol, tmp_path):
    """Rank 0 draws the single-process batches and rank 1 others, and DDP averages their
    gradients: so the first logged loss (rank 0, before any update) equals the single run's,
    while the final weights differ from it (a run ignoring rank 1 would equal it)."""
    out = tmp_path / "ddp"
    overrides = [*TINY_OVERRIDES, "train.iterations=3"]
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        f"--master_port={_free_port()}", "-m", "rfdreid", "train",
        "--protocol", str(tiny_protocol), "--out", str(out),
        *[a for o in overrides for a in ("--set", o)],
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    ddp = load_checkpoint(out / "checkpoint.pt")
    assert ddp["iteration"] == 3
    single = load_checkpoint(trainer.train(_cfg(tiny_protocol, tmp_path / "one",
                                                "train.iterations=3"), progress=False))
    assert _first_loss(out) == pytest.approx(_first_loss(tmp_path / "one"), abs=2e-5)
    assert any(not torch.allclose(v.float(), single["model"][k].float())
               for k, v in ddp["model"].items() if v.is_floating_point())


def test_missing_protocol_is_a_clear_error(tmp_path):
    with pytest.raises(ReIDError, match="--protocol"):
        trainer.train(load_config(None, [f"train.out_dir={tmp_path}"]), progress=False)


def test_paper_backbone_from_random_weights_warns_once(tiny_protocol, tmp_path, capsys):
    cfg = _cfg(tiny_protocol, tmp_path / "r50", "model.backbone=resnet50", "train.iterations=1")
    path = trainer.train(cfg, progress=False)
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "--set model.pretrained=/path/to/resnet50.pth" in err
    assert read_trained_model(path).init == "random init"


class _LossBuilt(Exception):
    """Raised by the ReIDLoss spy to stop training right after the loss is built."""


def test_trainer_hands_cfg_train_margin_to_the_triplet_loss(tiny_protocol, tmp_path, monkeypatch):
    """Kills: trainer passing margin 0 (or any constant) instead of cfg.train.margin."""
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("margin", args[0] if args else None))
        raise _LossBuilt

    monkeypatch.setattr(trainer, "ReIDLoss", spy)
    with pytest.raises(_LossBuilt):
        trainer.train(_cfg(tiny_protocol, tmp_path / "m", "train.margin=0.37"), progress=False)
    assert seen == [0.37]

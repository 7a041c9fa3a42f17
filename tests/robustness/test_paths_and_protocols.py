"""Issue 23: paths land exactly where they say (never re-read as YAML), a bad protocol
file is refused field by field before the run folder is written, and a checkpoint finds
its protocol from any working folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from rfdreid.config import load_config
from rfdreid.training import trainer
from rfdreid.workflows import experiment
from rfdreid.training.checkpoint import load_checkpoint

from clirun import train_args
from oracles import snapshot

# Each of these is a YAML value of another type, a YAML comment or a YAML syntax error.
ODD_NAMES = ["runs/exp #2", "true", "010", "null", "off", "0x1F", "a: b", "[x]", "@x", "*x",
             "!x", "%x", "`x`", 'say "hi"', "it's: here"]


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list:
    """The configs `rfdreid train` (and train_pair) would train, without training."""
    configs: list = []

    def fake_train(cfg, resume: bool = False, progress: bool = True, **_: object) -> Path:
        configs.append(cfg)
        return Path(cfg.train.out_dir) / "checkpoint.pt"

    monkeypatch.setattr(trainer, "train", fake_train)
    monkeypatch.setattr(experiment, "train", fake_train)
    return configs


@pytest.mark.parametrize("option, name", [
    *(("--out", n) for n in ODD_NAMES),
    ("--protocol", "@p.json"), ("--protocol", "pd #1/protocol.json"),
])
def test_odd_names_reach_the_config_exactly(option, name, cli, captured):
    args = {"--protocol": "protocol.json", "--out": "run", option: name}
    res = cli("train", "--protocol", args["--protocol"], "--out", args["--out"])
    assert res.code == 0, res.err
    [cfg] = captured
    assert (cfg.data.protocol, cfg.train.out_dir) == (args["--protocol"], args["--out"])


def test_experiment_paths_are_not_yaml(captured):
    bf, br = load_config("demo_bf"), load_config("demo_br")
    experiment.train_pair(Path("pd #1/protocol.json"), Path("runs/exp #2"), bf, br)
    assert [(c.data.protocol, c.train.out_dir) for c in captured] == [
        ("pd #1/protocol.json", "runs/exp #2/bf"), ("pd #1/protocol.json", "runs/exp #2/br")]


def test_training_into_a_folder_named_with_a_hash(cli, tiny_protocol, tmp_path):
    protocol = tmp_path / "pd #1" / "protocol.json"
    protocol.parent.mkdir()
    shutil.copy(tiny_protocol, protocol)
    before = snapshot(tmp_path)
    res = cli(*train_args(Path("pd #1/protocol.json"), Path("runs/exp #2"), "train.iterations=1"))
    assert res.code == 0, res.err
    assert (tmp_path / "runs" / "exp #2" / "checkpoint.pt").is_file()
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert all(k == "runs" or k.startswith("runs/exp #2") for k in after.keys() - before.keys())
    stored = load_checkpoint(tmp_path / "runs" / "exp #2" / "checkpoint.pt")["config"]
    assert stored["data"]["protocol"] == str(protocol)  # absolute, as the file really is


def test_set_value_that_is_broken_yaml_is_one_line(cli, tiny_protocol, tmp_path):
    out = tmp_path / "run"
    cli(*train_args(tiny_protocol, out, "train.lr=[1,")).assert_one_line_error("train.lr=[1,")
    assert not out.exists()


def test_lambda_sweep_that_is_broken_yaml_is_one_line(cli, trained, tmp_path):
    out = tmp_path / "eval"
    cli("evaluate", "--bf", trained.bf, "--lambda-sweep", "[0.1,",
        "--out", out).assert_one_line_error("[0.1,")
    assert not out.exists()


def _edit(key: str, index: int, field: str, value: object):
    def edit(d: dict) -> dict:
        records = d["galleries"]["single"] if key == "galleries.single" else d[key]
        records[index][field] = value
        return d
    return edit


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: {**d, "galleries": []}, "galleries must be an object"),
    (lambda d: "a protocol", "must be a JSON object, got 'a protocol'"),
    (_edit("train", 3, "factor", 0), "train[3].factor must be >= 1, got 0"),
    (_edit("train", 3, "factor", -2), "train[3].factor must be >= 1, got -2"),
    (_edit("galleries.single", 3, "pid", "0"),
     "galleries.single[3].pid must be an integer, got '0'"),
    (_edit("train", 1, "res_label", 99), "train[1].res_label must be in 0..3, got 99"),
    (_edit("query", 0, "pid", 99999999999999999999999), "query[0].pid must fit in 64 bits"),
    (_edit("train", 0, "pid", 40), "train[0].pid is 40, but the 7 training ids must be numbered 0..6"),
])
def test_hand_edited_protocol_is_refused_before_the_run_folder(edit, fragment, cli, tiny_protocol,
                                                               tmp_path):
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(edit(json.loads(tiny_protocol.read_text()))))
    out = tmp_path / "run"
    cli(*train_args(bad, out)).assert_one_line_error(str(bad), fragment, "rfdreid prepare")
    assert not (out / "config.yaml").exists() and not (out / "log.csv").exists()
    assert not out.exists()


def test_binary_file_as_protocol_is_one_line(cli, tiny_protocol, tmp_path):
    binary = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(4)}, binary)
    out = tmp_path / "run"
    cli(*train_args(binary, out)).assert_one_line_error(str(binary), "is not JSON text",
                                                        "protocol.json")
    assert not out.exists()


def test_evaluate_finds_the_protocol_from_another_folder_and_after_a_move(
        cli, tiny_protocol, tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(tiny_protocol, project / "protocol.json")
    monkeypatch.chdir(project)  # trained with paths relative to the project folder
    assert cli(*train_args(Path("protocol.json"), Path("run/bf"), "train.iterations=1")).code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    first = cli("evaluate", "--bf", project / "run" / "bf" / "checkpoint.pt")
    assert first.code == 0, first.err
    moved = project.rename(tmp_path / "moved")  # the stored absolute path is gone now
    again = cli("evaluate", "--bf", moved / "run" / "bf" / "checkpoint.pt")
    assert again.code == 0, again.err
    table = [line for line in first.out.splitlines() if "|" in line]
    assert table and table == [line for line in again.out.splitlines() if "|" in line]

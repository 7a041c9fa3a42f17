"""Rows 1, 16, 17 and the NaN half of row 2: checkpoints and caches that must not be trusted."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from rfdreid.api import ReIDModel
from rfdreid.training.checkpoint import FORMAT, load_checkpoint
from rfdreid.errors import ReIDError

from clirun import Trained


class _Payload:
    """Unpickling this runs `touch MARKER`: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _malicious(tmp_path: Path, trained: Trained) -> tuple[Path, Path]:
    marker = tmp_path / "payload-ran"
    state = load_checkpoint(trained.bf)
    state["config"] = _Payload(marker)
    path = tmp_path / "run" / "bf" / "checkpoint.pt"
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    return path, marker


@pytest.mark.parametrize("command", ["evaluate", "search", "export", "train-resume"])
def test_malicious_checkpoint_runs_nothing(command, cli, trained, tmp_path):
    path, marker = _malicious(tmp_path, trained)
    args = {
        "evaluate": ["evaluate", "--bf", path],
        "search": ["search", trained.images / "6_0_0.jpg", "--gallery", trained.images,
                   "--bf", path],
        "export": ["export", "--checkpoint", path],
        "train-resume": ["train", "--protocol", trained.protocol, "--out", path.parent,
                         "--resume"],
    }[command]
    cli(*args).assert_one_line_error(str(path), "would run code")
    assert not marker.exists()


def test_malicious_checkpoint_in_the_api_runs_nothing(trained, tmp_path):
    path, marker = _malicious(tmp_path, trained)
    with pytest.raises(ReIDError, match="would run code"):
        ReIDModel.from_checkpoint(path)
    assert not marker.exists()


def _edited(tmp_path: Path, trained: Trained, edit) -> Path:
    state = load_checkpoint(trained.bf)
    edit(state)
    path = tmp_path / "edited.pt"
    torch.save(state, path)
    return path


@pytest.mark.parametrize("edit, fragment", [
    (lambda s: s.pop("num_classes"), "'num_classes'"),
    (lambda s: s["config"]["model"].update(embed_dim=48), "do not fit"),
    (lambda s: s["config"]["train"].update(lr=-1.0), "train.lr=-1.0"),
    (lambda s: s.update(format="other"), "not an rfdreid checkpoint"),
])
def test_inconsistent_checkpoint_is_one_line(edit, fragment, cli, trained, tmp_path):
    path = _edited(tmp_path, trained, edit)
    cli("search", trained.images / "6_0_0.jpg", "--gallery", trained.images,
        "--bf", path).assert_one_line_error(str(path), fragment)


def test_truncated_checkpoint_is_one_line(cli, trained, tmp_path):
    path = tmp_path / "torn.pt"
    path.write_bytes(trained.bf.read_bytes()[:5000])
    cli("export", "--checkpoint", path).assert_one_line_error(str(path), "cannot be read")


def test_non_finite_weights_are_refused(cli, trained, tmp_path):
    def poison(state):
        name = next(k for k, v in state["model"].items() if v.is_floating_point())
        state["model"][name].fill_(float("nan"))

    path = _edited(tmp_path, trained, poison)
    cli("search", trained.images / "6_0_0.jpg", "--gallery", trained.images,
        "--bf", path).assert_one_line_error(str(path), "non-finite weights")


@pytest.fixture
def run_pair(trained: Trained, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the trained pair, so its feature caches are this test's own."""
    run = tmp_path / "run"
    for kind, src in (("bf", trained.bf), ("br", trained.br)):
        (run / kind).mkdir(parents=True)
        shutil.copy2(src, run / kind / "checkpoint.pt")
    return run / "bf" / "checkpoint.pt", run / "br" / "checkpoint.pt"


@pytest.mark.parametrize("damage", ["truncate", "nan", "junk"])
def test_corrupt_evaluation_cache_is_rebuilt_and_named(damage, cli, run_pair):
    bf, br = run_pair
    first = cli("evaluate", "--bf", bf, "--br", br)
    assert first.code == 0, first.err
    caches = sorted((bf.parent / "features").glob("*.pt"))
    victim = caches[0]
    good = torch.load(victim, weights_only=True)
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:100])
    elif damage == "nan":
        torch.save(torch.full_like(good, float("nan")), victim)
    else:
        victim.write_text("not a tensor\n")
    again = cli("evaluate", "--bf", bf, "--br", br)
    assert again.code == 0 and str(victim) in again.err, again.err
    assert torch.equal(torch.load(victim, weights_only=True), good)  # rebuilt
    assert again.out == first.out


def test_non_finite_search_cache_is_rebuilt(cli, trained, tmp_path):
    gallery = tmp_path / "gallery"
    shutil.copytree(trained.images, gallery)
    query = trained.images / "6_0_0.jpg"
    first = cli("search", query, "--gallery", gallery, "--bf", trained.bf)
    assert first.code == 0, first.err
    [cache] = (gallery / ".rfdreid-cache").glob("*.pt")
    state = torch.load(cache, weights_only=True)
    state["features"].fill_(float("inf"))
    torch.save(state, cache)
    again = cli("search", query, "--gallery", gallery, "--bf", trained.bf)
    assert again.code == 0 and str(cache) in again.err and again.out == first.out
    assert torch.isfinite(torch.load(cache, weights_only=True)["features"]).all()


def test_format_marker_is_plain_data(trained):
    """Every value in a checkpoint loads without unpickling code (weights_only=True)."""
    state = torch.load(trained.bf, weights_only=True)
    assert state["format"] == FORMAT and isinstance(state["config"], dict)

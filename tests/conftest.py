"""Shared fixtures: where the real datasets live, a small CPU budget for torch, the tiny
trained pair (trained once per session), and the in-process command line."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from rfdreid.api import ReIDModel

from clirun import CliResult, cli_runner
from tiny import TinyPair, train_tiny_pair

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RFDREID_SHARED_DATA", REPO.parent / "shared" / "data"))

# At most 2 threads, fewer when OMP_NUM_THREADS asks (pytest-xdist workers, `make
# mutation`): more threads than free cores make torch's thread pool spin and crawl.
torch.set_num_threads(min(2, int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)))


def _dataset_dir(name: str) -> Path:
    """The real dataset folder; absent, a skip locally but a failure under CI (`CI=true`),
    so a CI run without ../shared/data cannot pass by silently skipping the real-data tests."""
    path = SHARED_DATA / name
    if not path.is_dir():
        msg = f"real dataset {path} is absent (set RFDREID_SHARED_DATA to its parent folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " and CI=true: real-data tests must run in CI")
        pytest.skip(msg)
    return path


@pytest.fixture
def market_root() -> Path:
    """The real Market-1501 release, or skip."""
    return _dataset_dir("Market-1501-v15.09.15")


@pytest.fixture
def caviar_root() -> Path:
    """The real CAVIAR4REID folder, or skip."""
    return _dataset_dir("CAVIAR4REID")


@pytest.fixture
def tiny_protocol(tmp_path: Path) -> Path:
    """A protocol file over a few dozen generated JPEGs (see tests/tiny.py)."""
    from tiny import make_tiny_protocol

    return make_tiny_protocol(tmp_path)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TinyPair:
    """The tiny B-F / B-R pair (tests/tiny.py), trained once for every test that only reads
    it: search, API, serve, robustness and evaluation tests."""
    return train_tiny_pair(tmp_path_factory.mktemp("trained"))


@pytest.fixture(scope="session")
def model(trained: TinyPair) -> ReIDModel:
    return ReIDModel.from_checkpoint(trained.bf, trained.br)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Callable[..., CliResult]:
    """Run `rfdreid ARGS...` in-process from a temporary working folder."""
    return cli_runner(capsys, monkeypatch, tmp_path)

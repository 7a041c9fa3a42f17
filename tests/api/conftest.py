"""A tiny trained B-F / B-R pair (2 iterations each), trained once for all API tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rfdreid.api import ReIDModel

from clirun import CliResult, Trained, cli_runner, train_tiny_pair


@pytest.fixture(scope="package")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_tiny_pair(tmp_path_factory.mktemp("trained"))


@pytest.fixture(scope="package")
def model(trained: Trained) -> ReIDModel:
    return ReIDModel.from_checkpoint(trained.bf, trained.br)


@pytest.fixture(scope="package")
def model_f(trained: Trained) -> ReIDModel:
    return ReIDModel.from_checkpoint(trained.bf)


@pytest.fixture
def market_gallery(trained: Trained, tmp_path: Path) -> Path:
    """The test ids 6-9 as a Market-style folder: `00PP_c<cam>s1_00000K_00.jpg`."""
    folder = tmp_path / "gallery"
    folder.mkdir()
    for pid in range(6, 10):
        for cam in range(2):
            for k in range(2):
                shutil.copy(trained.images / f"{pid}_{cam}_{k}.jpg",
                            folder / f"{pid:04d}_c{cam + 1}s1_{k:06d}_00.jpg")
    return folder


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Callable[..., CliResult]:
    """Run `rfdreid ARGS...` in-process from a temporary working folder."""
    return cli_runner(capsys, monkeypatch, tmp_path)

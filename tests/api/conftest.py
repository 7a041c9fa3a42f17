"""A tiny trained B-F / B-R pair (2 iterations each), trained once for all API tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rfdreid.api import ReIDModel

from clirun import CliResult, Trained, cli_runner, train_tiny_pair
from tiny import market_style_gallery


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
    return market_style_gallery(trained.images, tmp_path / "gallery", shots=2)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Callable[..., CliResult]:
    """Run `rfdreid ARGS...` in-process from a temporary working folder."""
    return cli_runner(capsys, monkeypatch, tmp_path)

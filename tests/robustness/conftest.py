"""Hostile-but-fair inputs (issue 11): every case must end in a clean exit code, no
traceback, a message naming the file or key, and nothing lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rfdreid.api import ReIDModel

from clirun import CliResult, Trained, cli_runner, train_tiny_pair
from data.conftest import fake_caviar, fake_market, jpeg  # noqa: F401  (fake datasets)


@pytest.fixture(scope="package")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_tiny_pair(tmp_path_factory.mktemp("trained"))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Callable[..., CliResult]:
    """Run `rfdreid ARGS...` in-process; also checks no traceback reached stderr."""
    run = cli_runner(capsys, monkeypatch, tmp_path)

    def checked(*args: object) -> CliResult:
        result = run(*args)
        assert "Traceback" not in result.err, result.err
        return result

    return checked



@pytest.fixture(scope="package")
def model(trained: Trained) -> ReIDModel:
    return ReIDModel.from_checkpoint(trained.bf, trained.br)

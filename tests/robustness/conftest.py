"""Hostile-but-fair inputs (issue 11): every case must end in a clean exit code, no
traceback, a message naming the file or key, and nothing lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from clirun import CliResult, Trained, cli_runner, train_tiny_pair
from tiny import TINY_OVERRIDES


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


def train_args(protocol: Path, out: Path, *overrides: str) -> list[str]:
    """`rfdreid train` arguments for the tiny model on `protocol` into `out`."""
    sets = [*TINY_OVERRIDES, *overrides]
    return ["train", "--protocol", protocol, "--out", out,
            *[a for o in sets for a in ("--set", o)]]

"""Hostile-but-fair inputs (issue 11): every case must end in a clean exit code, no
traceback, a message naming the file or key, and nothing lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from clirun import CliResult, cli_runner
from data.conftest import fake_caviar, fake_market, jpeg  # noqa: F401  (fake datasets)


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

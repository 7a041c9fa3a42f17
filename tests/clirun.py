"""Running `rfdreid ARGS...` in-process from tests, and a tiny trained B-F / B-R pair.

Shared by tests/api and tests/robustness: both check exit codes and that a user error is
one `error: ...` line on stderr, and both need a trained pair to search and evaluate.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rfdreid.cli.main import main

from tiny import TINY_OVERRIDES
from tiny import TinyPair as Trained  # noqa: F401  (re-exported for tests/api, robustness)
from tiny import train_tiny_pair  # noqa: F401


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    def assert_one_line_error(self, *fragments: str) -> None:
        """Exit code 1 and a single `error: ...` line on stderr holding every fragment.

        Lines are read as a terminal shows them: a progress bar erased with `\\r` is gone, and
        the plain progress lines written for logs (`train B-F:  25%|...`) are not errors.
        """
        assert self.code == 1, self.out + self.err
        shown = [line.rsplit("\r", 1)[-1] for line in self.err.split("\n")]
        lines = [line for line in shown if line.strip() and not _PROGRESS_LINE.match(line)]
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        for fragment in fragments:
            assert fragment in lines[0], lines[0]


_PROGRESS_LINE = re.compile(r"^[\w -]+: +\d+%\|")


def cli_runner(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
               workdir: Path) -> Callable[..., CliResult]:
    """Run `rfdreid ARGS...` in-process, as the installed command does, from `workdir` so
    that default outputs (ranking.png) never land in the repository. An exception that
    escapes main() (a traceback for the user) fails the test."""
    monkeypatch.chdir(workdir)

    def run(*args: object) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["rfdreid", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        return CliResult(code, *capsys.readouterr())

    return run


def train_args(protocol: Path, out: Path, *overrides: str) -> list[str]:
    """`rfdreid train` arguments for the tiny model on `protocol` into `out`."""
    sets = [*TINY_OVERRIDES, *overrides]
    return ["train", "--protocol", protocol, "--out", out,
            *[a for o in sets for a in ("--set", o)]]

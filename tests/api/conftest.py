"""A tiny trained B-F / B-R pair (2 iterations each), trained once for all API tests."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rfdreid.api import ReIDModel
from rfdreid.cli.main import main

from tiny import train_tiny_pair


@dataclass(frozen=True)
class Trained:
    protocol: Path
    bf: Path
    br: Path
    images: Path  # the protocol's JPEGs, named <pid>_<cam>_<k>.jpg


@pytest.fixture(scope="package")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("trained")
    p = train_tiny_pair(root)
    return Trained(p.protocol, p.bf, p.br, p.images)


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


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    def assert_one_line_error(self, *fragments: str) -> None:
        """Exit code 1 and a single `error: ...` line on stderr holding every fragment.

        Lines are read as a terminal shows them: a progress bar erased with `\r` is gone.
        """
        assert self.code == 1, self.out + self.err
        shown = [line.rsplit("\r", 1)[-1] for line in self.err.split("\n")]
        lines = [line for line in shown if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        for fragment in fragments:
            assert fragment in lines[0], lines[0]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Callable[..., CliResult]:
    """Run `rfdreid ARGS...` in-process, as the installed command does, from a temporary
    working folder so that default outputs (ranking.png) never land in the repository."""
    monkeypatch.chdir(tmp_path)

    def run(*args: object) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["rfdreid", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        return CliResult(code, *capsys.readouterr())

    return run

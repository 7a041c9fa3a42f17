"""`rfdreid serve` on the command line: loopback by default, clear errors for bad flags."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import uvicorn

from rfdreid.cli.main import main

from tiny import TinyPair


def _serve(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           *args: object) -> tuple[int, dict[str, object], str]:
    """Run `rfdreid serve ARGS`; uvicorn.run is replaced by a recorder of its arguments."""
    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw, app=app))
    monkeypatch.setattr(sys, "argv", ["rfdreid", "serve", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    return code, started, capsys.readouterr().err


def test_binds_loopback_unless_told(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], trained: TinyPair,
                                    gallery_dir: Path, run_dir: Path) -> None:
    code, started, err = _serve(monkeypatch, capsys, "--checkpoint", trained.bf, "--br", trained.br,
                                "--gallery", gallery_dir)
    assert code == 0 and started["host"] == "127.0.0.1" and not err
    code, started, err = _serve(monkeypatch, capsys, "--run", run_dir, "--host", "0.0.0.0")
    assert code == 0 and started["host"] == "0.0.0.0" and "warning" in err


@pytest.mark.parametrize("args", [(), ("--gallery", "g"), ("--run", "r", "--gallery", "g")])
def test_bad_combinations_are_one_line_errors(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              args: tuple[str, ...]) -> None:
    code, started, err = _serve(monkeypatch, capsys, *args)
    assert code == 1 and not started and err.startswith("error: ") and err.count("\n") == 1


def test_folder_without_results_json(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _serve(monkeypatch, capsys, "--run", tmp_path)
    assert code == 1 and "results.json" in err

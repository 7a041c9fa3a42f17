"""`rfdreid serve` on the command line: loopback by default, clear errors for bad flags."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
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
    code, started, err = _serve(monkeypatch, capsys, "--bf", trained.bf, "--br", trained.br,
                                "--gallery", gallery_dir, "--port", 0)
    assert code == 0 and started["host"] == "127.0.0.1" and "warning" not in err
    code, started, err = _serve(monkeypatch, capsys, "--run", run_dir, "--host", "0.0.0.0",
                                "--port", 0)
    assert code == 0 and started["host"] == "0.0.0.0" and "warning" in err


@pytest.mark.parametrize("args", [(), ("--gallery", "g"), ("--run", "r", "--gallery", "g")])
def test_bad_combinations_are_one_line_errors(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              args: tuple[str, ...]) -> None:
    code, started, err = _serve(monkeypatch, capsys, *args)
    assert code == 1 and not started and err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.parametrize("args, fragment", [
    (("--run", "r", "--results", "x.json"), "--results goes with --gallery"),
    (("--bf", "c", "--gallery", "g", "--results", "missing.json"), "is not a file"),
])
def test_results_is_for_a_gallery_and_must_exist(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str],
                                                 args: tuple[str, ...], fragment: str) -> None:
    code, started, err = _serve(monkeypatch, capsys, *args)
    assert code == 1 and not started and err.startswith("error: ") and err.count("\n") == 1
    assert fragment in err, err


def test_folder_without_results_json(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _serve(monkeypatch, capsys, "--run", tmp_path, "--port", 0)
    assert code == 1 and "results.json" in err


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("bind", ["port-in-use", "no-such-host", "not-our-address"])
def test_host_and_port_are_checked_before_the_gallery_is_embedded(
        bind: str, port_in_use: int, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], trained: TinyPair, tmp_path: Path) -> None:
    """Issue 23 item 3: one line, exit 1, and no gallery feature cache written."""
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    (gallery / "6_1_0.jpg").write_bytes((trained.images / "6_1_0.jpg").read_bytes())
    host, port, fragment = {
        "port-in-use": ("127.0.0.1", port_in_use, f"--port {port_in_use}"),
        "no-such-host": ("999.1.1.1", 8000, "--host 999.1.1.1"),
        "not-our-address": ("192.0.2.1", 8000, "192.0.2.1:8000"),  # TEST-NET-1, never local
    }[bind]
    code, started, err = _serve(monkeypatch, capsys, "--bf", trained.bf, "--gallery",
                                gallery, "--host", host, "--port", port)
    assert code == 1 and not started and err.startswith("error: ") and err.count("\n") == 1
    assert fragment in err, err
    assert [p.name for p in gallery.iterdir()] == ["6_1_0.jpg"]


@pytest.mark.parametrize("value, expected", [
    ("inf", "--max-upload-mb=inf is invalid; it must be a finite number"),
    ("nan", "'--max-upload-mb': Input should be greater than or equal to 0.01"),
    ("0", "'--max-upload-mb': Input should be greater than or equal to 0.01"),
])
def test_infinite_upload_cap_is_refused(value: str, expected: str,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str],
                                        run_dir: Path) -> None:
    """Issue 23 item 2: no OverflowError traceback, no usage box: one line, exit 1."""
    code, started, err = _serve(monkeypatch, capsys, "--run", run_dir, "--port", "0",
                                "--max-upload-mb", value)
    assert code == 1 and not started and err.startswith("error: ") and err.count("\n") == 1
    assert expected in err, err

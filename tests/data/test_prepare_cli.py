"""`rfdreid prepare` and the prepare() function: outputs, summary, all-or-nothing errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rfdreid.cli.main import main
from rfdreid.data.prepare import prepare
from rfdreid.data.records import Protocol
from rfdreid.errors import ReIDError

REPO = Path(__file__).resolve().parents[2]


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rfdreid", "prepare", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_prepare_market_layout(fake_market: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    code, stdout, _ = run_cli(monkeypatch, capsys, "--dataset", "market1501", "--root",
                              str(fake_market), "--out", str(out), "--materialize")
    assert code == 0 and "gallery_multi" in stdout
    p = Protocol.load(out / "protocol.json")
    # SING's construction, the default: each of the 18 training images once
    assert p.mlr_variant == "sing" and len(p.train) == 18
    assert set(p.galleries) == {"single", "multi"}
    assert len(list((out / "images" / "train").glob("*.jpg"))) == 18
    assert {d.name for d in (out / "images").iterdir()} == {
        "train", "query", "gallery_single", "gallery_multi"}
    assert not list(tmp_path.glob(".out.*"))


def test_prepare_caviar_one_split(fake_caviar: Callable, tmp_path: Path) -> None:
    paths = prepare("caviar", fake_caviar(two_cam=4, one_cam=1), tmp_path / "cav", split=3,
                    protocol="single")
    assert [p.name for p in paths] == ["split_03.json"]
    p = Protocol.load(next(iter(paths)))
    assert p.split == 3 and list(p.galleries) == ["single"] and len(p.meta["res_bin_edges"]) == 6


@pytest.mark.parametrize("args, message", [
    (["--dataset", "market1501", "--root", "{tmp}/missing"], "not found"),
    (["--dataset", "cuhk", "--root", "{tmp}/data"], "unknown dataset"),
    (["--dataset", "market1501", "--root", "{market}", "--galleries", "half"], "gallery protocol"),
    (["--dataset", "market1501", "--root", "{market}", "--split", "2"], "caviar only"),
    (["--dataset", "market1501", "--root", "{market}", "--interpolation", "lanczos"],
     "interpolation"),
])
def test_bad_input_one_line_error_nothing_written(
    args: list[str], message: str, fake_market: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "out"
    args = [a.format(tmp=tmp_path, market=fake_market) for a in args]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--out", str(out))
    assert code == 1 and message in err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_materialize_error_leaves_nothing(fake_market: Path, tmp_path: Path) -> None:
    """A file whose header reads but whose data is cut fails while writing images."""
    victim = next((fake_market / "query").iterdir())
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) - 200])
    with pytest.raises(ReIDError, match=victim.name):
        prepare("market1501", fake_market, tmp_path / "out", materialize_images=True)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))


def test_console_script_help() -> None:
    exe = REPO / ".venv" / "bin" / "rfdreid"
    if not exe.exists():
        pytest.skip(f"{exe} not installed")
    result = subprocess.run([str(exe), "prepare", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "Example" in result.stdout

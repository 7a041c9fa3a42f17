"""One CLI vocabulary (issue 27): `--bf` names the B-F checkpoint in every command that
takes both models, `--galleries` the gallery modes; the old names still work for one
release, with a warning, and giving both names at once is refused."""

from __future__ import annotations

import pytest
import typer

from rfdreid.cli.renamed import renamed
from rfdreid.errors import ReIDError
from rfdreid.cli import commands  # noqa: F401  (registers the commands)
from rfdreid.cli.main import app


def test_old_name_works_and_warns(capsys: pytest.CaptureFixture[str]) -> None:
    assert renamed(None, "a.pt", "--bf", "--checkpoint") == "a.pt"
    assert "--checkpoint is now --bf" in capsys.readouterr().err
    assert renamed("b.pt", None, "--bf", "--checkpoint") == "b.pt"
    assert capsys.readouterr().err == ""
    with pytest.raises(ReIDError, match="give --bf only"):
        renamed("b.pt", "a.pt", "--bf", "--checkpoint")


@pytest.mark.parametrize("command", ["search", "serve", "evaluate"])
def test_commands_taking_both_models_say_bf_and_br(command: str) -> None:
    cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    shown = {o for p in cmd.params if not getattr(p, "hidden", False) for o in p.opts}
    assert {"--bf", "--br"} <= shown and "--checkpoint" not in shown


def test_prepare_names_gallery_modes_galleries() -> None:
    cmd = typer.main.get_command(app).commands["prepare"]  # type: ignore[attr-defined]
    shown = {o for p in cmd.params if not getattr(p, "hidden", False) for o in p.opts}
    assert "--galleries" in shown and "--protocol" not in shown

"""`rfdreid demo`: the main job on the embedded synthetic dataset."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from rfdreid.cli.main import app


@app.command(epilog="Example: rfdreid demo --out runs/demo --set train.iterations=100")
def demo(
    out: Annotated[Path, typer.Option(help="Where data, runs and results go.")] = Path("runs/demo"),
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Config overrides.")] = None,
) -> None:
    """Generate synthetic data, train B-F and B-R on CPU, evaluate with and without RFD."""
    from rfdreid.config import load_config
    from rfdreid.workflows.demo import DEMO_BF, DEMO_BR, run_demo

    start = time.perf_counter()
    md = run_demo(out, load_config(DEMO_BF, set_), load_config(DEMO_BR, set_))
    typer.echo(md)
    typer.echo(f"done in {time.perf_counter() - start:.0f} s; results in {out / 'runs' / 'eval'}")

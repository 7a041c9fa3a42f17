"""`rfdreid demo`: the whole method on the built-in synthetic data, CPU-sized.

Generates the synthetic multi-camera set, builds its MLR protocol (single- and
multi-resolution galleries), trains small B-F and B-R models and prints B-F vs B-F+RFD.
"""

from __future__ import annotations

from pathlib import Path

from rfdreid.config import load_config
from rfdreid.data.prepare import prepare
from rfdreid.workflows.experiment import run_experiment

DEMO_BF, DEMO_BR = "demo_bf", "demo_br"


def run_demo(out: Path, overrides: list[str] | None = None, progress: bool = True) -> str:
    """Run the demo into `out`; returns the results table as Markdown."""
    protocols = list(prepare("synthetic", root=out / "synthetic", out=out / "prepared", seed=0))
    ecfg = load_config(DEMO_BF, overrides).eval
    return run_experiment(protocols, out / "runs", DEMO_BF, DEMO_BR, ecfg, overrides, progress)

"""`rfdreid demo`: the whole method on the built-in synthetic data, CPU-sized.

Generates the synthetic multi-camera set, builds its MLR protocol (prepare's default
construction, SING's: one LR camera per identity; single- and multi-resolution
galleries), trains small B-F and B-R models and prints B-F vs B-F+RFD.
"""

from __future__ import annotations

from pathlib import Path

from rfdreid.config import ExperimentConfig
from rfdreid.data.prepare import prepare
from rfdreid.workflows.experiment import run_experiment

DEMO_BF, DEMO_BR = "demo_bf", "demo_br"  # presets; the CLI resolves them with --set


def run_demo(out: Path, bf: ExperimentConfig, br: ExperimentConfig,
             progress: bool = True) -> str:
    """Run the demo into `out`; returns the results table as Markdown."""
    protocols = list(prepare("synthetic", root=out / "synthetic", out=out / "prepared", seed=0))
    return run_experiment(protocols, out / "runs", bf, br, progress)

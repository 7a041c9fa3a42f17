"""A whole experiment: for each protocol (split), train B-F and B-R, then evaluate all.

Used by `rfdreid demo` and `rfdreid reproduce`; the folder layout
`<out>/<split>/{bf,br}/checkpoint.pt` is what `rfdreid evaluate --runs` reads. Re-running
an interrupted experiment resumes each model where it stopped.
"""

from __future__ import annotations

from pathlib import Path

from rfdreid.config import EvalConfig, load_config
from rfdreid.workflows.evaluate import RunPair, evaluate_runs
from rfdreid.training.trainer import CHECKPOINT_NAME, train


def train_pair(
    protocol: Path, run_dir: Path, bf_preset: str, br_preset: str,
    overrides: list[str] | None = None, progress: bool = True,
) -> RunPair:
    """Train (or resume) B-F and B-R on one protocol file."""
    paths = {}
    for kind, preset in (("bf", bf_preset), ("br", br_preset)):
        cfg = load_config(preset, overrides,
                          {"data.protocol": protocol, "train.out_dir": run_dir / kind})
        paths[kind] = train(cfg, resume=(run_dir / kind / CHECKPOINT_NAME).exists(),
                            progress=progress)
    return RunPair(bf=paths["bf"], br=paths["br"], protocol=protocol)


def run_experiment(
    protocols: list[Path], out: Path, bf_preset: str, br_preset: str,
    ecfg: EvalConfig, overrides: list[str] | None = None, progress: bool = True,
) -> str:
    """Train every split, evaluate them together; returns the Markdown table."""
    pairs = [
        train_pair(p, out / p.stem, bf_preset, br_preset, overrides, progress) for p in protocols
    ]
    _, md = evaluate_runs(pairs, ecfg, out_dir=out / "eval", progress=progress)
    return md

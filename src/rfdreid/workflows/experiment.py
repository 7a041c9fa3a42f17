"""A whole experiment: for each protocol (split), train B-F and B-R, then evaluate all.

Used by `rfdreid demo` and `rfdreid reproduce`; the folder layout
`<out>/<split>/{bf,br}/checkpoint.pt` is what `rfdreid evaluate --runs` reads. Re-running
an interrupted experiment resumes each model where it stopped.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rfdreid.config import ExperimentConfig
from rfdreid.training.trainer import CHECKPOINT_NAME, train
from rfdreid.workflows.evaluate import RunPair, evaluate_runs


def for_run(cfg: ExperimentConfig, protocol: Path, out_dir: Path) -> ExperimentConfig:
    """`cfg` trained on `protocol` into `out_dir` (paths stay paths: nothing is re-parsed)."""
    return replace(cfg, data=replace(cfg.data, protocol=str(protocol)),
                   train=replace(cfg.train, out_dir=str(out_dir)))


def train_pair(protocol: Path, run_dir: Path, bf: ExperimentConfig, br: ExperimentConfig,
               progress: bool = True) -> RunPair:
    """Train (or resume) B-F and B-R on one protocol file."""
    paths = {}
    for kind, cfg in (("bf", bf), ("br", br)):
        paths[kind] = train(for_run(cfg, protocol, run_dir / kind),
                            resume=(run_dir / kind / CHECKPOINT_NAME).exists(), progress=progress)
    return RunPair(bf=paths["bf"], br=paths["br"], protocol=protocol)


def run_experiment(protocols: list[Path], out: Path, bf: ExperimentConfig,
                   br: ExperimentConfig, progress: bool = True) -> str:
    """Train every split, evaluate them together with B-F's eval settings; returns the
    Markdown table."""
    pairs = [train_pair(p, out / p.stem, bf, br, progress) for p in protocols]
    _, md = evaluate_runs(pairs, bf.eval, out_dir=out / "eval", progress=progress)
    return md

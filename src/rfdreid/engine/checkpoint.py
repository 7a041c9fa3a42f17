"""Checkpoints: written atomically, and self-describing so evaluation needs no config.

Why self-describing: a checkpoint carries its experiment config, its kind (B-F or B-R)
and the number of classes, so `rfdreid evaluate` and `ReIDModel.from_checkpoint` rebuild
the exact network, and a B-R checkpoint passed where a B-F one is expected is caught.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rfdreid.config import ExperimentConfig, config_from_dict
from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write
from rfdreid.models.build import init_summary

KINDS = {"id": "B-F", "resolution": "B-R"}
FORMAT = "rfdreid-checkpoint-1"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save through a temp file + rename: a killed run never leaves a torn file."""
    atomic_write(path, lambda tmp: torch.save({"format": FORMAT, **state}, tmp))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ReIDError(f"checkpoint {path} not found; train one with `rfdreid train`")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a torn or foreign file
        raise ReIDError(f"checkpoint {path} cannot be read ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ReIDError(
            f"{path} is not an rfdreid checkpoint; to start from ImageNet weights use "
            "model.pretrained=FILE instead"
        )
    return state


@dataclass
class TrainedModel:
    """What evaluation needs from a checkpoint."""

    path: Path
    kind: str  # "B-F" or "B-R"
    config: ExperimentConfig
    num_classes: int
    model_state: dict[str, torch.Tensor]
    iteration: int
    init: str  # "random init" or where the backbone's starting weights came from

    def digest(self) -> str:
        """Identity of the weights (path, size, mtime), used as a feature-cache key."""
        st = self.path.stat()
        key = f"{self.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
        return hashlib.sha1(key.encode()).hexdigest()[:16]


def read_trained_model(path: str | Path, expect_kind: str | None = None) -> TrainedModel:
    """Load a checkpoint for inference; `expect_kind` ("B-F"/"B-R") guards against swaps."""
    state = load_checkpoint(path)
    cfg = config_from_dict(state["config"])
    kind = KINDS[cfg.train.task]
    if expect_kind and kind != expect_kind:
        raise ReIDError(
            f"{path} is a {kind} checkpoint (trained on "
            f"{'person ids' if kind == 'B-F' else 'resolution labels'}) but a {expect_kind} "
            "one is needed here"
        )
    return TrainedModel(
        path=Path(path),
        kind=kind,
        config=cfg,
        num_classes=int(state["num_classes"]),
        model_state=state["model"],
        iteration=int(state["iteration"]),
        init=state.get("init") or init_summary(cfg.model),  # older checkpoints: from config
    )


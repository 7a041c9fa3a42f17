"""Checkpoints: written atomically, plain data only, and self-describing.

Why self-describing: a checkpoint carries its experiment config, its kind (B-F or B-R)
and the number of classes, so `rfdreid evaluate` and `ReIDModel.from_checkpoint` rebuild
the exact network, and a B-R checkpoint passed where a B-F one is expected is caught.

Why plain data: everything in the file is tensors, numbers, strings, lists and dicts, so
it loads with `torch.load(weights_only=True)`; a file whose pickle would run code (a
"malicious checkpoint") is refused before any of it runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rfdreid.config import ExperimentConfig, config_from_dict
from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write
from rfdreid.models.build import init_summary

KINDS = {"id": "B-F", "resolution": "B-R"}
FORMAT = "rfdreid-checkpoint-1"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save through a temp file + rename: a killed run never leaves a torn file."""
    atomic_write(path, lambda tmp: torch.save({"format": FORMAT, **state}, tmp))


def load_plain(path: Path, what: str) -> Any:
    """torch.load of plain data only; a file that asks to run code, or a torn one, is a
    one-line ReIDError naming it (`what` says which kind of file it is)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a torn, foreign or unsafe file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        reason = ("it holds objects that would run code when loaded; refusing to load it"
                  if "weights only load failed" in first.lower()
                  else f"{type(e).__name__}: {first}")
        raise ReIDError(f"{what} {path} cannot be read ({reason})") from None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ReIDError(f"checkpoint {path} not found; train one with `rfdreid train`")
    state = load_plain(path, "checkpoint")
    if not is_checkpoint(state):
        raise ReIDError(
            f"{path} is not an rfdreid checkpoint; to start from ImageNet weights use "
            "model.pretrained=FILE instead"
        )
    return state


def non_finite_tensors(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of floating-point tensors holding NaN or inf (a diverged run's weights)."""
    return [k for k, v in tensors.items()
            if v.is_floating_point() and not bool(torch.isfinite(v).all())]


def load_weights(model: nn.Module, weights: Mapping[str, torch.Tensor], path: Path) -> None:
    """load_state_dict with a one-line error when the weights do not fit the network
    (another backbone, embed_dim or number of classes than the config describes)."""
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        detail = [line.strip() for line in str(e).splitlines()[1:] if line.strip()]
        first = detail[0] if detail else str(e).splitlines()[0]
        raise ReIDError(
            f"the weights in {path} do not fit the network its config describes ({first}"
            f"{f' and {len(detail) - 1} more' if len(detail) > 1 else ''}); was the "
            "architecture (model.*) changed?"
        ) from None


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


_REQUIRED = {"config": dict, "num_classes": int, "model": dict, "iteration": int}


def read_trained_model(path: str | Path, expect_kind: str | None = None) -> TrainedModel:
    """Load a checkpoint for inference; `expect_kind` ("B-F"/"B-R") guards against swaps.

    A checkpoint missing a field, or whose weights are NaN/inf, is refused in one line.
    """
    return trained_model_from_state(load_checkpoint(path), path, expect_kind)


def is_checkpoint(state: Any) -> bool:
    """Whether an already loaded file is an rfdreid checkpoint (not, e.g., ImageNet weights)."""
    return isinstance(state, dict) and state.get("format") == FORMAT


def trained_model_from_state(state: dict[str, Any], path: str | Path,
                             expect_kind: str | None = None) -> TrainedModel:
    """:func:`read_trained_model` on a checkpoint already loaded from `path`."""
    for key, tp in _REQUIRED.items():
        if not isinstance(state.get(key), tp) or isinstance(state.get(key), bool):
            raise ReIDError(f"checkpoint {path} lacks a valid {key!r} ({tp.__name__}); "
                            "it was not written by `rfdreid train` or was edited")
    cfg = config_from_dict(state["config"], where=f"config stored in {path}")
    kind = KINDS[cfg.train.task]
    if expect_kind and kind != expect_kind:
        raise ReIDError(
            f"{path} is a {kind} checkpoint (trained on "
            f"{'person ids' if kind == 'B-F' else 'resolution labels'}) but a {expect_kind} "
            "one is needed here"
        )
    bad = non_finite_tensors(state["model"])
    if bad:
        raise ReIDError(f"checkpoint {path} holds non-finite weights ({bad[0]} and "
                        f"{len(bad) - 1} more); its training diverged, retrain with a lower lr")
    return TrainedModel(
        path=Path(path),
        kind=kind,
        config=cfg,
        num_classes=state["num_classes"],
        model_state=state["model"],
        iteration=int(state["iteration"]),
        init=state.get("init") or init_summary(cfg.model),  # older checkpoints: from config
    )

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
import io
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
from rfdreid.training.tasks import task_of

FORMAT = "rfdreid-checkpoint-1"
PROTOCOL_RELATIVE = "protocol_relative"  # key: the protocol file relative to the checkpoint


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save through a temp file + rename: a killed run never leaves a torn file."""
    atomic_write(path, lambda tmp: torch.save({"format": FORMAT, **state}, tmp))


# How a torch.save file begins: a zip archive (the current format) or a pickle (protocol 2+).
_TORCH_FILE_MAGIC = (b"PK\x03\x04", b"\x80")


def read_plain(path: Path, what: str) -> tuple[Any, str]:
    """(content, SHA-256 of the bytes it was loaded from) of a torch.save file of plain data.

    Why one read: the file is read into memory once, hashed, and loaded from those same
    bytes, so the digest names exactly the weights in memory even when another process
    (a training run saving its next checkpoint) replaces the file meanwhile. A file that
    asks to run code, a torn one or one that is no torch.save file at all is a one-line
    ReIDError naming it (`what` says which kind of file it is).
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ReIDError(f"{what} {path} cannot be read ({e.strerror or e})") from None
    if not data.startswith(_TORCH_FILE_MAGIC):
        raise ReIDError(f"{what} {path} is not a file written by torch.save (it begins with "
                        f"{data[:4]!r}); give a checkpoint.pt written by `rfdreid train`")
    try:
        content = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a torn, foreign or unsafe file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        reason = ("it holds objects that would run code when loaded; refusing to load it"
                  if "weights only load failed" in first.lower()
                  else f"{type(e).__name__}: {first}")
        raise ReIDError(f"{what} {path} cannot be read ({reason})") from None
    return content, hashlib.sha256(data).hexdigest()


def load_plain(path: Path, what: str) -> Any:
    """The content of a torch.save file of plain data (see :func:`read_plain`)."""
    return read_plain(path, what)[0]


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], str]:
    """(checkpoint state, SHA-256 of the bytes it was loaded from); ReIDError when the
    file is missing or is no rfdreid checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise ReIDError(f"checkpoint {path} not found; train one with `rfdreid train`")
    state, digest = read_plain(path, "checkpoint")
    if not is_checkpoint(state):
        raise ReIDError(
            f"{path} is not an rfdreid checkpoint; to start from ImageNet weights use "
            "model.pretrained=FILE instead"
        )
    return state, digest


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    return read_checkpoint(path)[0]


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
    protocol_file: Path  # the protocol trained on (see trained_protocol)
    # SHA-256 of the checkpoint bytes these weights were loaded from: the feature-cache key.
    # Not the file's path/size/mtime, which may already describe a newer checkpoint.
    digest: str
    precision: dict[str, Any]  # {"value": "bf16", "auto": True, "reason": ...} (trainer)


_REQUIRED = {"config": dict, "num_classes": int, "model": dict, "iteration": int}


def stored_config(state: dict[str, Any], path: str | Path) -> ExperimentConfig:
    """The config a checkpoint was trained with, keys it lacks filled with today's defaults,
    except train.precision: checkpoints from before that key trained in fp32, while today's
    default (`auto`) could resume them in bf16 (issue #24)."""
    config = state["config"]
    train = config.get("train")
    if isinstance(train, dict) and "precision" not in train:
        config = {**config, "train": {**train, "precision": "fp32"}}
    return config_from_dict(config, where=f"config stored in {path}")


def read_trained_model(path: str | Path, expect_kind: str | None = None) -> TrainedModel:
    """Load a checkpoint for inference; `expect_kind` ("B-F"/"B-R") guards against swaps.

    A checkpoint missing a field, or whose weights are NaN/inf, is refused in one line.
    """
    state, digest = read_checkpoint(path)
    return trained_model_from_state(state, digest, path, expect_kind)


def is_checkpoint(state: Any) -> bool:
    """Whether an already loaded file is an rfdreid checkpoint (not, e.g., ImageNet weights)."""
    return isinstance(state, dict) and state.get("format") == FORMAT


def trained_model_from_state(state: dict[str, Any], digest: str, path: str | Path,
                             expect_kind: str | None = None) -> TrainedModel:
    """:func:`read_trained_model` on a checkpoint already loaded from `path` (`digest`: the
    SHA-256 of the bytes it was loaded from)."""
    for key, tp in _REQUIRED.items():
        if not isinstance(state.get(key), tp) or isinstance(state.get(key), bool):
            raise ReIDError(f"checkpoint {path} lacks a valid {key!r} ({tp.__name__}); "
                            "it was not written by `rfdreid train` or was edited")
    cfg = stored_config(state, path)
    kind = task_of(cfg).model
    if expect_kind and kind != expect_kind:
        raise ReIDError(
            f"{path} is a {kind} checkpoint (trained on "
            f"{task_of(cfg).labelled_by}) but a {expect_kind} "
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
        protocol_file=trained_protocol(Path(path), cfg, state.get(PROTOCOL_RELATIVE)),
        digest=digest,
        precision=state.get("precision") or {"value": cfg.train.precision, "auto": False},
    )


def trained_protocol(path: Path, cfg: ExperimentConfig, relative: object) -> Path:
    """The protocol file a checkpoint was trained on: data.protocol as stored (absolute
    since training stores it so; older checkpoints: relative to the working folder), else,
    when that is gone, the file at its stored place relative to the checkpoint's folder,
    where it lies after the runs and protocols were moved together."""
    stored = Path(cfg.data.protocol)
    if stored.is_file() or not isinstance(relative, str):
        return stored
    moved = path.parent / relative
    return moved if moved.is_file() else stored

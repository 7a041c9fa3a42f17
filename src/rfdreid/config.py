"""Experiment configuration: dataclasses, YAML presets (`rfdreid.presets`), dotted CLI overrides.

Why dataclasses: every value has a type and a default that a reader can see in one place;
a preset only states what differs, and `--set train.lr=1e-4` changes one value without a
new file.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write_text
from rfdreid.presets import preset_chain


@dataclass
class DataConfig:
    """What to read and how to augment it."""

    protocol: str = ""  # protocol file written by `rfdreid prepare`
    height: int = 384
    width: int = 128
    flip_p: float = 0.5
    erasing_p: float = 0.5
    workers: int = 0  # DataLoader worker processes (0 = main process)
    cache_size: int = 0  # decoded source images kept per loader process (MLR reads each twice)


@dataclass
class ModelConfig:
    """Network structure (section 3.2-3.3 of the paper)."""

    backbone: str = "resnet50"
    pretrained: str | None = None  # None: random init; "imagenet": shipped weights; or a file path
    width_mult: float = 1.0
    attention: bool = True  # SE-style channel attention after every stage
    se_reduction: int = 16
    parts: list[int] = field(default_factory=lambda: [2, 3])  # stripes of the part branches
    embed_dim: int = 256
    dropout: float = 0.5


@dataclass
class TrainConfig:
    """Optimisation (section 4.1): Adam, lr 2e-4 / 10 at half, weight decay 5e-4."""

    task: str = "id"  # "id" trains B-F on person ids, "resolution" trains B-R on res_label
    iterations: int | None = None  # None: the paper's 500 x number of training identities
    lr: float = 2e-4
    weight_decay: float = 5e-4
    beta1: float = 0.9
    lr_decay_at: float = 0.5  # fraction of iterations after which lr is divided by 10
    num_ids: int = 8  # P identities per batch (B-F)
    num_instances: int = 4  # K images per identity (B-F)
    per_resolution: int = 16  # images per resolution class per batch (B-R)
    margin: float = 0.3
    label_smoothing: float = 0.0
    seed: int = 0
    checkpoint_every: int = 500
    log_every: int = 20
    out_dir: str = "runs/default"


@dataclass
class EvalConfig:
    """Retrieval and RFD fusion (section 3.4)."""

    rfd_lambda: float = 0.1
    lambda_sweep: list[float] = field(default_factory=list)
    flip: bool = False  # average features of the image and its mirror
    batch_size: int = 64
    max_rank: int = 50
    normalize: bool = False  # L2-normalise embeddings (the network's own option) before D_f


@dataclass
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dump(self, path: str | Path) -> None:
        atomic_write_text(Path(path), yaml.safe_dump(self.to_dict(), sort_keys=False))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert a YAML/CLI value to the declared field type, with an error naming the key."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            return None
        return _coerce(value, args[0], where)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if isinstance(value, str):
            value = yaml.safe_load(value) if value.strip().startswith("[") else value.split(",")
        if not isinstance(value, list):
            value = [value]
        return [_coerce(v, inner, where) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ReIDError(f"{where}: expected true/false, got {value!r}")
    try:
        return tp(value)
    except (TypeError, ValueError):
        raise ReIDError(f"{where}: expected {tp.__name__}, got {value!r}") from None


def _apply(obj: Any, updates: dict[str, Any], where: str) -> None:
    hints = typing.get_type_hints(type(obj))
    for key, value in updates.items():
        if key not in hints:
            valid = ", ".join(f.name for f in dataclasses.fields(obj))
            raise ReIDError(f"{where}: unknown key {key!r}; valid keys: {valid}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ReIDError(f"{where}.{key}: expected a mapping")
            _apply(current, value, f"{where}.{key}")
        else:
            setattr(obj, key, _coerce(value, hints[key], f"{where}.{key}"))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ["train.lr=1e-4", "model.attention=false"] into a nested dict."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ReIDError(f"override {item!r} must look like section.key=value")
        key, raw = item.split("=", 1)
        node = out
        *parents, leaf = key.strip().split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = yaml.safe_load(raw) if raw.strip() else raw
    return out


def load_config(
    preset: str | Path | None = None, overrides: list[str] | None = None
) -> ExperimentConfig:
    """Build a config from defaults, then a YAML preset, then `section.key=value` overrides.

    `preset` is a YAML path or the name of a shipped preset (`rfdreid presets` lists them);
    its `_base_` chain is applied root first, so each file overrides only what it states.
    """
    cfg = ExperimentConfig()
    if preset:
        for source, data in preset_chain(preset):
            _apply(cfg, data, source)
    if overrides:
        _apply(cfg, parse_overrides(overrides), "override")
    return cfg


def config_from_dict(d: dict[str, Any]) -> ExperimentConfig:
    """Rebuild a config (e.g. one stored in a checkpoint) through the same typed path."""
    cfg = ExperimentConfig()
    _apply(cfg, d, "stored config")
    return cfg

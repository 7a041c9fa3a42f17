"""Starting a training run from another rfdreid checkpoint: fine-tuning.

`--set model.pretrained=runs/mlr_market1501/bf/checkpoint.pt` starts a run from a B-F or
B-R that `rfdreid train` wrote (on this or another data set, for this or the other task),
instead of from ImageNet. Copied: the shared trunk, every branch and every channel
attention; also the reductions and classifiers when they fit. Re-initialised: reductions of
another `model.embed_dim`, classifiers of another number of classes, and classifiers
trained for the other task (B-R classes are resolutions, B-F classes persons, even when the
counts agree). The load report (loaded / missing / unexpected / re-initialised) is printed
and becomes the run's recorded `init`.

Architecture (backbone, width_mult, parts, attention, se_reduction) must match: the
weights would not fit, so a mismatch is one line naming the `--set` that would fit.

Input size (data.height x data.width) may differ, with a warning naming both: every pooling
in the network adapts to its input (global average pooling, stripes cut from whatever map
arrives), so the weights fit and the run is well defined; but the features were learnt at
another scale (a person spans other receptive fields), which the new run has to unlearn,
so the user should know they chose it.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from rfdreid.config import ExperimentConfig, ModelConfig
from rfdreid.training.checkpoint import (
    TrainedModel,
    is_checkpoint,
    read_plain,
    trained_model_from_state,
)
from rfdreid.errors import ReIDError
from rfdreid.models import build_model
from rfdreid.models.pretrained import load_network
from rfdreid.models.reid_net import ReIDNet

# ModelConfig keys that shape the trunk and branches; embed_dim only shapes the heads.
ARCHITECTURE_KEYS = ("backbone", "width_mult", "parts", "attention", "se_reduction")


def reid_checkpoint(source: str | None) -> TrainedModel | None:
    """The rfdreid checkpoint `model.pretrained` names, or None for ImageNet / torchvision /
    timm sources (which the backbone loader reads: a `.pth` is then read twice, once here
    to tell the two apart, a second or so against a training run)."""
    if not source or source == "imagenet":
        return None
    path = Path(source)
    if path.suffix == ".safetensors" or not path.is_file():
        return None
    state, digest = read_plain(path, "pretrained file")
    return trained_model_from_state(state, digest, path) if is_checkpoint(state) else None


def _describe(cfg: ModelConfig, keys: list[str]) -> str:
    words = {"backbone": cfg.backbone, "width_mult": f"x{cfg.width_mult:g}",
             "parts": f"parts {cfg.parts}",
             "attention": "with attention" if cfg.attention else "without attention",
             "se_reduction": f"SE reduction {cfg.se_reduction}"}
    return " ".join(words[k] for k in keys)


def _as_set(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_architecture(source: TrainedModel, cfg: ModelConfig) -> None:
    """One-line ReIDError when `cfg` builds another trunk or branches than `source` has."""
    old = source.config.model
    differ = [k for k in ARCHITECTURE_KEYS if getattr(old, k) != getattr(cfg, k)
              and not (k == "se_reduction" and not (old.attention and cfg.attention))]
    if differ:
        shown = list(dict.fromkeys(["backbone", "width_mult", *differ]))
        fix = " ".join(f"model.{k}={_as_set(getattr(old, k))}" for k in differ)
        raise ReIDError(
            f"pretrained {source.path} was trained as {_describe(old, shown)}; this run builds "
            f"{_describe(cfg, shown)}: set {fix} or choose another checkpoint")


def input_size_warning(source: TrainedModel, cfg: ExperimentConfig) -> str | None:
    """Why the run departs from its checkpoint's input size, if it does (module doc)."""
    old, new = source.config.data, cfg.data
    if (old.height, old.width) == (new.height, new.width):
        return None
    return (f"pretrained {source.path} was trained at {old.height}x{old.width}, this run "
            f"trains at {new.height}x{new.width}; the weights fit (all pooling adapts to the "
            "input), but its features were learnt at another scale: set "
            f"data.height={old.height} data.width={old.width} to keep it")


def build_training_model(cfg: ExperimentConfig, num_classes: int,
                         announce: bool = True) -> ReIDNet:
    """The network a run starts from: `build_model` (ImageNet / file / random init), or,
    when `model.pretrained` names an rfdreid checkpoint, that checkpoint's weights copied in
    as the module doc says. announce: print the load report and the input-size warning."""
    source = reid_checkpoint(cfg.model.pretrained)
    if source is None:
        return build_model(cfg.model, num_classes)
    check_architecture(source, cfg.model)
    model = build_model(replace(cfg.model, pretrained=None), num_classes)
    same_task = source.config.train.task == cfg.train.task
    model.pretrained_report = load_network(
        model, source.model_state, str(source.path), heads=model.head_prefixes(),
        relabelled=() if same_task else ("classifiers.",))
    if announce:
        print(model.pretrained_report.summary(), flush=True)
        if warning := input_size_warning(source, cfg):
            print(f"warning: {warning}", file=sys.stderr, flush=True)
    return model

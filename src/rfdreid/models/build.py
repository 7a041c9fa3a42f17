"""`build_model(cfg, num_classes)`: the one place that turns a ModelConfig into a network."""

from __future__ import annotations

from rfdreid.config import ModelConfig
from rfdreid.errors import ReIDError
from rfdreid.models.backbones import BACKBONES, Backbone
from rfdreid.models.pretrained import LoadReport, load_pretrained
from rfdreid.models.reid_net import ReIDNet

RANDOM_INIT = "random init"
# Section 4.1: the paper starts these from ImageNet weights, and none ship offline.
IMAGENET_IN_PAPER = ("resnet50",)


def build_backbone(cfg: ModelConfig) -> tuple[Backbone, LoadReport | None]:
    """The backbone named by `cfg.backbone`, with `cfg.pretrained` weights loaded if set."""
    if cfg.width_mult <= 0:
        raise ReIDError(f"model.width_mult must be positive, got {cfg.width_mult}")
    backbone = BACKBONES.get(cfg.backbone)(width_mult=cfg.width_mult)
    report = load_pretrained(backbone, cfg.backbone, cfg.pretrained) if cfg.pretrained else None
    return backbone, report


def init_summary(cfg: ModelConfig, report: LoadReport | None = None) -> str:
    """How the backbone started, as checkpoints and results record it: "random init", or
    the weights' source (with loaded / missing counts when the load report is at hand)."""
    if not cfg.pretrained:
        return RANDOM_INIT
    return report.summary() if report else f"pretrained {cfg.pretrained}"


def random_init_warning(cfg: ModelConfig) -> str | None:
    """Why a run departs from the paper when its ResNet-50 would start from random weights."""
    if cfg.pretrained or cfg.backbone not in IMAGENET_IN_PAPER:
        return None
    return (
        f"model.pretrained is unset, so {cfg.backbone} starts from random weights; the paper "
        "starts from ImageNet weights, which do not ship offline. Pass a local torchvision or "
        "timm file: --set model.pretrained=/path/to/resnet50.pth"
    )


def build_model(cfg: ModelConfig, num_classes: int) -> ReIDNet:
    """B-F (`num_classes` = training ids) or B-R (`num_classes` = resolution classes).

    Example::

        model = build_model(ModelConfig(backbone="resnet18", width_mult=0.5), num_classes=751)
        model.train(); out = model(x)          # x [B, 3, H, W] -> ReIDOutput
        model.eval(); emb = model(x)           # -> [B, model.feature_dim]
        model.pretrained_report                # LoadReport or None
    """
    if num_classes < 2:
        raise ReIDError(f"a classifier needs at least 2 classes, got {num_classes}")
    if any(p < 1 for p in cfg.parts):
        raise ReIDError(f"model.parts must list stripe counts >= 1, got {cfg.parts}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ReIDError(f"model.dropout must be in [0, 1), got {cfg.dropout}")
    backbone, report = build_backbone(cfg)
    model = ReIDNet(
        backbone,
        num_classes,
        parts=list(cfg.parts),
        embed_dim=cfg.embed_dim,
        dropout=cfg.dropout,
        attention=cfg.attention,
        se_reduction=cfg.se_reduction,
    )
    model.pretrained_report = report
    return model

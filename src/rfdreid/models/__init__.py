"""Networks: backbones, channel attention, the MGN-style re-id head, complexity counts."""

from rfdreid.models.backbones import BACKBONES, Backbone
from rfdreid.models.build import build_backbone, build_model
from rfdreid.models.pretrained import LoadReport
from rfdreid.models.reid_net import ReIDNet, ReIDOutput

__all__ = [
    "BACKBONES",
    "Backbone",
    "LoadReport",
    "ReIDNet",
    "ReIDOutput",
    "build_backbone",
    "build_model",
]

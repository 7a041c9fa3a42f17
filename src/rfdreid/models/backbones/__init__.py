"""Backbones by name: `BACKBONES.get("resnet50")(width_mult=1.0) -> Backbone`.

Importing this package registers every backbone module below.
"""

from rfdreid.models.backbones import mobilenetv2, resnet  # noqa: F401  (registration)
from rfdreid.models.backbones.base import Backbone, remove_downsampling
from rfdreid.models.backbones.registry import BACKBONES

__all__ = ["BACKBONES", "Backbone", "remove_downsampling"]

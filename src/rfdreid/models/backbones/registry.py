"""`BACKBONES`: backbone name -> builder `(width_mult: float) -> Backbone`."""

from collections.abc import Callable

from rfdreid.models.backbones.base import Backbone
from rfdreid.registry import Registry

BACKBONES: Registry[Callable[..., Backbone]] = Registry("backbone")

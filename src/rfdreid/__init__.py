"""rfdreid: cross-resolution person re-identification with Resolution based Feature Distillation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from rfdreid.api import ReIDModel

__all__ = ["ReIDModel", "__version__"]


def __getattr__(name: str) -> Any:
    """`rfdreid.ReIDModel` imports torch only when first used, so `import rfdreid` stays light."""
    if name == "ReIDModel":
        from rfdreid.api import ReIDModel

        return ReIDModel
    raise AttributeError(f"module 'rfdreid' has no attribute {name!r}")

"""A tiny typed name -> builder registry, used for backbones and datasets.

Why: one obvious place lists what can be chosen by name, and an unknown name fails with
the list of valid ones instead of falling through an if/elif chain.
"""

from collections.abc import Callable
from typing import Generic, TypeVar

from rfdreid.errors import ReIDError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to builders.

    Example::

        BACKBONES: Registry[Callable[..., nn.Module]] = Registry("backbone")

        @BACKBONES.register("resnet50")
        def resnet50(**kw): ...

        BACKBONES.get("resnet50")(**kw)
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ReIDError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

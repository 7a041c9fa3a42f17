"""Uploaded query images: size-capped, decoded like every image file, kept in memory.

Why in memory: an upload is a query, not part of the gallery; writing it into the
gallery folder would change the gallery (and its cache) under the user's feet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from collections import OrderedDict
from io import BytesIO
from typing import Generic, TypeVar

from PIL import Image

from rfdreid.data.images import decode_image
from rfdreid.errors import ReIDError

DEFAULT_MAX_UPLOAD_BYTES = 8 * 2**20
_KEPT_UPLOADS = 32  # the oldest upload is forgotten beyond this many
T = TypeVar("T")


class UploadTooLarge(ReIDError):
    """An upload over the size cap (answered 413, never decoded)."""


def decode_upload(data: bytes, filename: str, max_bytes: int) -> Image.Image:
    """The RGB image of an upload, or ReIDError (UploadTooLarge over `max_bytes`)."""
    if len(data) > max_bytes:
        raise UploadTooLarge(f"{filename} is {len(data)} bytes; uploads are capped at "
                             f"{max_bytes} bytes (rfdreid serve --max-upload-mb)")
    return decode_image(data, filename)


class UploadStore(Generic[T]):
    """The last few uploads by content token, each with whatever the caller derived from it."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[bytes, T]] = OrderedDict()

    def add(self, image: Image.Image, derive: Callable[[str], T]) -> str:
        """Keep `image` (re-encoded as PNG: the browser gets decoded pixels, never the raw
        upload) with `derive(token)`; returns the token."""
        buf = BytesIO()
        image.save(buf, format="PNG")
        png = buf.getvalue()
        token = hashlib.sha1(png).hexdigest()[:16]
        self._items[token] = (png, derive(token))
        self._items.move_to_end(token)
        while len(self._items) > _KEPT_UPLOADS:
            self._items.popitem(last=False)
        return token

    def png(self, token: str) -> bytes:
        """The PNG of an upload; KeyError when unknown or forgotten."""
        return self._items[token][0]

    def derived(self, token: str) -> T:
        """What was stored with the upload; KeyError when unknown or forgotten."""
        return self._items[token][1]

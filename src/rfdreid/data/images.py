"""Reading images from disk, with errors that name the file.

Why a module: every reader and the training dataset open images the same way; a corrupt
file must fail with its path (a user-fixable ReIDError), not with a bare PIL traceback
deep inside a DataLoader worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from rfdreid.errors import ReIDError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
"""File suffixes (lower case) that readers treat as images; anything else is ignored."""

MAX_PIXELS = 40_000_000
"""Larger images are refused unread: a 48 KB PNG can claim 20000 x 20000 pixels and
decode to 1.2 GB (a "decompression bomb"); no person crop comes near this size."""

_READ_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError,
                Image.DecompressionBombError)


def is_image_file(path: Path) -> bool:
    """True for files with an image suffix (so `Thumbs.db`, `readme.txt` are skipped),
    except macOS resource forks `._name.jpg`, which carry an image suffix but no image."""
    return (path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS
            and not path.name.startswith("._"))


def list_images(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted by name (deterministic order)."""
    return sorted(p for p in folder.iterdir() if is_image_file(p))


@contextmanager
def open_image(path: str | Path | BytesIO, name: str | None = None) -> Iterator[Image.Image]:
    """Image.open with errors (unreadable, damaged, too many pixels) as a ReIDError naming
    the file (or `name`, for bytes that are no file); the size is checked from the header,
    before any pixel is decoded."""
    name = name or str(path)
    try:
        with Image.open(path) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ReIDError(f"image {name} is {w} x {h} pixels, more than the "
                                f"{MAX_PIXELS:,} allowed (a decompression bomb?); remove it")
            yield img
    except _READ_ERRORS as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ReIDError(f"cannot read image {name}: {message}; replace or delete the "
                        "file") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB of any mode; 16/32-bit grey (I;16, I) and float (F) are scaled to 8 bits, not
    clipped (Pillow's convert clips a 16-bit image to almost white)."""
    if img.mode.startswith("I;16") or img.mode == "I":
        arr = np.asarray(img.convert("I"), dtype=np.float64)
        img = Image.fromarray((arr.clip(0, 65535) / 257).round().astype(np.uint8))
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        scale = 255.0 if np.nanmax(arr, initial=0) <= 1 else 1.0
        img = Image.fromarray(np.nan_to_num(arr * scale).clip(0, 255).round().astype(np.uint8))
    return img.convert("RGB")


def read_image(path: str | Path) -> Image.Image:
    """Decode an image fully and return it as 8-bit RGB.

    Raises ReIDError naming the file when it cannot be decoded (truncated, not an image,
    too large).
    """
    with open_image(path) as img:
        img.load()
        return to_rgb(img)


def decode_image(data: bytes, name: str) -> Image.Image:
    """read_image for bytes that are not a file (an upload): same decoder, same checks.

    Raises ReIDError naming `name` when the bytes are not a decodable image.
    """
    with open_image(BytesIO(data), name) as img:
        img.load()
        return to_rgb(img)


def read_image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the file header only: cheap enough to validate 30k images.

    Raises ReIDError naming the file when the header is unreadable. Damage past the
    header is only found when read_image decodes the file (prepare --check-images).
    """
    with open_image(path) as img:
        return img.size

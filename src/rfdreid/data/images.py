"""Reading images from disk, with errors that name the file.

Why a module: every reader and the training dataset open images the same way; a corrupt
file must fail with its path (a user-fixable ReIDError), not with a bare PIL traceback
deep inside a DataLoader worker.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from rfdreid.errors import ReIDError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
"""File suffixes (lower case) that readers treat as images; anything else is ignored."""

# DecompressionBombError: a small file that decodes to a huge image is refused, not decoded.
_READ_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError,
                Image.DecompressionBombError)


def is_image_file(path: Path) -> bool:
    """True for files with an image suffix (so `Thumbs.db`, `readme.txt` are skipped)."""
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted by name (deterministic order)."""
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def read_image(path: str | Path) -> Image.Image:
    """Decode an image fully and return it as RGB.

    Raises ReIDError naming the file when it cannot be decoded (truncated, not an image).
    """
    return _decode_rgb(path, str(path), "; replace or delete the file")


def _decode_rgb(source: str | Path | BytesIO, name: str, advice: str) -> Image.Image:
    try:
        with Image.open(source) as img:
            return img.convert("RGB")
    except _READ_ERRORS as e:
        raise ReIDError(f"cannot read image {name}: {e}{advice}") from None


def decode_image(data: bytes, name: str) -> Image.Image:
    """read_image for bytes that are not a file (an upload): same decoder, same checks.

    Raises ReIDError naming `name` when the bytes are not a decodable image.
    """
    return _decode_rgb(BytesIO(data), name, "")


def read_image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the file header only: cheap enough to validate 30k images.

    Raises ReIDError naming the file when the header is unreadable. Damage past the
    header is only found when read_image decodes the file.
    """
    try:
        with Image.open(path) as img:
            return img.size
    except _READ_ERRORS as e:
        raise ReIDError(f"cannot read image {path}: {e}; replace or delete the file") from None

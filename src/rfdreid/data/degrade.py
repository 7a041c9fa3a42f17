"""THE place of the MLR degradation: down-sample by a factor r, up-sample back.

Why up-sample back: as in SING and the paper (section 3.1), the low-resolution copy
x^L keeps the H x W size of x^H, so HR and LR images share one input pipeline, and the
information lost is that of a camera with r times fewer pixels per side.
"""

from __future__ import annotations

from PIL import Image

from rfdreid.data.images import read_image
from rfdreid.data.records import ImageRecord
from rfdreid.errors import ReIDError

INTERPOLATIONS: dict[str, Image.Resampling] = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
}


def resampling(interpolation: str) -> Image.Resampling:
    """Pillow filter for an interpolation name; unknown names fail with the valid ones."""
    try:
        return INTERPOLATIONS[interpolation]
    except KeyError:
        raise ReIDError(
            f"unknown interpolation {interpolation!r}; choose one of: {', '.join(INTERPOLATIONS)}"
        ) from None


def degrade(img: Image.Image, factor: int, interpolation: str) -> Image.Image:
    """Simulate a camera with `factor` times lower resolution.

    The image is resized to (round(W/r), round(H/r)) (at least 1 x 1) and back to (W, H)
    with the same Pillow filter. factor 1 returns `img` itself, unchanged.

    Example::

        lr = degrade(read_image(path), 3, "bicubic")   # lr.size == img.size
    """
    if factor < 1:
        raise ValueError(f"down-sampling factor must be >= 1, got {factor}")
    flt = resampling(interpolation)
    if factor == 1:
        return img
    w, h = img.size
    small = img.resize((max(1, round(w / factor)), max(1, round(h / factor))), flt)
    return small.resize((w, h), flt)


def load_as_seen(record: ImageRecord, interpolation: str) -> Image.Image:
    """A record's image as a model sees it: its source degraded by the record's factor."""
    return degrade(read_image(record.path), record.factor, interpolation)

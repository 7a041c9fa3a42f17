"""Image -> tensor pipelines for training and testing, without torchvision.

Why an explicit numpy Generator: the flip and erasing draws of a sample come from the
generator its sampler hands over, so a resumed run (or another worker count) sees
exactly the same augmented images.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

Transform = Callable[[Image.Image, "np.random.Generator | None"], torch.Tensor]


def to_normalized_array(img: Image.Image, height: int, width: int) -> np.ndarray:
    """Resize (Pillow bilinear) to height x width and normalise: `[3, H, W]` float32."""
    img = img.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    arr = (np.asarray(img, dtype=np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def random_erase(
    arr: np.ndarray,
    rng: np.random.Generator,
    area: tuple[float, float] = (0.02, 0.4),
    aspect: tuple[float, float] = (0.3, 3.3),
    attempts: int = 100,
) -> np.ndarray:
    """Random erasing (Zhong et al., AAAI 2020) of a normalised `[3, H, W]` array, in place.

    A rectangle of area in `area` x H*W and aspect ratio in `aspect` (log-uniform) is set
    to the ImageNet mean (0 after normalisation), as torchreid and fast-reid do. Gives up
    after `attempts` draws that do not fit.
    """
    _, h, w = arr.shape
    for _ in range(attempts):
        target = rng.uniform(*area) * h * w
        ratio = math.exp(rng.uniform(math.log(aspect[0]), math.log(aspect[1])))
        eh, ew = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < eh < h and 0 < ew < w:
            y, x = int(rng.integers(0, h - eh + 1)), int(rng.integers(0, w - ew + 1))
            arr[:, y:y + eh, x:x + ew] = 0.0
            return arr
    return arr


def build_transform(
    height: int,
    width: int,
    train: bool,
    flip_p: float = 0.5,
    erasing_p: float = 0.5,
) -> Transform:
    """A callable (PIL image, rng) -> `[3, height, width]` float32 tensor.

    train=False: resize + normalise only (rng ignored). train=True: resize, horizontal
    flip with probability flip_p, normalise, random erasing with probability erasing_p;
    draws come from rng (a fresh unseeded generator when rng is None).

    Example::

        tf = build_transform(256, 128, train=True)
        x = tf(read_image(path), np.random.default_rng(7))   # x.shape == (3, 256, 128)
    """
    def transform(img: Image.Image, rng: np.random.Generator | None = None) -> torch.Tensor:
        arr = to_normalized_array(img, height, width)
        if train:
            rng = rng if rng is not None else np.random.default_rng()
            if rng.random() < flip_p:
                arr = np.ascontiguousarray(arr[:, :, ::-1])
            if rng.random() < erasing_p:
                random_erase(arr, rng)
        return torch.from_numpy(arr)

    return transform

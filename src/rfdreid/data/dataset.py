"""The torch Dataset that turns protocol records into (image, labels) samples.

Why here and not in the protocol: records only name the source image and its factor r;
the degraded copy is made on load (degrade), so no LR images are stored on disk and the
same protocol file serves any input size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from rfdreid.data.degrade import degrade, resampling
from rfdreid.data.images import read_image
from rfdreid.data.records import ImageRecord
from rfdreid.data.transforms import Transform

Sample = tuple[torch.Tensor, int, int, int, int]


class ReIDImageDataset(Dataset[Sample]):
    """Records -> `(image [3, H, W], pid, camid, res_label, index)`.

    Items are an int index, or `(index, aug_seed)`: a sampler that yields the tuple form
    makes augmentation depend only on the sample and its seed (not on worker order), so
    training resumes exactly. With an int index in train mode augmentation is unseeded.

    cache_size > 0 keeps that many decoded source images (LRU): the MLR training set
    reads every HR image twice (HR record and LR copy).

    Example::

        ds = ReIDImageDataset(protocol.train, build_transform(256, 128, True), "bicubic", True)
        img, pid, camid, res, idx = ds[(0, 1234)]
    """

    def __init__(
        self,
        records: Sequence[ImageRecord],
        transform: Transform,
        interpolation: str,
        train: bool,
        cache_size: int = 0,
    ) -> None:
        resampling(interpolation)
        self.records = list(records)
        self.transform = transform
        self.interpolation = interpolation
        self.train = train
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Image.Image] = OrderedDict()

    def __len__(self) -> int:
        return len(self.records)

    def _source(self, path: str) -> Image.Image:
        if self.cache_size <= 0:
            return read_image(path)
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        img = read_image(path)
        self._cache[path] = img
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return img

    def __getitem__(self, item: int | tuple[int, int]) -> Sample:
        index, aug_seed = (item, None) if isinstance(item, (int, np.integer)) else item
        index = int(index)
        rec = self.records[index]
        img = degrade(self._source(rec.path), rec.factor, self.interpolation)
        rng = np.random.default_rng(aug_seed) if (self.train and aug_seed is not None) else None
        return self.transform(img, rng), rec.pid, rec.camid, rec.res_label, index

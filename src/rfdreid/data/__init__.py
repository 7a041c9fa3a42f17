"""Data side: dataset readers, the MLR degradation, protocols, transforms, torch Dataset.

Where things live: degrade.py (THE MLR down/up-sampling), protocols.py (THE MLR and
real-resolution protocols, CAVIAR's among them), resolution.py (resolution labels /
pseudo-labels), diagnostics.py (prepare's refusals and pixel-count report), datasets/
(one reader per dataset, registry DATASETS), synthetic.py (generated pedestrians),
transforms.py (image -> tensor), dataset.py (records -> samples), prepare.py (reader +
protocol -> protocol files on disk).
"""

from rfdreid.data.dataset import ReIDImageDataset
from rfdreid.data.datasets import DATASETS, RawDataset
from rfdreid.data.degrade import INTERPOLATIONS, degrade
from rfdreid.data.images import IMAGE_EXTENSIONS, read_image, read_image_size
from rfdreid.data.prepare import prepare
from rfdreid.data.protocols import build_caviar_protocol, build_mlr_protocol, build_real_protocol
from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.data.resolution import FACTORS, factor_index, pixel_count_labels
from rfdreid.data.synthetic import generate_synthetic
from rfdreid.data.transforms import build_transform

__all__ = [
    "DATASETS", "FACTORS", "IMAGE_EXTENSIONS", "INTERPOLATIONS", "ImageRecord", "Protocol",
    "RawDataset", "ReIDImageDataset", "build_caviar_protocol",
    "build_mlr_protocol", "build_real_protocol", "build_transform", "degrade", "factor_index",
    "generate_synthetic",
    "pixel_count_labels", "prepare", "read_image", "read_image_size",
]

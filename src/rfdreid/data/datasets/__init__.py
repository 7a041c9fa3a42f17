"""Dataset readers: one module per dataset, each registered in DATASETS by name."""

from rfdreid.data.datasets import caviar, dukemtmc, folder, manifest, market1501, synthetic
from rfdreid.data.datasets.base import DATASETS, RawDataset, read_dataset, read_split_folders

__all__ = ["DATASETS", "RawDataset", "caviar", "dukemtmc", "folder", "manifest", "market1501",
           "read_dataset", "read_split_folders", "synthetic"]

"""Resolution class labels for the resolution baseline B-R (paper section 3.5).

Synthetic (MLR) sets know the down-sampling factor of every image, so its index is the
label. Real multi-resolution sets (CAVIAR) do not: the paper bins the pixel count
(width x height) of each image into 5 equal-width bins and uses the bin as pseudo-label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rfdreid.errors import ReIDError

FACTORS: tuple[int, ...] = (1, 2, 3, 4)
"""Down-sampling factors of the MLR protocols; their index is the resolution label."""

LR_FACTORS: tuple[int, ...] = (2, 3, 4)
"""Factors drawn for low-resolution copies and queries (SING)."""


def factor_index(factor: int) -> int:
    """Resolution label of a known factor: 1 -> 0 (HR), 2 -> 1, 3 -> 2, 4 -> 3."""
    try:
        return FACTORS.index(factor)
    except ValueError:
        raise ReIDError(f"unknown down-sampling factor {factor}; known: {FACTORS}") from None


def pixel_count_edges(
    sizes: Sequence[tuple[int, int]], num_bins: int = 5, mode: str = "uniform"
) -> np.ndarray:
    """Bin edges `[num_bins + 1]` over the pixel counts of `sizes` ((width, height) pairs).

    mode "uniform": equal-width bins between the smallest and largest count (the paper);
    mode "quantile": bins holding about the same number of images.
    """
    if not sizes:
        raise ReIDError("cannot compute resolution pseudo-labels of an empty image set")
    counts = np.array([w * h for w, h in sizes], dtype=np.float64)
    if mode == "uniform":
        return np.linspace(counts.min(), counts.max(), num_bins + 1)
    if mode == "quantile":
        return np.quantile(counts, np.linspace(0.0, 1.0, num_bins + 1))
    raise ReIDError(f"unknown pseudo-label mode {mode!r}; choose uniform or quantile")


def assign_pixel_bins(sizes: Sequence[tuple[int, int]], edges: np.ndarray) -> np.ndarray:
    """Bin index `[N]` (int64, 0 = fewest pixels) of each (width, height) for given edges.

    Counts outside the edges (test images smaller or larger than every training image)
    go to the first or last bin.
    """
    counts = np.array([w * h for w, h in sizes], dtype=np.float64)
    labels = np.searchsorted(edges[1:-1], counts, side="right")
    return labels.astype(np.int64)


def pixel_count_labels(
    sizes: Sequence[tuple[int, int]], num_bins: int = 5, mode: str = "uniform"
) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-labels of section 3.5: (labels `[N]` in 0..num_bins-1, edges `[num_bins+1]`).

    Example::

        labels, edges = pixel_count_labels([(16, 39), (31, 72), (75, 150)])
        # labels == [0, 0, 4]; edges[0] == 624, edges[-1] == 11250
    """
    edges = pixel_count_edges(sizes, num_bins, mode)
    return assign_pixel_bins(sizes, edges), edges

"""THE place of the evaluation protocols: which image, at which resolution, in which set.

MLR protocol (SING, Jiao et al. AAAI 2018; the paper's MLR-Market / MLR-Duke) for sets
with HR images only: low resolution is simulated by a seeded down-sampling factor per
image. CAVIAR protocol (paper section 4.2, Table 5) for the real multi-resolution set:
seeded 25 / 25 identity splits, real resolutions, pixel-count pseudo-labels.
Same arguments -> the same Protocol, record for record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from rfdreid.data.datasets.base import RawDataset, relabel
from rfdreid.data.degrade import resampling
from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.data.resolution import (
    FACTORS,
    LR_FACTORS,
    assign_pixel_bins,
    factor_index,
    pixel_count_labels,
)
from rfdreid.errors import ReIDError

GALLERY_MODES = ("single", "multi")
CAVIAR_RES_CLASSES = 5
CAVIAR_SPLITS = 10  # random splits of the paper


def _check_modes(gallery_modes: Sequence[str]) -> None:
    bad = [m for m in gallery_modes if m not in GALLERY_MODES]
    if bad or not gallery_modes:
        raise ReIDError(f"unknown gallery protocol {bad}; choose from {', '.join(GALLERY_MODES)}")


def _with_factors(
    records: list[ImageRecord], factors: Sequence[int], rng: np.random.Generator
) -> list[ImageRecord]:
    """Copies of records with a factor drawn uniformly from `factors` each."""
    drawn = rng.choice(np.array(factors), size=len(records))
    return [replace(r, factor=int(f), res_label=factor_index(int(f)))
            for r, f in zip(records, drawn)]


def build_mlr_protocol(
    raw: RawDataset,
    seed: int,
    interpolation: str = "bicubic",
    gallery_modes: Sequence[str] = GALLERY_MODES,
) -> Protocol:
    """The multiple-low-resolution protocol of SING on a dataset of HR images.

    train: every HR image (factor 1) followed by one LR copy of each, r drawn from {2,3,4}
        (2 x N_train records, same pids).
    query: every query image with r drawn from {2,3,4}.
    galleries["single"]: every gallery image at HR (factor 1).
    galleries["multi"]: every gallery image with r drawn from {1,2,3,4}.
    res_label = factor index (1 -> 0, ..., 4 -> 3); num_res_classes = 4.
    Each subset draws from its own seeded stream, so adding a gallery mode does not
    change the queries.
    """
    _check_modes(gallery_modes)
    resampling(interpolation)  # fail early on a bad name
    train = raw.subset("train")
    streams = {name: np.random.default_rng([seed, i]) for i, name in
               enumerate(("train", "query", "single", "multi"))}
    galleries = {}
    if "single" in gallery_modes:
        galleries["single"] = list(raw.subset("gallery"))
    if "multi" in gallery_modes:
        galleries["multi"] = _with_factors(raw.subset("gallery"), FACTORS, streams["multi"])
    return Protocol(
        dataset=raw.name,
        interpolation=interpolation,
        seed=seed,
        num_res_classes=len(FACTORS),
        train=list(train) + _with_factors(train, LR_FACTORS, streams["train"]),
        query=_with_factors(raw.subset("query"), LR_FACTORS, streams["query"]),
        galleries=galleries,
        meta={"protocol": "mlr", "root": str(raw.root), "factors": list(FACTORS)},
    )


def caviar_query_camera(raw: RawDataset, records: Sequence[ImageRecord]) -> int:
    """The camera with the lower mean pixel count: its images are the LR queries."""
    means = {}
    for cam in sorted({r.camid for r in records}):
        counts = [np.prod(raw.sizes[r.path]) for r in records if r.camid == cam]
        means[cam] = float(np.mean(counts))
    return min(means, key=lambda c: means[c])


def two_camera_records(raw: RawDataset) -> list[ImageRecord]:
    """CAVIAR records of the identities seen by both cameras (the paper drops the others)."""
    records = raw.subset("all")
    cams: dict[int, set[int]] = {}
    for r in records:
        cams.setdefault(r.pid, set()).add(r.camid)
    keep = [r for r in records if len(cams[r.pid]) == 2]
    num_ids = len({r.pid for r in keep})
    if num_ids < 2:
        raise ReIDError(f"CAVIAR folder {raw.root} has {num_ids} identities seen by both "
                        "cameras; at least 2 are needed (the release has 50)")
    return keep


def build_caviar_protocol(
    raw: RawDataset,
    seed: int,
    split: int,
    interpolation: str = "bicubic",
    gallery_modes: Sequence[str] = GALLERY_MODES,
    pseudo_label_mode: str = "uniform",
) -> Protocol:
    """Split `split` of the CAVIAR protocol (SING / paper section 4.2 and Table 5).

    Identities seen by one camera only are dropped (50 remain in the release); a RNG
    seeded with (seed, split) draws half of them (25) for training, the rest is test.
    The camera with the lower mean pixel count (over all kept images) is the LR camera.

    train: all images of the train ids (pids relabelled 0..24), factor 1.
    query: the LR camera's images of the test ids, factor 1 (real resolution).
    galleries["single"]: the other (HR) camera's images of the test ids.
    galleries["multi"]: ONE image per test id, drawn at random from ALL its images, of
        both cameras and so of all resolutions (section 4.4: "randomly pick one image for
        each identity from all the resolutions"); gallery_queries["multi"]: every other
        test image, HR ones included. The paper explains the higher multi-resolution
        scores of Table 5 by exactly this: "multiple HR query images are also present".
        Under the cross-camera rule a query whose id's gallery image comes from its own
        camera has no valid match and is skipped, so each id is queried from the camera
        its gallery image is not from.
    res_label: pixel-count pseudo-label (section 3.5), bins computed on the training
        images and applied to every image; num_res_classes = 5. meta holds the edges.
    Interpolation is recorded only (no image is degraded on CAVIAR).
    """
    _check_modes(gallery_modes)
    resampling(interpolation)
    records = two_camera_records(raw)
    pids = sorted({r.pid for r in records})
    rng = np.random.default_rng([seed, split])
    train_ids = set(int(p) for p in rng.choice(pids, size=len(pids) // 2, replace=False))
    test_ids = [p for p in pids if p not in train_ids]
    query_cam = caviar_query_camera(raw, records)

    train = relabel([r for r in records if r.pid in train_ids])
    labels, edges = pixel_count_labels([raw.sizes[r.path] for r in train], CAVIAR_RES_CLASSES,
                                       pseudo_label_mode)

    def labelled(recs: list[ImageRecord]) -> list[ImageRecord]:
        bins = assign_pixel_bins([raw.sizes[r.path] for r in recs], edges)
        return [replace(r, res_label=int(b)) for r, b in zip(recs, bins)]

    test = [r for r in records if r.pid not in train_ids]
    query = [r for r in test if r.camid == query_cam]
    others = [r for r in test if r.camid != query_cam]
    galleries = {}
    if "single" in gallery_modes:
        galleries["single"] = labelled(others)
    gallery_queries = {}
    if "multi" in gallery_modes:
        pick = np.random.default_rng([seed, split, 1])
        multi = []
        for pid in test_ids:
            candidates = [r for r in test if r.pid == pid]
            multi.append(candidates[int(pick.integers(len(candidates)))])
        galleries["multi"] = labelled(multi)
        chosen = set(multi)
        gallery_queries["multi"] = labelled([r for r in test if r not in chosen])
    return Protocol(
        dataset=raw.name,
        interpolation=interpolation,
        seed=seed,
        num_res_classes=CAVIAR_RES_CLASSES,
        train=[replace(r, res_label=int(b)) for r, b in zip(train, labels)],
        query=labelled(query),
        galleries=galleries,
        gallery_queries=gallery_queries,
        split=split,
        meta={
            "protocol": "caviar",
            "root": str(raw.root),
            "query_camera": query_cam,
            "train_ids": sorted(train_ids),
            "test_ids": test_ids,
            "res_bin_edges": [float(e) for e in edges],
            "pseudo_label_mode": pseudo_label_mode,
        },
    )

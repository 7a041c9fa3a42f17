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
# CAVIAR only: the whole HR camera as gallery (rfdreid before the paper's one-image gallery).
CAVIAR_GALLERY_MODES = (*GALLERY_MODES, "single_all")
CAVIAR_RES_CLASSES = 5
CAVIAR_SPLITS = 10  # random splits of the paper


def _check_modes(gallery_modes: Sequence[str], allowed: Sequence[str] = GALLERY_MODES) -> None:
    bad = [m for m in gallery_modes if m not in allowed]
    if bad or not gallery_modes:
        raise ReIDError(f"unknown gallery protocol {bad}; choose from {', '.join(allowed)}")


def _hold_out(ids: Sequence[int], count: int, rng: np.random.Generator) -> set[int]:
    """`count` of `ids` drawn for validation; ReIDError when too few would stay to train."""
    if count < 0 or count > len(ids) - 2:
        raise ReIDError(f"--val-ids must be in 0..{len(ids) - 2} (the training set has "
                        f"{len(ids)} identities and keeps at least 2), got {count}")
    return {int(p) for p in rng.choice(np.array(sorted(ids)), size=count, replace=False)}


def _with_factors(
    records: list[ImageRecord], factors: Sequence[int], rng: np.random.Generator
) -> list[ImageRecord]:
    """Copies of records with a factor drawn uniformly from `factors` each."""
    drawn = rng.choice(np.array(factors), size=len(records))
    return [replace(r, factor=int(f), res_label=factor_index(int(f)))
            for r, f in zip(records, drawn)]


def _mlr_test_sets(
    query: list[ImageRecord], gallery: list[ImageRecord], gallery_modes: Sequence[str],
    streams: dict[str, np.random.Generator],
) -> tuple[list[ImageRecord], dict[str, list[ImageRecord]]]:
    """LR queries and the galleries of the MLR protocol, drawn from `streams`."""
    galleries = {}
    if "single" in gallery_modes:
        galleries["single"] = list(gallery)
    if "multi" in gallery_modes:
        galleries["multi"] = _with_factors(gallery, FACTORS, streams["multi"])
    return _with_factors(query, LR_FACTORS, streams["query"]), galleries


def _mlr_validation(
    held_out: list[ImageRecord], rng: np.random.Generator, gallery_modes: Sequence[str],
    streams: dict[str, np.random.Generator], base: Protocol,
) -> Protocol:
    """Market-style query/gallery from held-out training ids: per id and camera one query."""
    order = rng.permutation(len(held_out))
    seen: set[tuple[int, int]] = set()
    query, gallery = [], []
    for i in order:
        r = held_out[int(i)]
        (gallery if (r.pid, r.camid) in seen else query).append(r)
        seen.add((r.pid, r.camid))
    query, galleries = _mlr_test_sets(sorted(query, key=_order), sorted(gallery, key=_order),
                                      gallery_modes, streams)
    return replace(base, train=[], query=query, galleries=galleries, meta={"protocol": "mlr"})


def _order(r: ImageRecord) -> tuple[str, int]:
    return r.path, r.camid


def build_mlr_protocol(
    raw: RawDataset,
    seed: int,
    interpolation: str = "bicubic",
    gallery_modes: Sequence[str] = GALLERY_MODES,
    val_ids: int = 0,
) -> Protocol:
    """The multiple-low-resolution protocol of SING on a dataset of HR images.

    train: every HR image (factor 1) followed by one LR copy of each, r drawn from {2,3,4}
        (2 x N_train records, same pids).
    query: every query image with r drawn from {2,3,4}.
    galleries["single"]: every gallery image at HR (factor 1).
    galleries["multi"]: every gallery image with r drawn from {1,2,3,4}.
    res_label = factor index (1 -> 0, ..., 4 -> 3); num_res_classes = 4.
    val_ids: that many training identities (seeded) are held out of train and become
    `validation` (per id and camera one query, the rest gallery; degraded as the test).
    Each subset draws from its own seeded stream, so adding a gallery mode does not
    change the queries.
    """
    _check_modes(gallery_modes)
    resampling(interpolation)  # fail early on a bad name
    train = raw.subset("train")
    streams = {name: np.random.default_rng([seed, i]) for i, name in
               enumerate(("train", "query", "single", "multi"))}
    held = _hold_out(sorted({r.pid for r in train}), val_ids, np.random.default_rng([seed, 10]))
    kept = relabel([r for r in train if r.pid not in held]) if held else train
    query, galleries = _mlr_test_sets(raw.subset("query"), raw.subset("gallery"), gallery_modes,
                                      streams)
    protocol = Protocol(
        dataset=raw.name,
        interpolation=interpolation,
        seed=seed,
        num_res_classes=len(FACTORS),
        train=list(kept) + _with_factors(kept, LR_FACTORS, streams["train"]),
        query=query,
        galleries=galleries,
        meta={"protocol": "mlr", "root": str(raw.root), "factors": list(FACTORS)},
    )
    if held:
        val_streams = {name: np.random.default_rng([seed, 11, i])
                       for i, name in enumerate(("query", "multi"))}
        protocol.validation = _mlr_validation(
            [r for r in train if r.pid in held], np.random.default_rng([seed, 12]),
            gallery_modes, val_streams, protocol)
        protocol.meta["val_ids"] = sorted(held)
    return protocol


def redraw_degradation(protocol: Protocol, repeat: int) -> Protocol:
    """The MLR protocol with query and multi-resolution gallery factors drawn anew.

    Section 4.3: "we make random splits of the data for 10 times and then take the
    average". Repeat 0 is the protocol itself; repeat k > 0 draws from streams seeded with
    (seed, k), so every repeat is reproducible. Training records never change, so one
    trained model serves every repeat. Only MLR protocols have factors to redraw.
    """
    if repeat == 0:
        return protocol
    if protocol.meta.get("protocol") != "mlr":
        raise ReIDError("--repeats re-draws the down-sampling of MLR protocols; "
                        f"a {protocol.meta.get('protocol')} protocol has fixed real "
                        "resolutions (use its splits instead)")
    rng = {name: np.random.default_rng([protocol.seed, 100 + repeat, i])
           for i, name in enumerate(("query", "multi"))}
    galleries = dict(protocol.galleries)
    if "multi" in galleries:
        galleries["multi"] = _with_factors(galleries["multi"], FACTORS, rng["multi"])
    return replace(protocol, query=_with_factors(protocol.query, LR_FACTORS, rng["query"]),
                   galleries=galleries, meta={**protocol.meta, "repeat": repeat})


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


def _caviar_test_sets(
    test: list[ImageRecord], query_cam: int, gallery_modes: Sequence[str],
    pick: np.random.Generator,
) -> tuple[list[ImageRecord], dict[str, list[ImageRecord]], dict[str, list[ImageRecord]]]:
    """Query, galleries and gallery-specific queries of CAVIAR test (or validation) ids.

    `pick` draws the one-image-per-id galleries: first "multi" (from all images), then
    "single" (from the HR camera), so adding "single" leaves the multi gallery unchanged.
    """
    ids = sorted({r.pid for r in test})
    query = [r for r in test if r.camid == query_cam]
    others = [r for r in test if r.camid != query_cam]

    def one_per_id(pool: list[ImageRecord]) -> list[ImageRecord]:
        chosen = []
        for pid in ids:
            candidates = [r for r in pool if r.pid == pid]
            chosen.append(candidates[int(pick.integers(len(candidates)))])
        return chosen

    galleries, gallery_queries = {}, {}
    if "multi" in gallery_modes:
        galleries["multi"] = one_per_id(test)
        chosen = set(galleries["multi"])
        gallery_queries["multi"] = [r for r in test if r not in chosen]
    if "single" in gallery_modes:
        galleries["single"] = one_per_id(others)
    if "single_all" in gallery_modes:
        galleries["single_all"] = others
        gallery_queries["single_all"] = query
    return query, galleries, gallery_queries


def build_caviar_protocol(
    raw: RawDataset,
    seed: int,
    split: int,
    interpolation: str = "bicubic",
    gallery_modes: Sequence[str] = CAVIAR_GALLERY_MODES,
    pseudo_label_mode: str = "uniform",
    val_ids: int = 0,
) -> Protocol:
    """Split `split` of the CAVIAR protocol (SING / paper section 4.2 and Table 5).

    Identities seen by one camera only are dropped (50 remain in the release); a RNG
    seeded with (seed, split) draws half of them (25) for training, the rest is test.
    The camera with the lower mean pixel count (over all kept images) is the LR camera.

    train: all images of the train ids (pids relabelled 0..24), factor 1.
    query: the LR camera's images of the test ids, factor 1 (real resolution).
    galleries["single"]: ONE image per test id, drawn from the HR camera's images (section
        4.4: "presence of only single image for each query in the gallery set"; Figure 4:
        "There is only one true match"), so 25 images.
    galleries["multi"]: ONE image per test id, drawn at random from ALL its images, of
        both cameras and so of all resolutions (section 4.4: "randomly pick one image for
        each identity from all the resolutions"); gallery_queries["multi"]: every other
        test image, HR ones included. The paper explains the higher multi-resolution
        scores of Table 5 by exactly this: "multiple HR query images are also present".
        Under the cross-camera rule a query whose id's gallery image comes from its own
        camera has no valid match and is skipped, so each id is queried from the camera
        its gallery image is not from.
    galleries["single_all"] (named option): every HR-camera image of the test ids, queried
        by `query`; rfdreid's single-resolution gallery before it followed the paper.
    val_ids: that many training ids (seeded) are held out of train and become `validation`,
        built by the same rules as the test sets.
    res_label: pixel-count pseudo-label (section 3.5), bins computed on the training
        images and applied to every image; num_res_classes = 5. meta holds the edges.
    Interpolation is recorded only (no image is degraded on CAVIAR).
    """
    _check_modes(gallery_modes, CAVIAR_GALLERY_MODES)
    resampling(interpolation)
    records = two_camera_records(raw)
    pids = sorted({r.pid for r in records})
    rng = np.random.default_rng([seed, split])
    train_ids = set(int(p) for p in rng.choice(pids, size=len(pids) // 2, replace=False))
    test_ids = [p for p in pids if p not in train_ids]
    held = _hold_out(sorted(train_ids), val_ids, np.random.default_rng([seed, split, 3]))
    query_cam = caviar_query_camera(raw, records)

    train = relabel([r for r in records if r.pid in train_ids - held])
    labels, edges = pixel_count_labels([raw.sizes[r.path] for r in train], CAVIAR_RES_CLASSES,
                                       pseudo_label_mode)

    def labelled(recs: list[ImageRecord]) -> list[ImageRecord]:
        bins = assign_pixel_bins([raw.sizes[r.path] for r in recs], edges)
        return [replace(r, res_label=int(b)) for r, b in zip(recs, bins)]

    def test_sets(ids: Sequence[int], pick: np.random.Generator) -> dict[str, object]:
        query, galleries, gallery_queries = _caviar_test_sets(
            [r for r in records if r.pid in set(ids)], query_cam, gallery_modes, pick)
        return {"query": labelled(query),
                "galleries": {k: labelled(v) for k, v in galleries.items()},
                "gallery_queries": {k: labelled(v) for k, v in gallery_queries.items()}}

    protocol = Protocol(
        dataset=raw.name,
        interpolation=interpolation,
        seed=seed,
        num_res_classes=CAVIAR_RES_CLASSES,
        train=[replace(r, res_label=int(b)) for r, b in zip(train, labels)],
        split=split,
        meta={
            "protocol": "caviar",
            "root": str(raw.root),
            "query_camera": query_cam,
            "train_ids": sorted(train_ids - held),
            "test_ids": test_ids,
            "res_bin_edges": [float(e) for e in edges],
            "pseudo_label_mode": pseudo_label_mode,
        },
        **test_sets(test_ids, np.random.default_rng([seed, split, 1])),  # type: ignore[arg-type]
    )
    if held:
        protocol.validation = replace(
            protocol, train=[], meta={"protocol": "caviar", "val_ids": sorted(held)},
            **test_sets(sorted(held), np.random.default_rng([seed, split, 4])))  # type: ignore[arg-type]
        protocol.meta["val_ids"] = sorted(held)
    return protocol

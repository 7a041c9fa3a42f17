"""THE place of the evaluation protocols: which image, at which resolution, in which set.

MLR protocol (SING, Jiao et al. AAAI 2018; the paper's MLR-Market / MLR-Duke) for sets
with HR images only: low resolution is simulated by seeded down-sampling factors, in one
of two variants (MLR_VARIANTS, `rfdreid prepare --mlr-variant`):

sing (the default, DEFAULT_MLR_VARIANT): the paper says "We follow SING [13] to create the
    MLR-market1501 dataset", and measuring both constructions on MLR-Market
    (docs/results.md, "MLR-Market under both constructions") gave no reason against it.
    SING's construction, as SING and the papers reusing its MLR sets (CSR-GAN, RAIN,
    CRGAN, INTACT, PRI) describe it: per identity ONE randomly chosen camera view has all
    its images down-sampled by a randomly selected rate r in {2,3,4}, in training and
    test; the LR images are the queries, the HR images of the other cameras the gallery.
    Where that description is silent, rfdreid chooses (_build_sing_protocol):
    - r is drawn per image, not per identity: "multiple low resolution" then holds within
      each LR view too, and the test factors redraw per image like the per-image
      variant's (redraw_degradation serves both; the LR camera never changes).
    - test queries are ALL images of a test id's LR camera, from Market's / Duke's query
      and gallery folders pooled: the query split (one image per id and camera) does not
      follow a one-camera-per-identity rule. Test ids are the ids of the query folder;
      gallery-only ids (Market's 0000, Duke's distractors) stay in every gallery.
    - galleries["single"]: the other cameras' images at HR (SING's gallery).
      galleries["multi"]: the same images, each with r drawn from {1,2,3,4}, as the
      per-image multi gallery draws: the LR camera's images are never gallery images, so
      no query meets a same-camera image of its id (junk to the evaluator anyway) and
      the multi gallery differs from "single" in resolutions only.
    - train: each image once, at the factor of its camera (LR camera r, others HR), so
      B-R's factor labels follow the camera as in SING's training set; no HR copy of an
      LR image is added.
    - an identity seen by one camera only (train or test) is dropped: down-sampling its
      camera leaves it no HR image. meta["dropped_one_camera"] names the first image of
      each, and `prepare` reports them.
    - validation ids (--val-ids) are split as the test ids, with their training camera.
per-image (the alternative, `--mlr-variant per-image`; rfdreid's default before SING's
    construction was): every image draws its own factor; train holds every image at HR
    plus one LR copy, queries are the dataset's query split at r in {2,3,4}. Its files
    carry no meta "mlr_variant" and stay byte for byte as before, so a file written
    before the variants existed reads as per-image (LEGACY_MLR_VARIANT).

Real-resolution protocol for any dataset: images as stored, pixel-count
pseudo-labels, seeded identity halves with LR cameras giving queries (CAVIAR, paper
section 4.2 and Table 5, is its two-camera configuration) or the dataset's own split.
Same arguments -> the same Protocol, record for record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rfdreid.data.datasets.base import DISTRACTOR_PID, RawDataset, relabel
from rfdreid.data.degrade import resampling
from rfdreid.data.records import DEFAULT_MLR_VARIANT, MLR_VARIANTS, ImageRecord, Protocol
from rfdreid.data.resolution import (
    FACTORS,
    LR_FACTORS,
    assign_pixel_bins,
    factor_index,
    pixel_count_labels,
)
from rfdreid.errors import ReIDError

GALLERY_MODES = ("single", "multi")
# Real protocols drawn by camera resolution (CAVIAR) also offer the whole HR cameras as
# gallery (rfdreid's single-resolution gallery before the paper's one-image gallery).
REAL_GALLERY_MODES = (*GALLERY_MODES, "single_all")
RES_CLASSES = 5  # pixel-count pseudo-label bins of the paper (section 3.5)
SPLITS = 10  # random identity splits of the paper (section 4.3)



def _stored_root(raw: RawDataset) -> str:
    """The dataset root as a protocol file records it: resolved like the image paths the
    readers store, so one dataset gives byte-identical files however its folder was
    reached (directly or through a symlink)."""
    return str(raw.root.resolve())

def _check_modes(gallery_modes: Sequence[str], allowed: Sequence[str] = GALLERY_MODES) -> None:
    bad = [m for m in gallery_modes if m not in allowed]
    if bad or not gallery_modes:
        raise ReIDError(f"unknown gallery protocol {bad}; choose from {', '.join(allowed)}")


def _hold_out(ids: Sequence[int], count: int, rng: np.random.Generator) -> set[int]:
    """`count` of `ids` drawn for validation; ReIDError when too few would stay to train."""
    if count == 0:  # nothing held out: fine however few ids there are
        return set()
    if count < 0 or count > len(ids) - 2:
        raise ReIDError(f"--val-ids must be in 0..{max(0, len(ids) - 2)} (the training set has "
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
    """Market-style query/gallery from held-out training ids: per id and camera one query.

    A query needs a gallery image of its id from another camera (the evaluator skips it
    otherwise, and `prepare` refuses such sets): where none remains, e.g. an id seen once
    in each of two cameras, its last-drawn query joins the gallery instead (Market-1501
    holds such ids; nothing is dropped).
    """
    order = rng.permutation(len(held_out))
    seen: set[tuple[int, int]] = set()
    drawn, gallery = [], []
    for i in order:
        r = held_out[int(i)]
        (gallery if (r.pid, r.camid) in seen else drawn).append(r)
        seen.add((r.pid, r.camid))
    cameras = _cameras_by_id(gallery)
    query = []
    for r in reversed(drawn):  # a query moved to the gallery can match an earlier one
        if cameras[r.pid] - {r.camid}:
            query.append(r)
        else:
            gallery.append(r)
            cameras[r.pid].add(r.camid)
    query, galleries = _mlr_test_sets(sorted(query, key=_order), sorted(gallery, key=_order),
                                      gallery_modes, streams)
    return replace(base, train=[], query=query, galleries=galleries, meta={"protocol": "mlr"})


def _order(r: ImageRecord) -> tuple[str, int]:
    return r.path, r.camid


def _mlr_protocol(
    raw: RawDataset, seed: int, interpolation: str, train: list[ImageRecord],
    test: tuple[list[ImageRecord], dict[str, list[ImageRecord]]], **meta: object,
) -> Protocol:
    """The Protocol both MLR variants write: factor classes, meta naming root and factors."""
    query, galleries = test
    return Protocol(dataset=raw.name, interpolation=interpolation, seed=seed,
                    num_res_classes=len(FACTORS), train=train, query=query, galleries=galleries,
                    meta={"protocol": "mlr", "root": _stored_root(raw),
                          "factors": list(FACTORS), **meta})


def build_mlr_protocol(
    raw: RawDataset,
    seed: int,
    interpolation: str = "bicubic",
    gallery_modes: Sequence[str] = GALLERY_MODES,
    val_ids: int = 0,
    variant: str = DEFAULT_MLR_VARIANT,
) -> Protocol:
    """The multiple-low-resolution protocol of SING on a dataset of HR images.

    variant "sing" (the default: _build_sing_protocol) or "per-image", whose sets are
    these (the module docstring compares the two):
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
    if variant not in MLR_VARIANTS:
        raise ReIDError(f"unknown --mlr-variant {variant!r}; choose {', '.join(MLR_VARIANTS)}")
    if variant == "sing":
        return _build_sing_protocol(raw, seed, interpolation, gallery_modes, val_ids)
    train = raw.subset("train")
    streams = {name: np.random.default_rng([seed, i]) for i, name in
               enumerate(("train", "query", "single", "multi"))}
    held = _hold_out(sorted({r.pid for r in train}), val_ids, np.random.default_rng([seed, 10]))
    kept = relabel([r for r in train if r.pid not in held]) if held else train
    protocol = _mlr_protocol(
        raw, seed, interpolation, list(kept) + _with_factors(kept, LR_FACTORS, streams["train"]),
        _mlr_test_sets(raw.subset("query"), raw.subset("gallery"), gallery_modes, streams))
    if held:
        val_streams = {name: np.random.default_rng([seed, 11, i])
                       for i, name in enumerate(("query", "multi"))}
        protocol.validation = _mlr_validation(
            [r for r in train if r.pid in held], np.random.default_rng([seed, 12]),
            gallery_modes, val_streams, protocol)
        protocol.meta["val_ids"] = sorted(held)
    return protocol


def _split_one_camera(records: Sequence[ImageRecord]) -> tuple[list[ImageRecord], list[str]]:
    """(records of the ids seen by two cameras or more, the first image's file name of
    every other id): SING down-samples one camera per id, which must leave an HR one."""
    cams = _cameras_by_id(records)
    first: dict[int, str] = {}
    for r in records:
        if len(cams[r.pid]) < 2:
            first.setdefault(r.pid, Path(r.path).name)
    return [r for r in records if len(cams[r.pid]) >= 2], [first[p] for p in sorted(first)]


def _lr_cameras(records: Sequence[ImageRecord], rng: np.random.Generator) -> dict[int, int]:
    """Id -> its LR camera, drawn uniformly among the cameras that saw it (in id order,
    so seeded); a camera that never saw the id is never drawn."""
    cams = _cameras_by_id(records)
    return {pid: int(rng.choice(sorted(cams[pid]))) for pid in sorted(cams)}


def _sing_test_sets(
    test: list[ImageRecord], lr_camera: Mapping[int, int], distractors: list[ImageRecord],
    gallery_modes: Sequence[str], streams: dict[str, np.random.Generator],
) -> tuple[list[ImageRecord], dict[str, list[ImageRecord]]]:
    """SING's queries (every image of its id's LR camera, r from {2,3,4} each) and
    galleries (the id's other cameras, plus distractors), degraded as _mlr_test_sets."""
    query = [r for r in test if r.camid == lr_camera[r.pid]]
    gallery = [r for r in test if r.camid != lr_camera[r.pid]] + distractors
    return _mlr_test_sets(query, gallery, gallery_modes, streams)


def _build_sing_protocol(
    raw: RawDataset, seed: int, interpolation: str, gallery_modes: Sequence[str], val_ids: int,
) -> Protocol:
    """The MLR protocol as SING builds it (choices: the module docstring).

    train: each image once; per id, its LR camera's images with r from {2,3,4} each, the
    other cameras' at HR. Test ids are those of the query subset, their query and gallery
    images pooled; query / galleries: _sing_test_sets. Ids seen by one camera are
    dropped (meta["dropped_one_camera"]). Streams are seeded apart from the per-image
    variant's, one per subset as there.
    """
    streams = {name: np.random.default_rng([seed, 20, i]) for i, name in
               enumerate(("train", "query", "single", "multi"))}
    train, dropped_train = _split_one_camera(raw.subset("train"))
    test_ids = {r.pid for r in raw.subset("query")}
    pooled = sorted(raw.subset("query") + raw.subset("gallery"), key=_order)
    test, dropped_test = _split_one_camera([r for r in pooled if r.pid in test_ids])
    train_cameras = _lr_cameras(train, np.random.default_rng([seed, 21]))
    held = _hold_out(sorted(train_cameras), val_ids, np.random.default_rng([seed, 10]))
    kept = [r for r in train if r.pid not in held]
    low = iter(_with_factors([r for r in kept if r.camid == train_cameras[r.pid]], LR_FACTORS,
                             streams["train"]))
    protocol = _mlr_protocol(
        raw, seed, interpolation,
        relabel([next(low) if r.camid == train_cameras[r.pid] else r for r in kept]),
        _sing_test_sets(test, _lr_cameras(test, np.random.default_rng([seed, 22])),
                        [r for r in pooled if r.pid not in test_ids], gallery_modes, streams),
        mlr_variant="sing", dropped_one_camera={"train": dropped_train, "test": dropped_test})
    if held:
        val_streams = {name: np.random.default_rng([seed, 23, i])
                       for i, name in enumerate(("query", "multi"))}
        query, galleries = _sing_test_sets([r for r in train if r.pid in held], train_cameras,
                                           [], gallery_modes, val_streams)
        protocol.validation = replace(protocol, train=[], query=query, galleries=galleries,
                                      meta={"protocol": "mlr", "mlr_variant": "sing"})
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


def low_resolution_cameras(
    records: Sequence[ImageRecord], sizes: Mapping[str, tuple[int, int]]
) -> tuple[list[int], dict[int, float]]:
    """(LR cameras, mean pixel count of every camera) of `records`.

    The LR cameras are the lower half of the cameras by mean pixel count (ties: lower
    camera id first; at least one), the others are HR. With two cameras this is CAVIAR's
    rule (the camera of the smaller crops gives the queries); with more, every camera
    below the median view gives queries, so queries stay lower-resolution than the
    single-resolution gallery.
    """
    means = {cam: float(np.mean([np.prod(sizes[r.path]) for r in records if r.camid == cam]))
             for cam in sorted({r.camid for r in records})}
    order = sorted(means, key=lambda c: (means[c], c))
    return sorted(order[: max(1, len(order) // 2)]), means


def _cameras_by_id(records: Sequence[ImageRecord]) -> dict[int, set[int]]:
    cams: dict[int, set[int]] = defaultdict(set)
    for r in records:
        cams[r.pid].add(r.camid)
    return cams


def _ids_across(records: Sequence[ImageRecord], low: Sequence[int]) -> list[int]:
    """Identities of `records` seen by an LR camera and by an HR camera (sorted)."""
    return sorted(pid for pid, cams in _cameras_by_id(records).items()
                  if cams & set(low) and cams - set(low))


def _people_across_resolutions(raw: RawDataset) -> tuple[list[ImageRecord], list[int]]:
    """Records of the identities seen by an LR and an HR camera, and the LR cameras.

    CAVIAR's rule (paper section 4.2) generalised: identities seen by one camera only are
    dropped (they cannot be queried across cameras), and the LR cameras are chosen on the
    images of the identities seen by at least two cameras.
    """
    people = [r for r in raw.subset("all") if r.pid != DISTRACTOR_PID]
    cams = _cameras_by_id(people)
    seen_twice = [r for r in people if len(cams[r.pid]) >= 2]
    low, _ = low_resolution_cameras(seen_twice, raw.sizes)
    ids = set(_ids_across(seen_twice, low))
    if len(ids) < 2:
        raise ReIDError(f"{raw.name} folder {raw.root} has {len(ids)} identities seen by a "
                        "low- and a high-resolution camera; at least 2 are needed")
    return [r for r in seen_twice if r.pid in ids], low


def _one_per_id(
    pool: list[ImageRecord], ids: Sequence[int], pick: np.random.Generator
) -> list[ImageRecord]:
    chosen = []
    for pid in ids:
        candidates = [r for r in pool if r.pid == pid]
        chosen.append(candidates[int(pick.integers(len(candidates)))])
    return chosen


def _multi_gallery(
    pool: list[ImageRecord], ids: Sequence[int], pick: np.random.Generator
) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """ONE image per id drawn from `pool` (all its resolutions), and the rest of the pool."""
    chosen = _one_per_id(pool, ids, pick)
    taken = set(chosen)
    return chosen, [r for r in pool if r not in taken]


TestSets = tuple[list[ImageRecord], dict[str, list[ImageRecord]], dict[str, list[ImageRecord]]]


def _drawn_test_sets(
    test: list[ImageRecord], low: Sequence[int], distractors: list[ImageRecord],
    gallery_modes: Sequence[str], pick: np.random.Generator,
) -> TestSets:
    """Query, galleries and gallery-specific queries of test ids split by camera resolution.

    query: the LR cameras' images. `pick` draws the one-image-per-id galleries: first
    "multi" (from all images), then "single" (from the HR cameras), so adding "single"
    leaves the multi gallery unchanged. Distractors join every gallery.
    """
    ids = sorted({r.pid for r in test})
    query = [r for r in test if r.camid in low]
    others = [r for r in test if r.camid not in low]
    galleries, gallery_queries = {}, {}
    if "multi" in gallery_modes:
        galleries["multi"], gallery_queries["multi"] = _multi_gallery(test, ids, pick)
    if "single" in gallery_modes:
        galleries["single"] = _one_per_id(others, ids, pick)
    if "single_all" in gallery_modes:
        galleries["single_all"] = others
        gallery_queries["single_all"] = query
    return query, {k: v + distractors for k, v in galleries.items()}, gallery_queries


def _given_test_sets(
    query: list[ImageRecord], gallery: list[ImageRecord], gallery_modes: Sequence[str],
    pick: np.random.Generator,
) -> TestSets:
    """Query and galleries of a dataset whose split says which image is a query.

    single: the gallery as given. multi: ONE image per query id drawn from all its query
    and gallery images, every other image of these ids queries it; gallery images of
    other ids (distractors) join it whole.
    """
    ids = sorted({r.pid for r in query})
    galleries, gallery_queries = {}, {}
    if "multi" in gallery_modes:
        chosen, rest = _multi_gallery([r for r in query + gallery if r.pid in set(ids)], ids, pick)
        galleries["multi"] = chosen + [r for r in gallery if r.pid not in set(ids)]
        gallery_queries["multi"] = rest
    if "single" in gallery_modes:
        galleries["single"] = list(gallery)
    return query, galleries, gallery_queries


@dataclass(frozen=True)
class _PixelBins:
    """Pixel-count pseudo-labels (section 3.5) whose bin edges come from the training
    images only, so test and validation images are labelled by the training set's bins."""

    sizes: Mapping[str, tuple[int, int]]
    edges: np.ndarray

    @classmethod
    def fit(
        cls, sizes: Mapping[str, tuple[int, int]], train: list[ImageRecord], num_bins: int,
        mode: str,
    ) -> tuple[list[ImageRecord], _PixelBins]:
        """(`train` labelled, the bins): `num_bins` bins, "uniform" or "quantile" (`mode`)."""
        labels, edges = pixel_count_labels([sizes[r.path] for r in train], num_bins, mode)
        return [replace(r, res_label=int(b)) for r, b in zip(train, labels)], cls(sizes, edges)

    def labelled(self, recs: list[ImageRecord]) -> list[ImageRecord]:
        bins = assign_pixel_bins([self.sizes[r.path] for r in recs], self.edges)
        return [replace(r, res_label=int(b)) for r, b in zip(recs, bins)]

    def fields(self, sets: TestSets) -> dict[str, Any]:
        """Test sets labelled, as Protocol's query, galleries and gallery_queries."""
        query, galleries, gallery_queries = sets
        return {"query": self.labelled(query),
                "galleries": {k: self.labelled(v) for k, v in galleries.items()},
                "gallery_queries": {k: self.labelled(v) for k, v in gallery_queries.items()}}


@dataclass(frozen=True)
class _RealSplit:
    """Who trains and who is tested in a real-resolution protocol, and its LR cameras:
    drawn from a dataset without a split, or the dataset's own train / query / gallery."""

    raw: RawDataset
    train: list[ImageRecord]
    low: list[int]
    test: list[ImageRecord] | None  # the drawn test ids' images; None: the given split

    @classmethod
    def drawn(cls, raw: RawDataset, split: int | None, key: list[int]) -> _RealSplit:
        """Identities seen by an LR and an HR camera, halved by a RNG seeded with `key`."""
        if split is None:
            raise ReIDError(f"{raw.name} has no query/gallery split: choose a --split")
        people, low = _people_across_resolutions(raw)
        pids = sorted({r.pid for r in people})
        train_ids = set(int(p) for p in np.random.default_rng(key).choice(
            pids, size=len(pids) // 2, replace=False))
        return cls(raw, [r for r in people if r.pid in train_ids], low,
                   [r for r in people if r.pid not in train_ids])

    @classmethod
    def given(cls, raw: RawDataset, split: int | None) -> _RealSplit:
        """The dataset's own split; its training images name the LR cameras."""
        if split is not None:
            raise ReIDError(f"{raw.name} has a fixed query/gallery split; --split does not apply")
        train = raw.subset("train")
        low, _ = low_resolution_cameras(train, raw.sizes)
        return cls(raw, train, low, None)

    def test_sets(self, gallery_modes: Sequence[str], pick: np.random.Generator) -> TestSets:
        """Query and galleries of the test ids; `pick` draws the one-image galleries."""
        if self.test is None:
            return _given_test_sets(self.raw.subset("query"), self.raw.subset("gallery"),
                                    gallery_modes, pick)
        distractors = [r for r in self.raw.subset("all") if r.pid == DISTRACTOR_PID]
        return _drawn_test_sets(self.test, self.low, distractors, gallery_modes, pick)

    def meta(self, held: set[int]) -> dict[str, object]:
        """What a drawn split adds to the protocol's meta: its LR cameras and its ids."""
        if self.test is None:
            return {}
        return {"query_cameras": self.low,
                "train_ids": sorted({r.pid for r in self.train} - held),
                "test_ids": sorted({r.pid for r in self.test})}


def _add_validation(
    protocol: Protocol, people: _RealSplit, held: set[int], gallery_modes: Sequence[str],
    bins: _PixelBins, pick: np.random.Generator,
) -> None:
    """The `held` training ids as `protocol.validation`, split by camera resolution as
    drawn test ids are, so RFD's lambda is chosen as it will be tested."""
    val = _drawn_test_sets([r for r in people.train if r.pid in held], people.low, [],
                           gallery_modes, pick)
    protocol.validation = replace(
        protocol, train=[], meta={"protocol": protocol.meta["protocol"], "val_ids": sorted(held)},
        **bins.fields(val))
    protocol.meta["val_ids"] = sorted(held)
    if people.test is None:
        protocol.meta["val_query_cameras"] = people.low


def build_real_protocol(
    raw: RawDataset,
    seed: int,
    split: int | None = None,
    interpolation: str = "bicubic",
    gallery_modes: Sequence[str] | None = None,
    pseudo_label_mode: str = "uniform",
    val_ids: int = 0,
    num_bins: int = RES_CLASSES,
    name: str = "real",
) -> Protocol:
    """The real-resolution protocol of any dataset: images as stored, pseudo-labelled.

    res_label: pixel-count pseudo-label (section 3.5), `num_bins` bins ("uniform" as the
    paper or "quantile") computed on the training images only and applied to every image;
    meta["res_bin_edges"] holds the edges. Every record has factor 1.

    A dataset with one "all" subset (no split) is split by CAVIAR's rule generalised
    (paper section 4.2): identities seen by an LR and an HR camera are kept (see
    low_resolution_cameras; meta["query_cameras"]), a RNG seeded with (seed, split) draws
    half of them for training, the rest is test. query: the LR cameras' test images;
    galleries "single" (ONE HR-camera image per test id), "multi" (ONE image per test id
    from all its images, all other test images query it) and "single_all" (every
    HR-camera test image); gallery_modes default to all three.
    A dataset with train / query / gallery subsets keeps them (split must be None):
    "single" is the gallery as given, "multi" is drawn as above (see _given_test_sets);
    gallery_modes default to both.
    Images of pid -1 (DISTRACTOR_PID) match no query: they join every test gallery.
    val_ids: that many training ids seen by an LR and an HR camera (seeded) are held out
    of train and become `validation`, split by camera resolution as above.
    """
    drawn = "all" in raw.subsets
    allowed = REAL_GALLERY_MODES if drawn else GALLERY_MODES
    gallery_modes = allowed if gallery_modes is None else gallery_modes
    _check_modes(gallery_modes, allowed)
    resampling(interpolation)
    key = [seed] if split is None else [seed, split]
    root = _stored_root(raw)
    people = _RealSplit.drawn(raw, split, key) if drawn else _RealSplit.given(raw, split)
    held = _hold_out(_ids_across(people.train, people.low), val_ids,
                     np.random.default_rng([*key, 3]))
    kept = relabel([r for r in people.train if r.pid not in held])
    train, bins = _PixelBins.fit(raw.sizes, kept, num_bins, pseudo_label_mode)
    test = bins.fields(people.test_sets(gallery_modes, np.random.default_rng([*key, 1])))
    meta = {"protocol": name, "root": root, **people.meta(held),
            "res_bin_edges": [float(e) for e in bins.edges],
            "pseudo_label_mode": pseudo_label_mode}
    protocol = Protocol(dataset=raw.name, interpolation=interpolation, seed=seed,
                        num_res_classes=num_bins, train=train, split=split, meta=meta, **test)
    if held:
        _add_validation(protocol, people, held, gallery_modes, bins,
                        np.random.default_rng([*key, 4]))
    return protocol


def build_caviar_protocol(
    raw: RawDataset,
    seed: int,
    split: int,
    interpolation: str = "bicubic",
    gallery_modes: Sequence[str] | None = None,
    pseudo_label_mode: str = "uniform",
    val_ids: int = 0,
) -> Protocol:
    """Split `split` of the CAVIAR protocol (SING / paper section 4.2 and Table 5).

    CAVIAR is build_real_protocol on its two cameras: 50 identities seen by both (the
    22 seen by one are dropped), 25 / 25 seeded halves, the camera of the smaller crops
    gives the LR queries, 5 pixel-count pseudo-label classes.
    galleries["single"]: ONE HR-camera image per test id (section 4.4: "presence of only
        single image for each query in the gallery set"; Figure 4: "There is only one true
        match"), so 25 images.
    galleries["multi"]: ONE image per test id from ALL its images (section 4.4: "randomly
        pick one image for each identity from all the resolutions"); every other test
        image, HR ones included, queries it (gallery_queries["multi"]): the paper explains
        the higher multi-resolution scores of Table 5 by "multiple HR query images are
        also present". A query from the camera of its id's gallery image has no valid
        match under the cross-camera rule and is skipped.
    galleries["single_all"]: every HR-camera test image (rfdreid's single-resolution
        gallery before it followed the paper).
    Files keep CAVIAR's format: meta "protocol" is "caviar" and "query_camera" names its
    one LR camera (general protocols list "query_cameras").
    """
    protocol = build_real_protocol(raw, seed, split, interpolation, gallery_modes,
                                   pseudo_label_mode, val_ids, RES_CLASSES, name="caviar")
    protocol.meta = {("query_camera" if k == "query_cameras" else k):
                     (v[0] if k == "query_cameras" else v)  # type: ignore[index]
                     for k, v in protocol.meta.items()}
    return protocol

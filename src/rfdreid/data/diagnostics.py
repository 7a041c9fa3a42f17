"""What `rfdreid prepare` tells the user about a protocol before any training.

Why: a protocol can be well-formed and still useless: no queries, queries whose identity
has no gallery image from another camera (the evaluator skips them silently), or
pseudo-labels that put almost every training image in one resolution bin (B-R then
learns nothing and RFD cannot help). The first two are refused, the last is warned
about, and the pixel counts behind the labels are shown per camera and per bin.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.errors import ReIDError

DOMINANT_BIN_SHARE = 0.9
"""A training bin holding more than this share of images makes RFD useless."""


def unmatched_queries(query: Sequence[ImageRecord],
                      gallery: Sequence[ImageRecord]) -> list[ImageRecord]:
    """Queries without a gallery image of their identity from another camera.

    The evaluator counts a same-camera match as junk, so these queries cannot be scored.
    """
    cams: dict[int, set[int]] = defaultdict(set)
    for g in gallery:
        cams[g.pid].add(g.camid)
    return [q for q in query if not cams[q.pid] - {q.camid}]


def _check_sets(protocol: Protocol, where: str) -> None:
    for mode, gallery in protocol.galleries.items():
        own_queries = mode in protocol.gallery_queries
        query = protocol.gallery_queries[mode] if own_queries else protocol.query
        lost = unmatched_queries(query, gallery)
        # a gallery with its own queries (multi) draws one image per id, so queries from
        # that image's camera are skipped by design; only none usable at all is refused
        if not query or len(lost) == len(query):
            raise ReIDError(f"{where}: the {mode!r} gallery has {len(query) - len(lost)} usable "
                            f"queries ({len(query)} in all); every identity needs images from "
                            "two cameras, one as query and one in the gallery")
        if lost and not own_queries:
            ids = sorted({q.pid for q in lost})
            shown = ", ".join(map(str, ids[:5])) + (", ..." if len(ids) > 5 else "")
            raise ReIDError(f"{where}: {len(lost)} of {len(query)} queries ({len(ids)} "
                            f"identities: {shown}) have no {mode!r} gallery image of their "
                            "identity from another camera; add such gallery images or remove "
                            "these queries")


def check_queries(protocol: Protocol, name: str) -> None:
    """ReIDError when a test or validation gallery of `protocol` (file `name`) has 0 usable
    queries, or queries with no cross-camera gallery match (naming how many)."""
    _check_sets(protocol, name)
    if protocol.validation is not None:
        _check_sets(protocol.validation, f"{name} (validation)")


def dropped_identities(protocol: Protocol) -> str | None:
    """The report line naming the identities a SING protocol dropped (seen by one camera
    only, meta["dropped_one_camera"]), or None: a smaller set must never go unnoticed."""
    dropped: dict[str, list[str]]
    dropped = protocol.meta.get("dropped_one_camera") or {}  # type: ignore[assignment]
    names = [f"{name} ({subset})" for subset, images in dropped.items() for name in images]
    if not names:
        return None
    counts = ", ".join(f"{len(v)} {k}" for k, v in dropped.items() if v)
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return (f"dropped {len(names)} identities seen by one camera only ({counts}): down-sampling "
            f"that camera leaves them no HR image; first image of each: {shown}")


@dataclass(frozen=True)
class CameraPixels:
    """Pixel counts (width x height) of one camera's images and their bins."""

    camid: int
    counts: tuple[int, ...]
    bins: tuple[int, ...]  # images per res_label, index = label

    @property
    def mean(self) -> float:
        return float(np.mean(self.counts))


def camera_pixels(protocol: Protocol,
                  size_of: Callable[[str], tuple[int, int]]) -> list[CameraPixels]:
    """Every distinct image of the protocol (train, test, validation) by camera."""
    subsets = [*protocol.subsets().values(),
               *(protocol.validation.subsets().values() if protocol.validation else [])]
    images: dict[str, ImageRecord] = {r.path: r for recs in subsets for r in recs}
    by_cam: dict[int, list[ImageRecord]] = defaultdict(list)
    for r in images.values():
        by_cam[r.camid].append(r)
    out = []
    for cam in sorted(by_cam):
        labels = Counter(r.res_label for r in by_cam[cam])
        out.append(CameraPixels(
            cam, tuple(int(np.prod(size_of(r.path))) for r in by_cam[cam]),
            tuple(labels[k] for k in range(protocol.num_res_classes))))
    return out


def _query_cameras(meta: Mapping[str, object]) -> list[int] | None:
    if "query_cameras" in meta:
        return list(meta["query_cameras"])  # type: ignore[call-overload]
    if "query_camera" in meta:  # CAVIAR's file format
        return [int(meta["query_camera"])]  # type: ignore[call-overload]
    return None


def resolution_report(
    protocol: Protocol, size_of: Callable[[str], tuple[int, int]]
) -> tuple[list[str], list[str]]:
    """(lines, warnings) on a real-resolution protocol's pixel counts and pseudo-labels.

    Lines: per camera its images, pixel-count range and images per bin, marked LR when it
    gives queries, with the reason; per bin its pixel range and training images. Warns
    when one bin holds over DOMINANT_BIN_SHARE of the training images.
    """
    edges: list[float] = protocol.meta["res_bin_edges"]  # type: ignore[assignment]
    cams = camera_pixels(protocol, size_of)
    low = _query_cameras(protocol.meta)
    lines = []
    for c in cams:
        role = "" if low is None else ("  LR: gives queries" if c.camid in low else "  HR")
        lines.append(f"camera {c.camid}: {len(c.counts)} images, pixels {min(c.counts)}-"
                     f"{max(c.counts)} (median {int(np.median(c.counts))}, mean {c.mean:.0f}), "
                     f"per bin {list(c.bins)}{role}")
    if low is None:
        lines.append("queries: from the dataset's query split (no camera rule applied)")
    else:
        lines.append(f"LR cameras {low}: the lower half of the {len(cams)} cameras by mean "
                     "pixel count (" + ", ".join(f"camera {c.camid} {c.mean:.0f}" for c in
                                                 sorted(cams, key=lambda c: c.mean)) + ")")
    train = Counter(r.res_label for r in protocol.train)
    for k in range(protocol.num_res_classes):
        lines.append(f"bin {k}: pixels [{edges[k]:.0f}, {edges[k + 1]:.0f}"
                     f"{']' if k == protocol.num_res_classes - 1 else ')'}: "
                     f"{train[k]} training images")
    warnings = []
    top, n = train.most_common(1)[0] if train else (0, 0)
    if train and n > DOMINANT_BIN_SHARE * len(protocol.train):
        warnings.append(
            f"bin {top} holds {100 * n / len(protocol.train):.0f} % of the training images: "
            "the images barely differ in resolution, so B-R learns almost one class and RFD "
            "cannot help (try --pseudo-labels quantile, or use --resolution synthetic)")
    return lines, warnings

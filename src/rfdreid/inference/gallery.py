"""A folder of images as a searchable gallery: features, RFD distances, incremental cache.

Why incremental: `rfdreid search` is run again and again on the same gallery folder. The
cache remembers, per checkpoint, the features of every file with its size and mtime, so a
re-run embeds nothing, and after files are added or changed only those are embedded
(removed files simply drop out).

Cache file: `<cache_dir>/<key>.pt`, key = SHA-256 of the checkpoint bytes the weights were
loaded from + gallery folder + the test feature's flip / normalisation settings (the input
size is part of the checkpoint), holding
`{"files": [(name, size, mtime_ns), ...], "features": [N, D]}`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rfdreid.data.images import IMAGE_EXTENSIONS, list_images, read_image
from rfdreid.data.records import ImageRecord
from rfdreid.training.checkpoint import TrainedModel
from rfdreid.inference.extract import FeatureCache, extract_features, read_cached_features
from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write
from rfdreid.inference.test_feature import TestEmbedding
from rfdreid.evaluation.distance import (
    DEFAULT_LAMBDA,
    DEFAULT_RFD_FORM,
    check_rfd_lambda,
    cosine_similarity,
    euclidean_distance,
    rfd_distance,
)

CACHE_DIR_NAME = ".rfdreid-cache"
# Gallery files are embedded as stored (factor 1), so the interpolation is never applied.
_NO_DEGRADATION = "bicubic"
# Market-1501 style names: PPPP_c<camera>... (PPPP may be -1 for junk).
_MARKET_STYLE_NAME = re.compile(r"(?P<pid>-1|\d+)_c\d+")

FileKey = tuple[str, int, int]  # (name, size in bytes, mtime in ns)


@dataclass(frozen=True)
class Features:
    """Embeddings of N images: `f` [N, D] from B-F, `r` [N, Dr] from B-R (None without B-R)."""

    f: torch.Tensor
    r: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.f.shape[0]


def feature_distance(
    query: Features, gallery: Features, rfd_lambda: float = DEFAULT_LAMBDA,
    rfd_form: str = DEFAULT_RFD_FORM,
) -> torch.Tensor:
    """[Q, G] distance, smaller = more alike: eq. 8 (:func:`rfd_distance`, either form) when
    both sides carry B-R features, the Euclidean B-F distance D_f otherwise. A NaN, inf or
    overflowing λ is a ReIDError (it would rank arbitrarily)."""
    check_rfd_lambda(rfd_lambda)
    d_f = euclidean_distance(query.f, gallery.f)
    if query.r is None or gallery.r is None:
        return d_f
    return rfd_distance(d_f, cosine_similarity(query.r, gallery.r), rfd_lambda, rfd_form)


def person_id(path: str | Path) -> int | None:
    """Person id of a Market-style file name (`0042_c3s1_000551_01.jpg` -> 42), else None."""
    m = _MARKET_STYLE_NAME.match(Path(path).name)
    return int(m["pid"]) if m else None


def gallery_images(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted; ReIDError when there are none."""
    if not folder.is_dir():
        raise ReIDError(f"gallery folder {folder} not found")
    paths = list_images(folder)
    if not paths:
        raise ReIDError(
            f"gallery folder {folder} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})"
        )
    return paths


def _file_key(path: Path) -> FileKey:
    st = path.stat()
    return path.name, st.st_size, st.st_mtime_ns


def _load_cache(path: Path) -> dict[FileKey, torch.Tensor]:
    """{file key: feature [D]} of a cache file; empty when absent, unreadable or not
    finite (such a cache is rebuilt, never trusted)."""
    state = read_cached_features(path)
    try:
        return {tuple(k): f for k, f in zip(state["files"], state["features"])}  # type: ignore[index]
    except (KeyError, TypeError):
        return {}


def unreadable_images(paths: Sequence[Path]) -> list[Path]:
    """The files among `paths` that cannot be decoded (damaged, not images, too large)."""
    bad = []
    for path in paths:
        try:
            read_image(path)
        except ReIDError:
            bad.append(path)
    return bad


def _save_cache(path: Path, keys: list[FileKey], features: torch.Tensor) -> None:
    state = {"files": [list(k) for k in keys], "features": features}
    try:
        atomic_write(path, lambda tmp: torch.save(state, tmp))
    except OSError as e:
        raise ReIDError(
            f"cannot write the gallery feature cache {path} ({e.strerror}); choose another "
            "cache folder (--cache-dir)"
        ) from None


def embed_gallery(
    trained: TrainedModel,
    net: TestEmbedding,
    folder: Path,
    paths: Sequence[Path],
    cache_dir: Path,
    *,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    progress: bool = True,
    skip_bad: bool = False,
) -> tuple[list[Path], torch.Tensor]:
    """(embedded paths, features [N, D]) of gallery files, embedding only files the cache
    lacks.

    A file is looked up by (name, size, mtime), so a changed file is embedded again. The
    cache is rewritten only when the set of files changed. skip_bad: files that cannot be
    decoded are left out (the returned paths omit them) instead of stopping the search.
    """
    d = trained.config.data
    key = FeatureCache.key(trained.digest, folder.resolve(), net.flip, net.normalize)
    cache_path = cache_dir / f"{key}.pt"
    cached = _load_cache(cache_path)
    keys = [_file_key(p) for p in paths]
    missing = [(p, k) for p, k in zip(paths, keys) if k not in cached]
    if skip_bad and missing:
        bad = set(unreadable_images([p for p, _ in missing]))
        keys = [k for p, k in zip(paths, keys) if p not in bad]
        paths = [p for p in paths if p not in bad]
        missing = [(p, k) for p, k in missing if p not in bad]
    if missing:
        new = extract_features(
            net, [ImageRecord(str(p), pid=-1, camid=-1) for p, _ in missing],
            height=d.height, width=d.width, interpolation=_NO_DEGRADATION,
            batch_size=batch_size, device=device, desc=f"{trained.kind} gallery",
            progress=progress,
        )
        cached.update(zip((k for _, k in missing), new))
    if not keys:
        raise ReIDError(f"gallery folder {folder} holds no readable images")
    features = torch.stack([cached[k] for k in keys])
    if missing or len(cached) != len(keys):
        _save_cache(cache_path, list(keys), features)
    return list(paths), features

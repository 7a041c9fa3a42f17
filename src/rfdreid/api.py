"""Using a trained B-F (and optionally B-R) from Python: embed, compare, search a folder.

Why one class: a user holding two checkpoints should not have to know how the network is
rebuilt, which input size and normalisation it expects, or how eq. 8 fuses the distances.

Example::

    from rfdreid import ReIDModel

    model = ReIDModel.from_checkpoint("runs/x/bf/checkpoint.pt", "runs/x/br/checkpoint.pt")
    feats = model.embed(["a.jpg", "b.jpg"])              # [2, D] B-F embeddings
    d = model.distance("query.jpg", ["a.jpg", "b.jpg"])  # [1, 2] D_f - 0.1 * D_r (eq. 8)
    for hit in model.search("query.jpg", "gallery/", top_k=5):
        print(hit.rank, f"{hit.distance:.3f}", hit.path)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from rfdreid.data.images import read_image
from rfdreid.data.transforms import build_transform
from rfdreid.training.checkpoint import TrainedModel, read_trained_model
from rfdreid.inference.extract import build_inference_model
from rfdreid.inference.gallery import (
    CACHE_DIR_NAME,
    Features,
    embed_gallery,
    feature_distance,
    gallery_images,
)
from rfdreid.errors import ReIDError, finite_number
from rfdreid.evaluation.distance import (
    DEFAULT_LAMBDA,
    DEFAULT_RFD_FORM,
    check_rfd_form,
    check_rfd_lambda,
)
from rfdreid.evaluation.rerank import RerankParams, rerank_features
from rfdreid.inference.test_feature import TestEmbedding

ImageInput = str | Path | Image.Image | np.ndarray | torch.Tensor
"""A path, a PIL image, a uint8 [H, W, 3] array or a float [3, H, W] tensor in [0, 1]."""
Images = ImageInput | Sequence[ImageInput]
"""One image or a sequence of them (a [N, 3, H, W] tensor is a sequence too)."""

__all__ = ["Features", "Hit", "ImageInput", "Images", "ReIDModel", "SearchResult", "to_pil"]


def to_pil(image: ImageInput) -> Image.Image:
    """Any accepted image form -> RGB PIL image (paths are read with read_image).

    An empty image (0 pixels) or a tensor holding NaN/inf is a ReIDError: resizing or
    clamping would turn either into a plausible picture and a finite, meaningless feature.
    """
    if isinstance(image, torch.Tensor) and image.is_floating_point() \
            and not bool(torch.isfinite(image).all()):
        raise ReIDError("cannot embed an image tensor holding NaN or inf values; pass pixel "
                        "values in [0, 1]")
    pil = _as_pil(image)
    if pil.width == 0 or pil.height == 0:
        raise ReIDError(f"cannot embed an empty image ({pil.width}x{pil.height} pixels)")
    return pil


def _as_pil(image: ImageInput) -> Image.Image:
    if isinstance(image, (str, Path)):
        return read_image(image)
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim in (2, 3):
        return Image.fromarray(image).convert("RGB")
    if isinstance(image, torch.Tensor) and image.is_floating_point() and image.ndim == 3 \
            and image.shape[0] in (1, 3):
        rgb = image.detach().cpu().expand(3, -1, -1).clamp(0, 1)
        return Image.fromarray((rgb * 255).round().to(torch.uint8).permute(1, 2, 0).numpy())
    shape = getattr(image, "shape", None)
    what = type(image).__name__ + ("" if shape is None else f" of shape {tuple(shape)}")
    raise ReIDError(
        f"cannot embed a {what}; pass paths, PIL images, uint8 HxWx3 arrays or float CHW "
        "tensors in [0, 1]"
    )


def _as_list(images: Images) -> list[ImageInput]:
    single = isinstance(images, (str, Path, Image.Image)) or (
        isinstance(images, (np.ndarray, torch.Tensor)) and images.ndim == 3
    )
    return [images] if single else list(images)  # type: ignore[list-item, arg-type]


@dataclass(frozen=True)
class Hit:
    """One search result: 1-based rank, gallery file, distance (smaller = more alike)."""

    rank: int
    path: Path
    distance: float


class SearchResult(list[Hit]):
    """The ranked hits of a search; `skipped` lists gallery files that could not be read
    (only with skip_bad=True)."""

    def __init__(self, hits: list[Hit], skipped: list[Path]) -> None:
        super().__init__(hits)
        self.skipped = skipped


class ReIDModel:
    """A trained B-F, optionally with its B-R for RFD, ready for inference.

    Images of any size are resized to the checkpoint's input size (data.height x
    data.width) and embedded exactly as in evaluation: by default the MGN test feature
    (image + mirror, L2-normalised; `flip` / `normalize` turn either off), fused by
    eq. 8 in the form `rfd_form` ("filter" or "literal").
    """

    def __init__(
        self, bf: TrainedModel, br: TrainedModel | None = None, device: str = "cpu", *,
        flip: bool = True, normalize: bool = True, rfd_form: str = DEFAULT_RFD_FORM,
    ) -> None:
        self.bf, self.br, self.device = bf, br, device
        self.rfd_form = check_rfd_form(rfd_form)
        self.feature_net = build_inference_model(bf, device, flip=flip, normalize=normalize)
        self.resolution_net = (build_inference_model(br, device, flip=flip, normalize=normalize)
                               if br else None)

    @classmethod
    def from_checkpoint(
        cls, path_f: str | Path, path_r: str | Path | None = None, device: str = "cpu", *,
        flip: bool = True, normalize: bool = True, rfd_form: str = DEFAULT_RFD_FORM,
    ) -> ReIDModel:
        """Load a B-F checkpoint and, for RFD, a B-R one; a swapped pair is a ReIDError."""
        bf = read_trained_model(path_f, expect_kind="B-F")
        br = read_trained_model(path_r, expect_kind="B-R") if path_r else None
        return cls(bf, br, device, flip=flip, normalize=normalize, rfd_form=rfd_form)

    @torch.inference_mode()
    def _embed(self, trained: TrainedModel, net: TestEmbedding, images: Images,
               batch_size: int) -> torch.Tensor:
        d = trained.config.data
        transform = build_transform(d.height, d.width, train=False)
        items = _as_list(images)
        chunks = [torch.empty(0, net.feature_dim)]
        for start in range(0, len(items), batch_size):
            batch = torch.stack([transform(to_pil(x)) for x in items[start:start + batch_size]])
            chunks.append(net(batch.to(self.device)).float().cpu())
        return torch.cat(chunks)

    def embed(self, images: Images, batch_size: int = 64) -> torch.Tensor:
        """B-F identity embeddings: [N, D] float32 on CPU, one row per image."""
        return self._embed(self.bf, self.feature_net, images, batch_size)

    def embed_resolution(self, images: Images, batch_size: int = 64) -> torch.Tensor:
        """B-R resolution embeddings f_r: [N, Dr]; needs the B-R checkpoint."""
        if self.br is None or self.resolution_net is None:
            raise ReIDError("no B-R checkpoint loaded; pass path_r to ReIDModel.from_checkpoint")
        return self._embed(self.br, self.resolution_net, images, batch_size)

    def features(self, images: Images, batch_size: int = 64) -> Features:
        """Both embeddings of `images` (r is None without B-R), reusable in `distance`."""
        r = self.embed_resolution(images, batch_size) if self.br else None
        return Features(self.embed(images, batch_size), r)

    def distance(
        self, query: Images | Features, gallery: Images | Features,
        rfd_lambda: float = DEFAULT_LAMBDA,
    ) -> torch.Tensor:
        """[Q, G] distances: eq. 8 (D_f - rfd_lambda * D_r) with B-R loaded, else D_f.

        query / gallery: images, or the Features of earlier `features()` calls (so a
        gallery is embedded once and compared with many queries).
        """
        q = query if isinstance(query, Features) else self.features(query)
        g = gallery if isinstance(gallery, Features) else self.features(gallery)
        return feature_distance(q, g, rfd_lambda, self.rfd_form)

    def embed_folder(
        self, folder: str | Path, cache_dir: str | Path | None = None,
        batch_size: int = 64, progress: bool = False, skip_bad: bool = False,
    ) -> tuple[list[Path], Features]:
        """Embed the images directly inside `folder` (sorted by name), with a cache.

        cache_dir: where features are kept between calls (default `<folder>/.rfdreid-cache`);
        only new or changed files are embedded again. skip_bad: leave out files that cannot
        be decoded (the returned paths omit them) instead of raising ReIDError.
        """
        folder = Path(folder)
        cache = Path(cache_dir) if cache_dir else folder / CACHE_DIR_NAME
        paths, f = embed_gallery(self.bf, self.feature_net, folder, gallery_images(folder),
                                 cache, batch_size=batch_size, device=self.device,
                                 progress=progress, skip_bad=skip_bad)
        r = None
        if self.br and self.resolution_net:
            _, r = embed_gallery(self.br, self.resolution_net, folder, paths, cache,
                                 batch_size=batch_size, device=self.device, progress=progress)
        return paths, Features(f, r)

    def search(
        self, query: ImageInput, folder: str | Path, top_k: int = 10,
        rfd_lambda: float = DEFAULT_LAMBDA, cache_dir: str | Path | None = None,
        progress: bool = False, skip_bad: bool = False, rerank: RerankParams | None = None,
        max_distance: float | None = None,
    ) -> SearchResult:
        """The `top_k` gallery files of `folder` closest to one query image.

        A query file that lies in the gallery folder itself is left out of its ranking.
        skip_bad: unreadable gallery files are left out and listed in `.skipped`.
        rerank: k-reciprocal re-ranking after the B-F / RFD distance (hit distances are
        then eq. 13's d*); it compares the whole gallery with itself, (1 + G)² distances.
        max_distance: keep only hits at distance <= max_distance (a match threshold, e.g.
        one `rfdreid evaluate --verification` measured), so fewer than top_k may come back.
        """
        if len(_as_list(query)) != 1:
            raise ReIDError("search takes one query image")
        check_rfd_lambda(rfd_lambda, "rfd_lambda")  # before any image is embedded
        limit = math.inf if max_distance is None else finite_number(max_distance,
                                                                    "max_distance")
        q = self.features(query)  # first: an unreadable query fails before the gallery work
        paths, gallery = self.embed_folder(folder, cache_dir, progress=progress,
                                           skip_bad=skip_bad)
        skipped = sorted(set(gallery_images(Path(folder))) - set(paths))
        if rerank is None:
            dist = feature_distance(q, gallery, rfd_lambda, self.rfd_form)[0]
        else:
            dist = rerank_features(q.f, gallery.f, q.r, gallery.r, rfd_lambda, self.rfd_form,
                                   rerank)[0]
        itself = Path(query).resolve() if isinstance(query, (str, Path)) else None
        order = torch.argsort(dist, stable=True)
        ranked = [i for i in order[dist[order] <= limit].tolist()
                  if paths[i].resolve() != itself][:top_k]
        hits = [Hit(n, paths[i], float(dist[i])) for n, i in enumerate(ranked, start=1)]
        return SearchResult(hits, skipped)

"""`rfdreid serve --gallery`: a folder embedded once, queried by upload or by one of its files.

Query ids: `upload:<token>` (an uploaded image) or `gallery:<file name>` (a gallery image,
left out of its own ranking). Match thresholds at a false positive rate come from the
results.json named at start (`rfdreid serve --results`), never from a client's path.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import torch
from PIL import Image

from rfdreid.api import ReIDModel
from rfdreid.data.images import read_image_size
from rfdreid.data.transforms import build_transform
from rfdreid.inference.gallery import CACHE_DIR_NAME, Features, embed_gallery, person_id
from rfdreid.errors import ReIDError
from rfdreid.evaluation.methods import Method
from rfdreid.evaluation.verification import threshold_from_results
from rfdreid.serve.ranking import Gallery, Query, Tile
from rfdreid.serve.resolution_class import ResolutionProbabilities, resolution_label
from rfdreid.serve.safe_files import resolve_inside
from rfdreid.serve.uploads import UploadStore


class GallerySearch:
    """A gallery folder with its features (and B-R classes), plus the uploaded queries;
    `results`: an evaluation's results.json whose verification thresholds may be used."""

    def __init__(self, model: ReIDModel, folder: Path, cache_dir: Path | None = None,
                 progress: bool = True, results: Path | None = None) -> None:
        self.model, self.folder, self.results = model, folder, results
        cache = cache_dir or folder / CACHE_DIR_NAME
        self.paths, features = model.embed_folder(folder, cache, progress=progress)
        self.index = {p.name: i for i, p in enumerate(self.paths)}
        self._classifier = None
        labels: list[str | None] = [None] * len(self.paths)
        if model.br is not None and model.resolution_net is not None:
            self._classifier = ResolutionProbabilities(model.resolution_net.net,
                                                       flip=model.resolution_net.flip)
            _, probs = embed_gallery(model.br, self._classifier, folder, self.paths,
                                     cache / "resolution-classes", device=model.device,
                                     progress=progress)
            labels = list(resolution_label(probs))
        self._labels = labels
        self.gallery = Gallery(features, self._tile, [person_id(p) for p in self.paths])
        self.uploads: UploadStore[Query] = UploadStore()

    def _tile(self, i: int) -> Tile:
        path = self.paths[i]
        w, h = read_image_size(path)
        return Tile(f"/image/{quote(path.name)}", path.name, w, h, w * h, self._labels[i])

    @torch.inference_mode()
    def _resolution(self, image: Image.Image) -> str | None:
        if self._classifier is None or self.model.br is None:
            return None
        d = self.model.br.config.data
        x = build_transform(d.height, d.width, train=False)(image)[None]
        return resolution_label(self._classifier(x.to(self.model.device)).cpu())[0]

    def add_upload(self, image: Image.Image, filename: str) -> str:
        """Embed an uploaded (already decoded) query; returns its query id."""
        features, resolution = self.model.features([image]), self._resolution(image)
        w, h = image.size

        def query(token: str) -> Query:
            tile = Tile(f"/upload/{token}", filename, w, h, w * h, resolution)
            return Query(features, tile, person_id(filename))

        return f"upload:{self.uploads.add(image, query)}"

    def resolve(self, query_id: str) -> tuple[Query, Gallery, list[int]]:
        """(query, gallery, gallery indices left out); KeyError for an unknown id."""
        kind, _, key = query_id.partition(":")
        if kind == "upload":
            return self.uploads.derived(key), self.gallery, []
        if kind == "gallery":
            i = self.index[key]
            f = self.gallery.features
            row = Features(f.f[i:i + 1], None if f.r is None else f.r[i:i + 1])
            return Query(row, self._tile(i), self.gallery.pids[i]), self.gallery, [i]
        raise KeyError(query_id)

    @property
    def has_thresholds(self) -> bool:
        return self.results is not None

    def threshold_at(self, query_id: str, method: Method, fpr: float) -> float:
        """The distance `results` measured at `fpr` for this checkpoint and `method`;
        ReIDError when there is none."""
        if self.results is None:
            raise ReIDError("no thresholds to take: serve with --results "
                            "runs/x/eval/results.json of `rfdreid evaluate --verification`")
        net = self.model.feature_net
        return threshold_from_results(self.results, self.model.bf.path, method, fpr,
                                      {"flip": net.flip, "normalize": net.normalize})

    def image_file(self, name: str) -> Path | None:
        """A gallery image to send, None when `name` is not a file inside the folder."""
        return resolve_inside(self.folder, name)

"""Image records and the protocol file that `rfdreid prepare` writes and later steps read.

Why a file: the MLR protocols draw random down-sampling factors and random splits; writing
them once (seeded) makes training, evaluation and other toolkits see exactly the same sets.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write_text

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class ImageRecord:
    """One image of a re-id set.

    path: the source image on disk (never the degraded copy).
    pid: person id (0-based contiguous on training sets, original ids on test sets).
    camid: camera id (0-based).
    factor: down-sampling factor r applied on load (1 = the image as stored).
    res_label: resolution class for B-R: the factor index on synthetic/MLR sets
        (0 = HR, 1 = x2, 2 = x3, 3 = x4), a pixel-count bin on real multi-resolution sets.
    """

    path: str
    pid: int
    camid: int
    factor: int = 1
    res_label: int = 0


def records_digest(records: list[ImageRecord]) -> str:
    """Content hash of a record list: same images at the same resolutions, same digest."""
    blob = json.dumps([asdict(r) for r in records], sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:16]


@dataclass
class Protocol:
    """Train / query / gallery records of one experiment (one split).

    galleries maps a gallery protocol name ("single": HR gallery, "multi": multi-resolution
    gallery) to its records; a protocol may hold one or both. gallery_queries holds the
    queries of a gallery protocol whose queries are not `query` (CAVIAR's multi-resolution
    protocol also queries with HR images); `subsets()` names them query_<mode>.
    validation: query / galleries built the same way from training identities that are held
    out of `train` (`rfdreid prepare --val-ids N`), for choosing RFD's lambda without ever
    looking at test identities; None when no identity was held out.
    """

    dataset: str
    interpolation: str
    seed: int
    num_res_classes: int
    train: list[ImageRecord]
    query: list[ImageRecord]
    galleries: dict[str, list[ImageRecord]]
    split: int | None = None
    meta: dict[str, object] = field(default_factory=dict)
    gallery_queries: dict[str, list[ImageRecord]] = field(default_factory=dict)
    validation: Protocol | None = None

    @property
    def num_train_pids(self) -> int:
        return len({r.pid for r in self.train})

    def subsets(self) -> dict[str, list[ImageRecord]]:
        """Every record list by name: train, query, gallery_<mode> and query_<mode>."""
        out = {"train": self.train, "query": self.query}
        for mode, gallery in self.galleries.items():
            if mode in self.gallery_queries:
                out[f"query_{mode}"] = self.gallery_queries[mode]
            out[f"gallery_{mode}"] = gallery
        return out

    def train_fingerprint(self) -> str:
        """Hash of the training records alone: what a resumed run must not change."""
        return records_digest(self.train)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        if d["validation"] is None:  # protocols without held-out ids keep their old files
            del d["validation"]
        d["version"] = PROTOCOL_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Protocol:
        d = dict(d)
        d.pop("version", None)

        def recs(items: object) -> list[ImageRecord]:
            return [ImageRecord(**r) for r in items]  # type: ignore[arg-type, union-attr]

        d["train"] = recs(d["train"])
        d["query"] = recs(d["query"])
        d["galleries"] = {k: recs(v) for k, v in d["galleries"].items()}  # type: ignore[union-attr]
        d["gallery_queries"] = {
            k: recs(v) for k, v in d.get("gallery_queries", {}).items()  # type: ignore[union-attr]
        }
        val = d.get("validation")
        d["validation"] = cls.from_dict(val) if val else None  # type: ignore[arg-type]
        return cls(**d)  # type: ignore[arg-type]

    def val_pids(self) -> set[int]:
        """Identities of the validation sets (empty without validation)."""
        if self.validation is None:
            return set()
        return {r.pid for recs in self.validation.subsets().values() for r in recs}

    def fingerprint(self) -> str:
        """Content hash: keys feature caches so a changed protocol is never served stale."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:16]

    def save(self, path: str | Path) -> None:
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Protocol:
        path = Path(path)
        if not path.is_file():
            raise ReIDError(f"protocol file {path} not found; create it with `rfdreid prepare`")
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ReIDError(
                f"protocol file {path} is not a valid rfdreid protocol ({e}); "
                "re-create it with `rfdreid prepare`"
            ) from None


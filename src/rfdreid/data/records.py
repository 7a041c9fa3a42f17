"""Image records and the protocol file that `rfdreid prepare` writes and later steps read.

Why a file: the MLR protocols draw random down-sampling factors and random splits; writing
them once (seeded) makes training, evaluation and other toolkits see exactly the same sets.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write_text

PROTOCOL_VERSION = 1
INT64_MAX = 2**63 - 1  # pids and camids become int64 tensors: a larger one overflows there
# How an MLR protocol chooses its LR images (see rfdreid.data.protocols).
MLR_VARIANTS = ("per-image", "sing")
# What prepare builds unless told otherwise: the paper follows SING ("We follow SING [13] to
# create the MLR-market1501 dataset"), and the measurements gave no reason against it.
DEFAULT_MLR_VARIANT = "sing"
# What a file without meta "mlr_variant" is: written before variants existed, so
# per-image (per-image protocols still omit the key, keeping their old bytes).
LEGACY_MLR_VARIANT = "per-image"


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

    @property
    def mlr_variant(self) -> str:
        """The MLR construction of the file (MLR_VARIANTS): LEGACY_MLR_VARIANT (per-image)
        unless meta says so, so per-image files keep their old bytes and old files read as
        what they are, whatever prepare's default (DEFAULT_MLR_VARIANT)."""
        return str(self.meta.get("mlr_variant", LEGACY_MLR_VARIANT))

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
        """Read a protocol file, its content checked field by field (check_protocol_data)
        so a hand-edited or foreign file fails here, in one line, not deep in training."""
        path = Path(path)
        if not path.is_file():
            raise ReIDError(f"protocol file {path} not found; create it with `rfdreid prepare`")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise ReIDError(
                f"protocol file {path} is not JSON text (byte {e.start} is not UTF-8: a "
                "checkpoint or an image?); pass the protocol.json or split_KK.json written by "
                "`rfdreid prepare`"
            ) from None
        except json.JSONDecodeError as e:
            raise ReIDError(
                f"protocol file {path} is not a valid rfdreid protocol ({e}); "
                "re-create it with `rfdreid prepare`"
            ) from None
        return cls.from_dict(check_protocol_data(data, path))


_KIND = {str: "a string", int: "an integer", list: "a list", dict: "a JSON object"}
_RECORD_FIELDS = {f.name: f.default is MISSING for f in fields(ImageRecord)}  # name: required


class _Schema:
    """The checks of check_protocol_data; every failure names the file and field path."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> ReIDError:
        return ReIDError(f"protocol file {self.file}: {where} {problem}; fix it or re-create "
                         "the file with `rfdreid prepare`")

    def value(self, obj: dict[str, Any], key: str, tp: type, where: str,
              low: int | None = None, high: int | None = None) -> Any:
        """obj[key], which must be of type tp (an int in [low, high])."""
        v = obj[key]
        if not isinstance(v, tp) or (tp is int and isinstance(v, bool)):
            raise self.fail(f"{where}{key}", f"must be {_KIND[tp]}, got {v!r:.60}")
        if tp is not int:
            return v
        if high is not None and not low <= v <= high:  # type: ignore[operator]
            raise self.fail(f"{where}{key}", f"must be in {low}..{high}, got {v}")
        if low is not None and v < low:
            raise self.fail(f"{where}{key}", f"must be >= {low}, got {v}")
        if v > INT64_MAX:
            raise self.fail(f"{where}{key}", f"must fit in 64 bits (<= {INT64_MAX}), got {v}")
        return v

    def keys(self, obj: object, where: str, known: dict[str, bool]) -> dict[str, Any]:
        """obj as an object with every required key of `known` and no other key."""
        if not isinstance(obj, dict):
            raise self.fail(where or "the file", f"must be {_KIND[dict]}, got {obj!r:.60}")
        prefix = f"{where}." if where else ""
        for key, required in known.items():
            if required and key not in obj:
                raise self.fail(f"{prefix}{key}", "is missing")
        for key in obj:
            if key not in known:
                raise self.fail(f"{prefix}{key}", f"is not a field (known: {', '.join(known)})")
        return obj

    def records(self, items: object, where: str, res_classes: int) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            raise self.fail(where, f"must be {_KIND[list]} of images, got {items!r:.60}")
        for i, rec in enumerate(items):
            at = f"{where}[{i}]."
            self.keys(rec, at[:-1], _RECORD_FIELDS)
            self.value(rec, "path", str, at)
            self.value(rec, "pid", int, at, low=-1)
            self.value(rec, "camid", int, at, low=0)
            if "factor" in rec:
                self.value(rec, "factor", int, at, low=1)
            if "res_label" in rec:
                self.value(rec, "res_label", int, at, low=0, high=res_classes - 1)
        return items

    def named_lists(self, obj: dict[str, Any], key: str, where: str, res_classes: int) -> None:
        """obj[key]: gallery name -> records (galleries, gallery_queries)."""
        named = obj[key]
        if not isinstance(named, dict):
            raise self.fail(f"{where}{key}", "must be an object mapping gallery names to image "
                            f"lists, e.g. {{\"single\": [...]}}, got {named!r:.60}")
        for name, items in named.items():
            self.records(items, f"{where}{key}.{name}", res_classes)

    def mlr_variant(self, meta: dict[str, Any], at: str) -> None:
        """meta["mlr_variant"], where present, names a variant of an MLR protocol."""
        if "mlr_variant" not in meta:
            return
        variant = meta["mlr_variant"]
        if variant not in MLR_VARIANTS:
            raise self.fail(f"{at}mlr_variant", f"must be one of {', '.join(MLR_VARIANTS)}, "
                            f"got {variant!r:.60}")
        if meta.get("protocol") != "mlr":
            raise self.fail(f"{at}mlr_variant", "applies to MLR protocols only, but meta."
                            f"protocol is {meta.get('protocol')!r:.60}")

    def protocol(self, d: object, where: str) -> None:
        known = {f.name: f.default is MISSING and f.default_factory is MISSING
                 for f in fields(Protocol)} | {"version": False}
        obj = self.keys(d, where, known)
        at = f"{where}." if where else ""
        self.value(obj, "dataset", str, at)
        self.value(obj, "interpolation", str, at)
        self.value(obj, "seed", int, at, low=0)
        res_classes = self.value(obj, "num_res_classes", int, at, low=1)
        if obj.get("split") is not None:
            self.value(obj, "split", int, at, low=0)
        if "meta" in obj:
            self.mlr_variant(self.value(obj, "meta", dict, at), f"{at}meta.")
        train = self.records(obj["train"], f"{at}train", res_classes)
        self.records(obj["query"], f"{at}query", res_classes)
        self.named_lists(obj, "galleries", at, res_classes)
        if "gallery_queries" in obj:
            self.named_lists(obj, "gallery_queries", at, res_classes)
        ids = sorted({r["pid"] for r in train})
        if ids != list(range(len(ids))):
            first = next(i for i, r in enumerate(train) if not 0 <= r["pid"] < len(ids))
            raise self.fail(f"{at}train[{first}].pid", f"is {train[first]['pid']}, but the "
                            f"{len(ids)} training ids must be numbered 0..{len(ids) - 1}")
        if obj.get("validation") is not None:
            self.protocol(obj["validation"], f"{at}validation")


def check_protocol_data(data: object, file: Path) -> dict[str, Any]:
    """`data` (a protocol file's JSON) if it has the shape Protocol.to_dict writes: types,
    ranges (factor >= 1, 0 <= res_label < num_res_classes, ids within int64, training ids
    0..N-1), else ReIDError naming the file and the field path, e.g.
    `galleries.single[3].pid must be an integer, got '0'`."""
    _Schema(file).protocol(data, "")
    return data  # type: ignore[return-value]

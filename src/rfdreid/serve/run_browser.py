"""`rfdreid serve --run`: a finished `rfdreid evaluate` output, query by query.

results.json holds the tables; the per-query view (rank of the first true match under
B-F and under RFD, and each ranking) is recomputed from the run's protocol and its cached
test features, for the protocol as stored (repeat 0 of an MLR evaluation).

Query ids: `run:<split>:<gallery>:<query index>`. Match thresholds at a false positive rate
come from the run's own verification section (`rfdreid evaluate --verification`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from rfdreid.config import EvalConfig
from rfdreid.data.degrade import load_as_seen
from rfdreid.data.images import read_image_size
from rfdreid.data.records import ImageRecord
from rfdreid.workflows.evaluate import RunPair, pair_features, table_title
from rfdreid.inference.gallery import Features, feature_distance
from rfdreid.errors import ReIDError
from rfdreid.evaluation.metrics import GalleryGroups, query_rank_stats
from rfdreid.evaluation.methods import Method
from rfdreid.evaluation.verification import threshold_from_results
from rfdreid.serve.ranking import Gallery, Query, Tile
from rfdreid.serve.safe_files import resolve_inside

SORT_KEYS = ("first_bf", "first_rfd", "moved")


@dataclass(frozen=True)
class QueryStats:
    """One query of a split's gallery: 1-based rank of its first true match under B-F and
    RFD (None: no true match), and how many places RFD moved that match up."""

    index: int
    name: str
    pid: int
    first_bf: int | None
    first_rfd: int | None

    @property
    def moved(self) -> int | None:
        if self.first_bf is None or self.first_rfd is None:
            return None
        return self.first_bf - self.first_rfd


def _eval_config(settings: dict) -> EvalConfig:
    """The EvalConfig recorded in results.json (`{"eval": {...}}` from the demo, or
    `{key: {"value", "source"}}` from `rfdreid evaluate`)."""
    values = settings.get("eval") or {k: v["value"] for k, v in settings.items()}
    names = {f.name for f in dataclasses.fields(EvalConfig)}
    return EvalConfig(**{k: v for k, v in values.items() if k in names})


def _pairs(results: dict) -> list[RunPair]:
    """The evaluated pairs; outputs older than the "pairs" entry give only the B-F paths,
    with B-R found beside them as `rfdreid evaluate --runs` finds it."""
    if "pairs" in results:
        return [RunPair(**{k: v and Path(v) for k, v in p.items()}) for p in results["pairs"]]
    pairs = []
    for bf in map(Path, results["splits"]):
        br = bf.parent.parent / "br" / "checkpoint.pt"
        pairs.append(RunPair(bf, br if br.is_file() else None))
    return pairs


class SplitGallery:
    """One split's queries against one of its galleries, with per-query statistics."""

    def __init__(self, split: int, mode: str, interpolation: str, queries: list[ImageRecord],
                 gallery: list[ImageRecord], q: Features, g: Features, ecfg: EvalConfig) -> None:
        self.split, self.mode, self.interpolation = split, mode, interpolation
        self.queries, self.records, self.q, self.ecfg = queries, gallery, q, ecfg
        self.gallery = Gallery(g, lambda i: self.tile("g", i), [r.pid for r in gallery])
        self.g_pids = np.array([r.pid for r in gallery])
        self.g_camids = np.array([r.camid for r in gallery])

    def record(self, side: str, i: int) -> ImageRecord:
        return (self.queries if side == "q" else self.records)[i]

    def tile(self, side: str, i: int) -> Tile:
        r = self.record(side, i)
        w, h = read_image_size(r.path)
        return Tile(f"/run-image/{self.split}/{self.mode}/{side}/{i}", Path(r.path).name, w, h,
                    max(1, round(w / r.factor)) * max(1, round(h / r.factor)),
                    f"R{r.res_label} (protocol)")

    def image(self, side: str, i: int) -> Image.Image:
        """The image as the model saw it (degraded by its record's factor)."""
        return load_as_seen(self.record(side, i), self.interpolation)

    def junk(self, qi: int) -> list[int]:
        """Gallery indices the evaluation ignores for query qi: same id, same camera."""
        q = self.queries[qi]
        return np.flatnonzero((self.g_pids == q.pid) & (self.g_camids == q.camid)).tolist()

    def query(self, qi: int) -> Query:
        f = self.q
        row = Features(f.f[qi:qi + 1], None if f.r is None else f.r[qi:qi + 1])
        return Query(row, self.tile("q", qi), self.queries[qi].pid)

    def _first_match(self, lam: float) -> np.ndarray:
        dist = feature_distance(self.q, self.gallery.features, lam, self.ecfg.rfd_form)
        first, _, _ = query_rank_stats(
            dist.numpy(), np.array([r.pid for r in self.queries]),
            np.array([r.camid for r in self.queries]),
            GalleryGroups.build(self.g_pids, self.g_camids))
        return first

    @cached_property
    def stats(self) -> list[QueryStats]:
        bf = self._first_match(0.0)
        rfd = self._first_match(self.ecfg.rfd_lambda) if self.gallery.has_rfd else None

        def one_based(x: int) -> int | None:
            return None if x < 0 else x + 1

        return [QueryStats(i, Path(r.path).name, r.pid, one_based(int(bf[i])),
                           None if rfd is None else one_based(int(rfd[i])))
                for i, r in enumerate(self.queries)]

    def sorted_stats(self, key: str) -> list[QueryStats]:
        """Largest first: rank of the first true match (worst queries on top), or places
        RFD moved it either way; queries without a true match last."""
        if key not in SORT_KEYS:
            raise KeyError(key)

        def order(s: QueryStats) -> tuple[bool, int]:
            v = getattr(s, key)
            return v is None, -abs(v or 0)

        return sorted(self.stats, key=order)


@dataclass(frozen=True)
class RunTable:
    """One results table of a run: its gallery (what its queries link to), its title
    (the gallery, or the gallery and a query group) and {row label: metric mean/SD}."""

    gallery: str
    title: str
    rows: dict[str, dict[str, dict[str, float]]]


def _table_keys(results: dict) -> list[tuple[str, str]]:
    """(gallery, query group) of every table, from the typed records; a results.json
    written before the records has only its titles, "<gallery>[, <query group>]", read
    back as report/collect.py reads them."""
    if "records" in results:
        return list(dict.fromkeys((r["gallery"], r["queries"]) for r in results["records"]))
    return [(title.partition(", ")[0], title.partition(", ")[2]) for title in results["summary"]]


class RunBrowser:
    """An `rfdreid evaluate` output folder: its tables, plots and per-query rankings."""

    def __init__(self, run_dir: Path, device: str = "cpu", progress: bool = True) -> None:
        path = run_dir / "results.json"
        try:
            results = json.loads(path.read_text())
            summary: dict = results["summary"]
            self.tables = [RunTable(g, table_title((g, q)), summary[table_title((g, q))])
                           for g, q in _table_keys(results)]
            self.ecfg = _eval_config(results.get("settings", {}))
            self.pairs = _pairs(results)
            self.has_thresholds = bool(results.get("verification"))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ReIDError(f"{path} is not the results.json of `rfdreid evaluate` ({e}); "
                            "pass the folder that `rfdreid evaluate --out` wrote") from None
        self.run_dir, self.device, self.progress = run_dir, device, progress
        self.plots = sorted(p.name for p in run_dir.glob("r1_per_split_*.png"))
        self._views: dict[tuple[int, str], SplitGallery] = {}

    @property
    def galleries(self) -> list[str]:
        return list(dict.fromkeys(t.gallery for t in self.tables))

    def view(self, split: int, mode: str) -> SplitGallery:
        """Split `split`'s gallery `mode` (features read from the evaluation's cache);
        KeyError when there is no such split or gallery."""
        if not 0 <= split < len(self.pairs) or mode not in self.galleries:
            raise KeyError((split, mode))
        if (split, mode) not in self._views:
            protocol, features = pair_features(self.pairs[split], self.ecfg, self.device,
                                               self.progress)
            gallery = protocol.galleries[mode]
            queries = protocol.gallery_queries.get(mode, protocol.query)
            q_name = "query" if queries is protocol.query else f"query_{mode}"
            self._views[split, mode] = SplitGallery(
                split, mode, protocol.interpolation, queries, gallery,
                features(q_name, queries), features(f"gallery_{mode}", gallery), self.ecfg)
        return self._views[split, mode]

    def resolve(self, query_id: str) -> tuple[Query, Gallery, list[int]]:
        """(query, gallery, junk indices left out); KeyError / ValueError for a bad id."""
        kind, split, mode, qi = query_id.split(":")  # a malformed id: ValueError
        if kind != "run":
            raise KeyError(query_id)
        view = self.view(int(split), mode)
        if not 0 <= int(qi) < len(view.queries):
            raise KeyError(query_id)
        return view.query(int(qi)), view.gallery, view.junk(int(qi))

    def threshold_at(self, query_id: str, method: Method, fpr: float) -> float:
        """The distance this run measured at `fpr` for the query's split, gallery and
        `method`; ReIDError when there is none. `query_id` has passed :meth:`resolve`."""
        _, split, mode, _ = query_id.split(":")
        return threshold_from_results(self.run_dir / "results.json", self.pairs[int(split)].bf,
                                      method, fpr, {"flip": self.ecfg.flip,
                                                    "normalize": self.ecfg.normalize}, mode)

    def file(self, name: str) -> Path | None:
        """A picture of the run folder to send, None unless it lies inside the folder."""
        return resolve_inside(self.run_dir, name)

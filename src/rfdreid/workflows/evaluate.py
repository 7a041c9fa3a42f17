"""Evaluation runs: checkpoints + protocol -> features -> B-F and B-F+RFD tables.

Why here and not in `evaluation/`: that package holds the pure maths (metrics, distances,
the RFD fusion); this module drives models and files around it, over one or many splits.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rfdreid.config import EvalConfig
from rfdreid.data.protocols import redraw_degradation
from rfdreid.data.records import ImageRecord, Protocol, records_digest
from rfdreid.fileio import atomic_write_text
from rfdreid.training.checkpoint import TrainedModel, read_trained_model
from rfdreid.training.precision import resolve_precision
from rfdreid.inference.extract import (
    FeatureCache,
    build_inference_model,
    extract_features,
    files_digest,
)
from rfdreid.inference.gallery import Features, feature_distance
from rfdreid.errors import ReIDError
from rfdreid.evaluation import RankResult, evaluate_features, rank_result, selection, verification
from rfdreid.evaluation.distance import RFD_FORMS
from rfdreid.evaluation.methods import Method
from rfdreid.evaluation.rerank import rerank_features
from rfdreid.evaluation.sign_test import sign_test_p
from rfdreid.evaluation.visualize import draw_protocol_rankings, plot_split_r1, plot_verification

METRICS = ("r1", "r5", "r10", "mAP", "mINP")


@dataclass(frozen=True)
class RunPair:
    """One split's trained pair: B-F (required) and B-R (for RFD)."""

    bf: Path
    br: Path | None = None
    protocol: Path | None = None  # default: the protocol the B-F was trained on


def model_provenance(pair: RunPair) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """How each model of a pair started ("random init" or its weights' source) and the
    precision it trained in (`auto`'s choice differs by machine), for results.json."""
    models = {kind: read_trained_model(path)
              for kind, path in (("B-F", pair.bf), ("B-R", pair.br)) if path}
    return {k: m.init for k, m in models.items()}, {k: m.precision for k, m in models.items()}


def discover_runs(root: Path) -> list[RunPair]:
    """Find `<root>/**/bf/checkpoint.pt` with an optional sibling `br/checkpoint.pt`."""
    pairs = []
    found = sorted(  # os.walk follows links: a folder of symlinked split runs works too
        Path(d) / "checkpoint.pt" for d, _, files in os.walk(root, followlinks=True)
        if Path(d).name == "bf" and "checkpoint.pt" in files
    )
    for bf in found:
        br = bf.parent.parent / "br" / "checkpoint.pt"
        pairs.append(RunPair(bf=bf, br=br if br.is_file() else None))
    if not pairs:
        raise ReIDError(f"no <split>/bf/checkpoint.pt under {root}; train with `rfdreid train` first")
    without_br = [str(p.bf.parent.parent) for p in pairs if p.br is None]
    if without_br and len(without_br) < len(pairs):
        raise ReIDError(f"{', '.join(without_br)} lack br/checkpoint.pt while other splits have "
                        "one; train the missing B-R models so every split is evaluated alike")
    return pairs


class _Embedder:
    """Extracts (and caches) one checkpoint's test features for lists of records.

    The cache key is the records' content, not the subset's name, so the HR gallery is
    embedded once for every MLR repeat and every protocol file that holds it; and it holds
    the digest of the checkpoint bytes the weights came from, so features of a checkpoint
    that was rewritten since are never reused.
    """

    def __init__(self, trained: TrainedModel, interpolation: str, ecfg: EvalConfig,
                 device: str, progress: bool) -> None:
        self.trained, self.interpolation, self.ecfg = trained, interpolation, ecfg
        self.device, self.progress = device, progress
        self.precision = resolve_precision(ecfg.precision, torch.device(device)).precision
        self.cache = FeatureCache(trained.path.parent / "features")
        self._model: torch.nn.Module | None = None

    def __call__(self, subset: str, records: list[ImageRecord]) -> torch.Tensor:
        d = self.trained.config.data
        key = FeatureCache.key(self.trained.digest, records_digest(records),
                               files_digest(r.path for r in records), self.interpolation,
                               self.ecfg.flip, self.ecfg.normalize, d.height, d.width,
                               self.precision)

        def compute() -> torch.Tensor:
            if self._model is None:
                self._model = build_inference_model(self.trained, self.device,
                                                    flip=self.ecfg.flip,
                                                    normalize=self.ecfg.normalize)
            return extract_features(
                self._model, records, height=d.height, width=d.width,
                interpolation=self.interpolation, batch_size=self.ecfg.batch_size,
                workers=self.ecfg.workers, device=self.device, progress=self.progress,
                desc=f"{self.trained.kind} {subset}", precision=self.precision,
            )

        return self.cache.get_or_compute(key, compute)


TableKey = tuple[str, str]  # (gallery, query group: "" for all queries)
SplitResult = dict[TableKey, dict[Method, RankResult]]


def table_title(key: TableKey) -> str:
    """How a (gallery, query group) is named in results.md / results.json."""
    gallery, queries = key
    return f"{gallery}, {queries}" if queries else gallery


def rfd_methods(ecfg: EvalConfig) -> list[Method]:
    """The RFD rows: the configured form at λ and the sweep, the other form at λ, and
    with --select-lambda every candidate of the selection (so that a selection rule can
    be replayed on the recorded test rows: `python -m rfdreid.report`)."""
    other = [f for f in RFD_FORMS if f != ecfg.rfd_form]
    lams = sorted({ecfg.rfd_lambda, *ecfg.lambda_sweep} - {0.0})
    rows = [Method(ecfg.rfd_form, lam) for lam in lams] + [
        Method(f, ecfg.rfd_lambda) for f in other]
    if ecfg.select_lambda:
        rows += [Method(f, lam) for f, lam in selection.candidates(ecfg.select_forms,
                                                                   ecfg.select_lambda)[1:]]
    return list(dict.fromkeys(rows))


def rerank_methods(ecfg: EvalConfig, with_rfd: bool) -> list[Method]:
    """The re-ranked rows (`eval.rerank`): B-F, and B-F+RFD at the configured form and λ."""
    if not ecfg.rerank:
        return []
    with_rfd = with_rfd and ecfg.rfd_lambda != 0.0
    return [Method(rerank=True)] + (
        [Method(ecfg.rfd_form, ecfg.rfd_lambda, rerank=True)] if with_rfd else [])


class _PairFeatures:
    """Query/gallery features of both checkpoints for the sets of one protocol.

    Rows are kept per image and factor, the only inputs of a test feature: a set that
    repeats images already embedded (the query set serving several galleries, each of
    MLR's redrawn degradations) embeds only its new (image, factor) pairs, so ten
    degradation draws cost at most four embeddings of every image, not ten.
    """

    def __init__(self, embed_f: _Embedder, embed_r: _Embedder | None) -> None:
        self.embed_f, self.embed_r = embed_f, embed_r
        self._rows: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor | None]] = {}

    def __call__(self, name: str, records: list[ImageRecord]) -> Features:
        missing = list({(r.path, r.factor): r for r in records
                        if (r.path, r.factor) not in self._rows}.values())
        if missing:
            f = self.embed_f(name, missing)
            r = self.embed_r(name, missing) if self.embed_r else None
            for i, rec in enumerate(missing):
                self._rows[(rec.path, rec.factor)] = (f[i], None if r is None else r[i])
        rows = [self._rows[(rec.path, rec.factor)] for rec in records]
        return Features(torch.stack([f for f, _ in rows]),
                        None if self.embed_r is None else torch.stack([r for _, r in rows]))


def _gallery_sets(protocol: Protocol) -> list[tuple[str, list[ImageRecord], list[ImageRecord]]]:
    """(gallery name, queries, gallery) for every gallery protocol."""
    return [(mode, protocol.gallery_queries.get(mode, protocol.query), gallery)
            for mode, gallery in protocol.galleries.items()]


def _set_features(protocol: Protocol, features: _PairFeatures, mode: str,
                  queries: list[ImageRecord], gallery: list[ImageRecord]
                  ) -> tuple[Features, Features]:
    """Features of one gallery protocol's queries and gallery."""
    return (features("query" if queries is protocol.query else f"query_{mode}", queries),
            features(f"gallery_{mode}", gallery))


def _labels(queries: list[ImageRecord], gallery: list[ImageRecord]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(query pids, gallery pids, query cameras, gallery cameras)."""
    return (np.array([r.pid for r in queries]), np.array([r.pid for r in gallery]),
            np.array([r.camid for r in queries]), np.array([r.camid for r in gallery]))


def _evaluate(q: Features, g: Features, queries: list[ImageRecord],
              gallery: list[ImageRecord], methods: list[Method], ecfg: EvalConfig
              ) -> dict[Method, RankResult]:
    """Metrics of every method on one query/gallery pair (D_f once per RFD form; each
    re-ranked method from its own pooled distance)."""
    labels = _labels(queries, gallery)
    out: dict[Method, RankResult] = {}
    ranked = [m for m in methods if not m.rerank]
    for form in dict.fromkeys(m.form or ecfg.rfd_form for m in ranked):
        mine = [m for m in ranked if (m.form or ecfg.rfd_form) == form]
        res = evaluate_features(q.f, g.f, *labels, qr=q.r, gr=g.r,
                                lambdas=[m.lam for m in mine], max_rank=ecfg.max_rank,
                                form=form)
        out.update({m: res[m.lam] for m in mine})
    for m in methods:
        if m.rerank:
            dist = rerank_features(q.f, g.f, q.r, g.r, m.lam, m.form or ecfg.rfd_form,
                                   ecfg.rerank_params())
            out[m] = rank_result(dist, *labels, max_rank=ecfg.max_rank)
    return out


def select_lambda(protocol: Protocol, features: _PairFeatures, ecfg: EvalConfig
                  ) -> dict[str, dict[str, Any]]:
    """The reading of eq. 8 and λ chosen per gallery on the protocol's VALIDATION ids.

    Every candidate (form of `ecfg.select_forms`, λ of `ecfg.select_lambda`; and B-F) is
    scored by mAP (less noisy than R1 on a few dozen queries) on the validation
    query/gallery sets, which `rfdreid prepare --val-ids N` builds from training ids held
    out of training; `ecfg.select_rule` picks one (evaluation/selection.py). Test records
    are never embedded here. Returns {gallery: {"form", "lambda", "val_mAP", "val_mAP_B-F",
    "curve": {form: {λ: val mAP}}}}; the curve lets the report replay other rules.
    """
    val = protocol.validation
    if val is None:
        raise ReIDError("--select-lambda needs validation identities held out of training; "
                        "prepare the protocol with --val-ids N and train on it")
    grid = selection.candidates(ecfg.select_forms, ecfg.select_lambda)
    curves: dict[str, dict[selection.Candidate, float]] = {}
    for mode, queries, gallery in _gallery_sets(val):
        q = features(f"val query_{mode}", queries)
        g = features(f"val gallery_{mode}", gallery)
        methods = [Method() if f == selection.BF[0] else Method(f, lam) for f, lam in grid]
        res = _evaluate(q, g, queries, gallery, methods, ecfg)
        curves[mode] = {c: 100.0 * res[m].mAP for c, m in zip(grid, methods)}
    picked = selection.choose(curves, ecfg.select_rule, ecfg.select_margin)
    out: dict[str, dict[str, Any]] = {}
    for mode, (form, lam) in picked.items():
        curve: dict[str, dict[str, float]] = {}
        for (f, lm), v in curves[mode].items():
            curve.setdefault(f, {})[f"{lm:g}"] = v
        out[mode] = {"form": ecfg.rfd_form if form == selection.BF[0] else form, "lambda": lam,
                     "val_mAP": curves[mode][(form, lam)],
                     "val_mAP_B-F": curves[mode][selection.BF], "curve": curve}
    return out


def evaluate_protocol(
    protocol: Protocol, features: _PairFeatures, ecfg: EvalConfig, with_rfd: bool,
    chosen: dict[str, dict[str, float]] | None = None,
    rankings_dir: Path | None = None, num_rankings: int = 0,
) -> SplitResult:
    """Every method on every gallery protocol of `protocol`."""
    out: SplitResult = {}
    for mode, queries, gallery in _gallery_sets(protocol):
        q, g = _set_features(protocol, features, mode, queries, gallery)
        methods = [Method()] + (rfd_methods(ecfg) if with_rfd else [])
        if with_rfd and chosen:
            methods.append(Method(chosen[mode]["form"], chosen[mode]["lambda"], chosen=True,
                                  form_chosen=len(ecfg.select_forms) > 1))
        methods += rerank_methods(ecfg, with_rfd)
        if rankings_dir is not None and num_rankings > 0:
            lam = ecfg.rfd_lambda if with_rfd else 0.0
            dist = feature_distance(q, g, lam, ecfg.rfd_form)
            draw_protocol_rankings(dist, queries, gallery, protocol.interpolation,
                                   rankings_dir / mode, num_rankings)
        out[(mode, "")] = _rows(_evaluate(q, g, queries, gallery, methods, ecfg))
        if ecfg.by_resolution_class:
            for group, idx in resolution_class_groups(queries, gallery).items():
                sub = [queries[i] for i in idx]
                qs = Features(q.f[idx], None if q.r is None else q.r[idx])
                out[(mode, group)] = _rows(_evaluate(qs, g, sub, gallery, methods, ecfg))
    return out


def _rows(results: dict[Method, RankResult]) -> dict[Method, RankResult]:
    return {m.row: r for m, r in results.items()}


CLASS_GROUPS = ("match in another resolution class", "match in the same resolution class")


def resolution_class_groups(queries: list[ImageRecord], gallery: list[ImageRecord]
                            ) -> dict[str, np.ndarray]:
    """Query indices by the resolution class (B-R's label: pixel-count bin or factor) of
    their true matches, the other-camera gallery images of their id (issue 25: is RFD's
    gain resolution invariance or the removal of a camera bias?).

    A query whose true matches all lie in another class than its own goes to the first
    group, one whose matches all share its class to the second; queries with matches in
    both or none are in neither. Empty groups are left out.
    """
    by_id: dict[int, list[ImageRecord]] = {}
    for r in gallery:
        by_id.setdefault(r.pid, []).append(r)
    groups: dict[str, list[int]] = {name: [] for name in CLASS_GROUPS}
    for i, q in enumerate(queries):
        same = {g.res_label == q.res_label for g in by_id.get(q.pid, []) if g.camid != q.camid}
        if len(same) == 1:
            groups[CLASS_GROUPS[int(same.pop())]].append(i)
    return {name: np.array(idx) for name, idx in groups.items() if idx}


def _high_resolution(protocol: Protocol, records: list[ImageRecord]) -> np.ndarray:
    """Which images are HR for the verification pair groups: on a real-resolution protocol
    (pixel-count bins in meta["res_bin_edges"], label 0 = fewest pixels) the upper half of
    the bins; on a degraded (MLR-style) one, the images kept at factor 1."""
    if "res_bin_edges" in protocol.meta:
        return np.array([2 * r.res_label >= protocol.num_res_classes for r in records])
    return np.array([r.factor == 1 for r in records])


VerificationReports = dict[str, dict[Method, dict[str, dict[str, Any]]]]
"""{gallery: {method: verification.report()}}"""


def verify_protocol(protocol: Protocol, features: _PairFeatures, ecfg: EvalConfig,
                    plot_prefix: str | None = None) -> VerificationReports:
    """Verification of B-F and (with B-R) B-F+RFD at the configured form and λ, on every
    gallery protocol; with plot_prefix, also the ROC and histograms of all pairs as
    `<plot_prefix><gallery>.png`. One gallery's pairs are held at a time (the cap of
    verification.MAX_PAIRS); too many, or no genuine or impostor pairs, is one line."""
    methods = [Method()]
    if features.embed_r is not None and ecfg.rfd_lambda != 0.0:
        methods.append(Method(ecfg.rfd_form, ecfg.rfd_lambda))
    out: VerificationReports = {}
    for mode, queries, gallery in _gallery_sets(protocol):
        verification.check_pair_count(len(queries), len(gallery))
        q, g = _set_features(protocol, features, mode, queries, gallery)
        hr = _high_resolution(protocol, queries), _high_resolution(protocol, gallery)
        pairs = {}
        for m in methods:
            dist = feature_distance(q, g, m.lam, m.form or ecfg.rfd_form)
            pairs[m] = verification.pair_groups(dist, *_labels(queries, gallery), *hr)
            verification.require_both_kinds(pairs[m]["all"],
                                             f"the {mode} gallery of {protocol.dataset}")
        out[mode] = {m: verification.report(groups) for m, groups in pairs.items()}
        if plot_prefix is not None:
            plot_verification({m.label: groups["all"] for m, groups in pairs.items()},
                              f"{plot_prefix}{mode}.png", GALLERY_TITLES.get(mode, mode))
    return out


def _require_test_sets(protocol: Protocol, path: str | Path) -> None:
    """A ReIDError naming the protocol file and the set when a query set or a gallery is
    empty: otherwise it surfaces as a shape mismatch deep in the distance code."""
    if not protocol.galleries:
        raise ReIDError(f"protocol {path} has no gallery set; prepare it again with "
                        "`rfdreid prepare`")
    for mode, queries, gallery in _gallery_sets(protocol):
        for what, records in (("query set", queries), ("gallery", gallery)):
            if not records:
                raise ReIDError(f"protocol {path}: the {what} of the {mode} gallery protocol "
                                "is empty; prepare it again with `rfdreid prepare`")


def pair_features(pair: RunPair, ecfg: EvalConfig, device: str = "cpu", progress: bool = True
                  ) -> tuple[Protocol, _PairFeatures]:
    """The protocol of one trained pair and a source of its (cached) test features, for
    tools that look inside a finished evaluation (`rfdreid serve --run`)."""
    bf = read_trained_model(pair.bf, expect_kind="B-F")
    br = read_trained_model(pair.br, expect_kind="B-R") if pair.br else None
    path = pair.protocol or bf.protocol_file
    protocol = Protocol.load(path)
    _require_test_sets(protocol, path)
    interp = protocol.interpolation
    return protocol, _PairFeatures(_Embedder(bf, interp, ecfg, device, progress),
                                   _Embedder(br, interp, ecfg, device, progress) if br else None)


@dataclass
class PairResult:
    """One trained pair's results: one SplitResult per repeat, and the λ chosen."""

    repeats: list[SplitResult]
    chosen: dict[str, dict[str, float]] | None


def evaluate_pair(
    pair: RunPair, ecfg: EvalConfig, device: str = "cpu", progress: bool = True,
    rankings_dir: Path | None = None, num_rankings: int = 0,
) -> PairResult:
    """Metrics of one trained pair for every gallery protocol, per repeat.

    With `ecfg.select_lambda`, λ is first chosen on the validation identities. With
    `ecfg.repeats` N > 1 (MLR), the test degradation is drawn N times (repeat 0 = the file).
    With rankings_dir and num_rankings > 0, also draws the top-10 of that many queries per
    gallery (B-F+RFD when B-R is given) to `<rankings_dir>/<gallery>/query_<i>.png`.
    """
    if ecfg.rerank:
        ecfg.rerank_params()  # bad k1 / k2 / λ stop here, before any feature is extracted
    protocol, features = pair_features(pair, ecfg, device, progress)
    with_rfd = features.embed_r is not None
    if ecfg.select_lambda and not with_rfd:
        raise ReIDError("--select-lambda chooses RFD's λ: give the B-R checkpoint too")
    chosen = select_lambda(protocol, features, ecfg) if ecfg.select_lambda else None
    repeats = [
        evaluate_protocol(redraw_degradation(protocol, k), features, ecfg, with_rfd,
                          chosen, rankings_dir if k == 0 else None, num_rankings)
        for k in range(ecfg.repeats)
    ]
    return PairResult(repeats, chosen)


def _sd(values: list[float]) -> float:
    """Sample standard deviation (n − 1), 0 for one value: the ± of every table."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def table_keys(per_split: list[SplitResult]) -> dict[TableKey, list[SplitResult]]:
    """Every (gallery, query group) of any split or draw, in first-seen order, with the
    runs that have it: a query group empty in one draw (MLR redraws the factors, so "match
    in the same resolution class" can hold no query) is absent from that run only."""
    keys = dict.fromkeys(k for s in per_split for k in s)
    return {k: [s for s in per_split if k in s] for k in keys}


def summarize(per_split: list[SplitResult]) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """Mean and sample SD over the splits (and draws) that have each table:
    {table title: {row label: {metric: {mean, std}}}}."""
    table: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for key, runs in table_keys(per_split).items():
        rows = table.setdefault(table_title(key), {})
        for method in runs[0][key]:
            vals = {m: [100.0 * getattr(s[key][method], m) for s in runs] for m in METRICS}
            rows[method.label] = {m: {"mean": float(np.mean(v)), "std": _sd(v)}
                                  for m, v in vals.items()}
    return table


def paired_gain(per_split: list[SplitResult], key: TableKey, method: Method,
                metric: str = "r1") -> str:
    """Gain of one RFD row over B-F, paired by split, with an exact two-sided sign test.

    Why paired: splits differ far more from each other than RFD changes a split, so the
    question "does RFD help beyond split-to-split noise" is asked of the per-split gains.
    """
    gains = [100.0 * (getattr(s[key][method], metric) - getattr(s[key][Method()], metric))
             for s in per_split if key in s]
    up, down = sum(g > 0 for g in gains), sum(g < 0 for g in gains)
    p = sign_test_p(up, down)
    name = {"r1": "R1", "mAP": "mAP"}.get(metric, metric)
    return (f"{name} gain of {method.label} over B-F, paired: {np.mean(gains):+.1f} ± "
            f"{_sd(gains):.1f} points; better on {up}, worse on {down} of {len(gains)} "
            f"(sign test p = {p:.3f})")


GALLERY_TITLES = {"single": "single-resolution gallery", "multi": "multi-resolution gallery",
                  "single_all": "single-resolution gallery, every HR-camera image"}


def _runs(n_splits: int, repeats: int) -> str:
    """What a table's mean and SD run over: splits, degradation draws, or both."""
    splits = f"{n_splits} split{'s' if n_splits > 1 else ''}"
    return splits if repeats == 1 else (f"{repeats} draws" if n_splits == 1
                                        else f"{splits} × {repeats} draws")


def to_markdown(table: dict[str, dict[str, dict[str, dict[str, float]]]], n_splits: int,
                repeats: int = 1, present: dict[str, int] | None = None) -> str:
    """The paper-style table: rows B-F / B-F+RFD, columns R1 R5 R10 mAP mINP (in %); the
    mean and SD run over n_splits trained pairs × `repeats` degradation draws, or over
    the `present[title]` of them that have the table (a query group empty in the rest)."""
    lines = []
    n_runs = n_splits * repeats
    for mode, rows in table.items():
        title = GALLERY_TITLES.get(mode, mode)
        suffix = f" (mean ± std over {_runs(n_splits, repeats)})" if n_runs > 1 else ""
        n = (present or {}).get(mode, n_runs)
        if n < n_runs:
            suffix = (f" (mean ± std over {n} of the {_runs(n_splits, repeats)}: the query "
                      "group is empty in the others)")
        lines += [f"### {title}{suffix}", "", "| method | R1 | R5 | R10 | mAP | mINP |",
                  "|---|---|---|---|---|---|"]
        for name, metrics in rows.items():
            cells = [
                f"{v['mean']:.1f} ± {v['std']:.1f}" if n_runs > 1 else f"{v['mean']:.1f}"
                for v in (metrics[m] for m in METRICS)
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def evaluate_runs(
    pairs: list[RunPair], ecfg: EvalConfig, out_dir: Path | None = None,
    device: str = "cpu", progress: bool = True, visualize: int = 0,
    settings: dict[str, object] | None = None, verify: bool = False,
) -> tuple[dict, str]:
    """Evaluate every split (and repeat), write `results.json` / `results.md` to out_dir.

    settings: the resolved evaluation settings and their sources, recorded in results.json.
    With out_dir: several splits also give `r1_per_split_<gallery>.png` (paper Fig. 5), and
    visualize=K draws K ranking pictures per split and gallery under `rankings/` (Fig. 4).
    verify: also TPR at fixed FPRs with thresholds (evaluation/verification.py) on each
    split's protocol file, as results.json's "verification" section, tables and
    `verification_<gallery>.png` (`verification_split_<i>_<gallery>.png` for several splits).
    """
    results = [
        evaluate_pair(p, ecfg, device, progress,
                      rankings_dir=out_dir / "rankings" / f"split_{i:02d}" if out_dir else None,
                      num_rankings=visualize)
        for i, p in enumerate(pairs)
    ]
    per_split = [rep for r in results for rep in r.repeats]
    table = summarize(per_split)
    present = {table_title(k): len(runs) for k, runs in table_keys(per_split).items()}
    md = to_markdown(table, len(pairs), ecfg.repeats, present) + _gain_lines(per_split, ecfg)
    split_names = [f"split_{i:02d}_" if len(pairs) > 1 else "" for i in range(len(pairs))]
    reports = [verify_protocol(*pair_features(p, ecfg, device, progress), ecfg,
                               f"{out_dir}/verification_{name}" if out_dir else None)
               for p, name in zip(pairs, split_names)] if verify else []
    for i, r in enumerate(reports):
        where = f", split {i:02d}" if len(pairs) > 1 else ""
        md += "\n" + "\n".join(
            verification.to_markdown(GALLERY_TITLES.get(mode, mode) + where,
                                     {m.label: rep for m, rep in methods.items()})
            for mode, methods in r.items())
    md += _chosen_lines([r.chosen for r in results if r.chosen], ecfg)
    if out_dir is not None:
        payload = _payload(pairs, results, per_split, table, ecfg, settings)
        if verify:
            payload["verification"] = [
                {"split": str(p.bf.resolve()),
                 "galleries": {mode: [{"method": m.to_record(), "groups": rep}
                                      for m, rep in methods.items()]
                               for mode, methods in r.items()}}
                for p, r in zip(pairs, reports)]
        atomic_write_text(out_dir / "results.json", json.dumps(payload, indent=1))
        atomic_write_text(out_dir / "results.md", md)
        if len(per_split) > 1:
            plot_r1_per_split(per_split, Method(ecfg.rfd_form, ecfg.rfd_lambda), out_dir)
    return table, md


def _gain_lines(per_split: list[SplitResult], ecfg: EvalConfig) -> str:
    """Paired gains over B-F (R1 and mAP) of both readings at λ and of the chosen rows."""
    first = per_split[0][next(iter(per_split[0]))]
    gain_rows = [m for m in (Method(f, ecfg.rfd_lambda) for f in RFD_FORMS) if m in first]
    gain_rows += [m for m in first if m.chosen and not m.rerank]
    if len(per_split) < 2 or not gain_rows:
        return ""
    return "\n" + "\n".join(
        f"- {_title(key)}: {paired_gain(per_split, key, m, metric)}"
        for key in table_keys(per_split) for m in gain_rows for metric in ("r1", "mAP")) + "\n"


def _title(key: TableKey) -> str:
    return GALLERY_TITLES.get(key[0], key[0]) + (f", {key[1]}" if key[1] else "")


def _chosen_lines(chosen: list[dict[str, dict[str, Any]]], ecfg: EvalConfig) -> str:
    """What the validation ids chose, per gallery, split by split."""
    if not chosen:
        return ""
    return "\n" + "\n".join(
        f"- chosen on validation ids ({ecfg.select_rule}), {GALLERY_TITLES.get(mode, mode)}: "
        + ", ".join(f"{c[mode]['form']} λ={c[mode]['lambda']:g}" for c in chosen)
        for mode in chosen[0]) + "\n"


def _payload(pairs: list[RunPair], results: list[PairResult], per_split: list[SplitResult],
             table: dict, ecfg: EvalConfig, settings: dict[str, object] | None
             ) -> dict[str, Any]:
    """results.json: every split's and repeat's metrics, the choices and the provenance."""
    inits, precisions = zip(*(model_provenance(p) for p in pairs))
    return {"splits": [str(p.bf) for p in pairs], "repeats": ecfg.repeats,
            "init": list(inits), "precision": list(precisions),
            "pairs": [{k: v and str(v) for k, v in dataclasses.asdict(p).items()}
                      for p in pairs],
            "settings": settings or {"eval": dataclasses.asdict(ecfg)},
            "chosen_lambda": [r.chosen for r in results], "summary": table,
            "per_split": [{table_title(key): {m.label: r.to_dict() for m, r in res.items()}
                           for key, res in s.items()} for s in per_split],
            "records": _records(pairs, per_split, ecfg.repeats)}


def _records(pairs: list[RunPair], per_split: list[SplitResult], repeats: int
             ) -> list[dict[str, Any]]:
    """One typed record per (pair, repeat, gallery, query group, method): what the
    results page is built from (`python -m rfdreid.report.collect`), no label parsed."""
    out = []
    for i, split in enumerate(per_split):
        pair, repeat = divmod(i, repeats)
        for (gallery, queries), rows in split.items():
            for m, r in rows.items():
                out.append({"pair": pair, "repeat": repeat, "gallery": gallery,
                            "queries": queries, **m.to_record(), **r.to_dict()})
    return out


def plot_r1_per_split(per_split: list[SplitResult], rfd: Method, out_dir: Path) -> None:
    """Fig. 5: rank-1 of B-F and B-F+RFD on every split, one picture per gallery."""
    for key, results in per_split[0].items():
        if key[1]:
            continue  # query groups: the figure is per gallery
        bf = [100.0 * s[key][Method()].r1 for s in per_split]
        fused = [100.0 * s[key][rfd].r1 for s in per_split] if rfd in results else None
        plot_split_r1(bf, fused, out_dir / f"r1_per_split_{key[0]}.png",
                      title=GALLERY_TITLES.get(key[0], key[0]))
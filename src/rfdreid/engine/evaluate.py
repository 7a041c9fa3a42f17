"""Evaluation runs: checkpoints + protocol -> features -> B-F and B-F+RFD tables.

Why here and not in `evaluation/`: that package holds the pure maths (metrics, distances,
the RFD fusion); this module drives models and files around it, over one or many splits.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rfdreid.config import EvalConfig
from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.fileio import atomic_write_text
from rfdreid.engine.checkpoint import TrainedModel, read_trained_model
from rfdreid.engine.extract import FeatureCache, build_inference_model, extract_features
from rfdreid.engine.gallery import Features, feature_distance
from rfdreid.errors import ReIDError
from rfdreid.evaluation import RankResult, evaluate_features
from rfdreid.evaluation.visualize import draw_protocol_rankings, plot_split_r1

METRICS = ("r1", "r5", "r10", "mAP", "mINP")


@dataclass(frozen=True)
class RunPair:
    """One split's trained pair: B-F (required) and B-R (for RFD)."""

    bf: Path
    br: Path | None = None
    protocol: Path | None = None  # default: the protocol the B-F was trained on


def model_inits(pair: RunPair) -> dict[str, str]:
    """How each model of a pair started ("random init" or its weights' source), for results."""
    return {kind: read_trained_model(path).init
            for kind, path in (("B-F", pair.bf), ("B-R", pair.br)) if path}


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
    """Extracts (and caches) one checkpoint's features for the subsets of a protocol."""

    def __init__(self, trained: TrainedModel, protocol: Protocol, ecfg: EvalConfig,
                 device: str, progress: bool) -> None:
        self.trained, self.protocol, self.ecfg = trained, protocol, ecfg
        self.device, self.progress = device, progress
        self.cache = FeatureCache(trained.path.parent / "features")
        self._model: torch.nn.Module | None = None

    def __call__(self, subset: str, records: list[ImageRecord]) -> torch.Tensor:
        d = self.trained.config.data
        key = FeatureCache.key(self.trained.digest(), self.protocol.fingerprint(), subset,
                               self.ecfg.flip, self.ecfg.normalize, d.height, d.width)

        def compute() -> torch.Tensor:
            if self._model is None:
                self._model = build_inference_model(self.trained, self.device,
                                                    normalize=self.ecfg.normalize)
            return extract_features(
                self._model, records, height=d.height, width=d.width,
                interpolation=self.protocol.interpolation, batch_size=self.ecfg.batch_size,
                flip=self.ecfg.flip, workers=d.workers, device=self.device,
                progress=self.progress,
                desc=f"{self.trained.kind} {subset}",
            )

        return self.cache.get_or_compute(key, compute)


def lambdas_for(ecfg: EvalConfig, with_rfd: bool) -> list[float]:
    """λ = 0 is plain B-F; RFD adds the configured λ and any sweep values."""
    if not with_rfd:
        return [0.0]
    return sorted({0.0, ecfg.rfd_lambda, *ecfg.lambda_sweep})


def evaluate_pair(
    pair: RunPair, ecfg: EvalConfig, device: str = "cpu", progress: bool = True,
    rankings_dir: Path | None = None, num_rankings: int = 0,
) -> dict[str, dict[float, RankResult]]:
    """Metrics of one split for every gallery protocol it holds: {gallery: {λ: result}}.

    With rankings_dir and num_rankings > 0, also draws the top-10 of that many queries per
    gallery (B-F+RFD when B-R is given) to `<rankings_dir>/<gallery>/query_<i>.png`.
    """
    bf = read_trained_model(pair.bf, expect_kind="B-F")
    br = read_trained_model(pair.br, expect_kind="B-R") if pair.br else None
    protocol = Protocol.load(pair.protocol or bf.config.data.protocol)
    if not protocol.query or not protocol.galleries:
        raise ReIDError(f"protocol for {pair.bf} has no query or gallery set")
    embed_f = _Embedder(bf, protocol, ecfg, device, progress)
    embed_r = _Embedder(br, protocol, ecfg, device, progress) if br else None
    lambdas = lambdas_for(ecfg, br is not None)

    subsets = protocol.subsets()

    @functools.cache  # "query" serves every gallery that has no queries of its own
    def features(name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        return embed_f(name, subsets[name]), embed_r(name, subsets[name]) if embed_r else None

    out: dict[str, dict[float, RankResult]] = {}
    for mode, gallery in protocol.galleries.items():
        q_name = f"query_{mode}" if f"query_{mode}" in subsets else "query"
        q = subsets[q_name]
        qf, qr = features(q_name)
        gf, gr = features(f"gallery_{mode}")
        if rankings_dir is not None and num_rankings > 0:
            dist = feature_distance(Features(qf, qr), Features(gf, gr), ecfg.rfd_lambda)
            draw_protocol_rankings(dist, q, gallery, protocol.interpolation,
                                   rankings_dir / mode, num_rankings)
        out[mode] = evaluate_features(
            qf, gf,
            np.array([r.pid for r in q]), np.array([r.pid for r in gallery]),
            np.array([r.camid for r in q]), np.array([r.camid for r in gallery]),
            qr=qr, gr=gr, lambdas=lambdas, max_rank=ecfg.max_rank,
        )
    return out


def row_name(lam: float, rfd_lambda: float) -> str:
    if lam == 0.0:
        return "B-F"
    return "B-F+RFD" if lam == rfd_lambda else f"B-F+RFD (λ={lam:g})"


def summarize(
    per_split: list[dict[str, dict[float, RankResult]]], rfd_lambda: float
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """Mean and standard deviation over splits: {gallery: {row: {metric: {mean, std}}}}."""
    table: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for mode in per_split[0]:
        table[mode] = {}
        for lam in per_split[0][mode]:
            vals = {m: [100.0 * getattr(s[mode][lam], m) for s in per_split] for m in METRICS}
            table[mode][row_name(lam, rfd_lambda)] = {
                m: {"mean": float(np.mean(v)), "std": float(np.std(v)), "lambda": lam}
                for m, v in vals.items()
            }
    return table


def paired_r1_gain(
    per_split: list[dict[str, dict[float, RankResult]]], mode: str, lam: float
) -> str:
    """R1 gain of B-F+RFD over B-F, paired by split, with an exact two-sided sign test.

    Why paired: splits differ far more from each other than RFD changes a split, so the
    question "does RFD help beyond split-to-split noise" is asked of the per-split gains.
    """
    gains = [100.0 * (s[mode][lam].r1 - s[mode][0.0].r1) for s in per_split]
    up, down = sum(g > 0 for g in gains), sum(g < 0 for g in gains)
    n = up + down
    p = min(1.0, 2 * sum(math.comb(n, k) for k in range(min(up, down) + 1)) / 2**n) if n else 1.0
    return (f"R1 gain of B-F+RFD (λ={lam:g}) over B-F, paired by split: "
            f"{np.mean(gains):+.1f} ± {np.std(gains):.1f} points; better on {up}, worse on "
            f"{down} of {len(gains)} splits (sign test p = {p:.2f})")


GALLERY_TITLES = {"single": "single-resolution gallery", "multi": "multi-resolution gallery"}


def to_markdown(table: dict[str, dict[str, dict[str, dict[str, float]]]], n_splits: int) -> str:
    """The paper-style table: rows B-F / B-F+RFD, columns R1 R5 R10 mAP mINP (in %)."""
    lines = []
    for mode, rows in table.items():
        title = GALLERY_TITLES.get(mode, mode)
        suffix = f" (mean ± std over {n_splits} splits)" if n_splits > 1 else ""
        lines += [f"### {title}{suffix}", "", "| method | R1 | R5 | R10 | mAP | mINP |",
                  "|---|---|---|---|---|---|"]
        for name, metrics in rows.items():
            cells = [
                f"{v['mean']:.1f} ± {v['std']:.1f}" if n_splits > 1 else f"{v['mean']:.1f}"
                for v in (metrics[m] for m in METRICS)
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def evaluate_runs(
    pairs: list[RunPair], ecfg: EvalConfig, out_dir: Path | None = None,
    device: str = "cpu", progress: bool = True, visualize: int = 0,
) -> tuple[dict, str]:
    """Evaluate every split, write `results.json` and `results.md` to out_dir if given.

    With out_dir: several splits also give `r1_per_split_<gallery>.png` (paper Fig. 5), and
    visualize=K draws K ranking pictures per split and gallery under `rankings/` (Fig. 4).
    """
    per_split = [
        evaluate_pair(p, ecfg, device, progress,
                      rankings_dir=out_dir / "rankings" / f"split_{i:02d}" if out_dir else None,
                      num_rankings=visualize)
        for i, p in enumerate(pairs)
    ]
    table = summarize(per_split, ecfg.rfd_lambda)
    md = to_markdown(table, len(pairs))
    if len(pairs) > 1 and ecfg.rfd_lambda in per_split[0][next(iter(per_split[0]))]:
        md += "\n" + "\n".join(
            f"- {GALLERY_TITLES.get(mode, mode)}: {paired_r1_gain(per_split, mode, ecfg.rfd_lambda)}"
            for mode in per_split[0]) + "\n"
    if out_dir is not None:
        per_split_json = [
            {mode: {str(lam): r.to_dict() for lam, r in res.items()} for mode, res in s.items()}
            for s in per_split
        ]
        payload = {"splits": [str(p.bf) for p in pairs], "init": [model_inits(p) for p in pairs],
                   "summary": table,
                   "per_split": per_split_json}
        atomic_write_text(out_dir / "results.json", json.dumps(payload, indent=1))
        atomic_write_text(out_dir / "results.md", md)
        if len(pairs) > 1:
            plot_r1_per_split(per_split, ecfg.rfd_lambda, out_dir)
    return table, md


def plot_r1_per_split(
    per_split: list[dict[str, dict[float, RankResult]]], rfd_lambda: float, out_dir: Path
) -> None:
    """Fig. 5: rank-1 of B-F and B-F+RFD on every split, one picture per gallery."""
    for mode, results in per_split[0].items():
        bf = [100.0 * s[mode][0.0].r1 for s in per_split]
        rfd = [100.0 * s[mode][rfd_lambda].r1 for s in per_split] if rfd_lambda in results else None
        plot_split_r1(bf, rfd, out_dir / f"r1_per_split_{mode}.png",
                      title=GALLERY_TITLES.get(mode, mode))

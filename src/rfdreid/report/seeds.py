"""CAVIAR B-F over training seeds, precisions and schedules: the run-to-run spread, bf16
against fp32, 600 against 300 iterations (seed 0 and the seed 1-2 lever runs)."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.stats import Paired, mean, sample_sd

SCHEDULES = ("caviar_300", "caviar_600")
GALLERIES = ("single", "multi")
SEEDS = ("0", "1", "2")
LEVER_SEEDS = ("1", "2")  # the 600-iteration lever runs: seeds 1 and 2 on splits 5-9
LEVER_SPLITS = ("5", "6", "7", "8", "9")


def bf(res: Results, experiment: str, gallery: str, precision: str = "bf16", **match: str) -> dict[tuple[str, str], float]:
    """B-F R1 keyed by (split, seed)."""
    return res.by_run(experiment, gallery=gallery, method="B-F", precision=precision, **match)


def by_split(runs: dict[tuple[str, str], float]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for (split, _), v in sorted(runs.items()):
        out.setdefault(split, []).append(v)
    return out


def seed_means(runs: dict[tuple[str, str], float]) -> list[float]:
    return [mean([v for (_, seed), v in runs.items() if seed == s]) for s in SEEDS]


def seed_summary(res: Results, experiment: str) -> str:
    rows = []
    for gallery in GALLERIES:
        runs = bf(res, experiment, gallery)
        splits = by_split(runs)
        rows.append([
            gallery,
            fmt.mean_sd(mean(list(runs.values())), sample_sd(list(runs.values()))),
            " / ".join(fmt.num(m) for m in seed_means(runs)),
            fmt.num(mean([sample_sd(v) for v in splits.values()])),
            fmt.num(sample_sd([mean(v) for v in splits.values()])),
        ])
    header = ["gallery", "B-F R1, 30 runs", "R1 per seed (0 / 1 / 2), 10 splits each",
              "seed SD within a split (mean over splits)", "SD of the split means over seeds"]
    return fmt.table(header, rows)


def per_split(rows_by_label: dict[tuple[str, str], dict[tuple[str, str], float]], label: str) -> str:
    """One row per (gallery, label) with R1 on splits 0-9."""
    rows = [[g, lab] + [f"{v:.1f}" for _, v in sorted(runs.items())] for (g, lab), runs in rows_by_label.items()]
    return fmt.table(["gallery", label, *map(str, range(10))], rows)


def seed_per_split(res: Results, experiment: str) -> str:
    return per_split({(g, s): bf(res, experiment, g, seed=s) for g in GALLERIES for s in SEEDS}, "seed")


def precision_pairs(res: Results, gallery: str) -> Paired:
    return Paired.of(bf(res, "caviar_300", gallery, "fp32", seed="0"), bf(res, "caviar_300", gallery, seed="0"))


def precision_table(res: Results) -> str:
    rows = []
    for gallery in GALLERIES:
        fp32 = list(bf(res, "caviar_300", gallery, "fp32", seed="0").values())
        bf16 = list(bf(res, "caviar_300", gallery, seed="0").values())
        pairs = precision_pairs(res, gallery)
        rows.append([gallery, fmt.mean_sd(mean(fp32), sample_sd(fp32)), fmt.mean_sd(mean(bf16), sample_sd(bf16)),
                     f"{fmt.signed(pairs.mean)} ± {fmt.num(pairs.sd)}", fmt.counts(pairs), fmt.p_value(pairs.p)])
    header = ["gallery", "fp32 R1", "bf16 R1", "bf16 − fp32, R1", "better / worse / tie", "sign test p"]
    return fmt.table(header, rows)


def precision_per_split(res: Results) -> str:
    return per_split({(g, p): bf(res, "caviar_300", g, p, seed="0") for g in GALLERIES for p in ("fp32", "bf16")}, "")


def lever_pairs(res: Results, gallery: str, seeds: tuple[str, ...]) -> Paired:
    """600 against 300 iterations on the lever runs (splits 5-9), paired by split and seed."""
    def pick(experiment: str) -> dict[tuple[str, str], float]:
        runs = bf(res, experiment, gallery)
        return {k: v for k, v in runs.items() if k[0] in LEVER_SPLITS and k[1] in seeds}
    return Paired.of(pick("caviar_300"), pick("caviar_600"))


def lever_table(res: Results) -> str:
    rows = []
    groups: dict[str, tuple[str, ...]] = {s: (s,) for s in LEVER_SEEDS} | {" and ".join(LEVER_SEEDS): LEVER_SEEDS}
    for label, seeds in groups.items():
        cells = []
        for gallery in GALLERIES:
            pairs = lever_pairs(res, gallery, seeds)
            cells.append(f"{fmt.signed(pairs.mean)} ± {fmt.num(pairs.sd)} ({fmt.counts(pairs)})")
        rows.append([label, *cells])
    return fmt.table(["seed", "single R1, 600 − 300 (better / worse / tie)", "multi R1, 600 − 300"], rows)


def tables(res: Results) -> dict[str, str]:
    return {
        "caviar_precision": precision_table(res),
        "caviar_precision_per_split": precision_per_split(res),
        "caviar_lever_iterations": lever_table(res),
        **{f"{e}_seeds": seed_summary(res, e) for e in SCHEDULES},
        **{f"{e}_seeds_per_split": seed_per_split(res, e) for e in SCHEDULES},
    }


def widest_splits(runs: dict[tuple[str, str], float], count: int = 2) -> str:
    """The splits whose R1 the seed moves most, with their per-seed values."""
    splits = sorted(by_split(runs).items(), key=lambda kv: max(kv[1]) - min(kv[1]), reverse=True)
    return "; ".join(f"split {s}: " + ", ".join(f"{v:.1f}" for v in vs) for s, vs in splits[:count])


def values(res: Results) -> dict[str, str]:
    out: dict[str, str] = {}
    for gallery in GALLERIES:
        out |= fmt.paired_values(f"iterations.{gallery}", Paired.of(
            bf(res, "caviar_300", gallery, seed="0"), bf(res, "caviar_600", gallery, seed="0")))
        out |= fmt.paired_values(f"levers.{gallery}", lever_pairs(res, gallery, LEVER_SEEDS))
        for seed in LEVER_SEEDS:
            preset = [v for (split, _), v in bf(res, "caviar_300", gallery, seed=seed).items() if split in LEVER_SPLITS]
            out[f"levers.preset.{gallery}.seed{seed}"] = fmt.num(mean(preset))
        diffs = precision_pairs(res, gallery).diffs
        out[f"precision.{gallery}.mean_abs"] = fmt.num(mean([abs(d) for d in diffs]))
        worst = max(range(len(diffs)), key=lambda i: abs(diffs[i]))
        out[f"precision.{gallery}.max_abs"] = fmt.num(abs(diffs[worst]))
        out[f"precision.{gallery}.max_split"] = str(worst)
        out[f"precision.{gallery}.se"] = fmt.num(precision_pairs(res, gallery).sd / len(diffs) ** 0.5)
        means = {e: seed_means(bf(res, e, gallery)) for e in SCHEDULES}
        for e in SCHEDULES:
            runs = bf(res, e, gallery)
            out[f"{e}.{gallery}.mean"] = fmt.num(mean(list(runs.values())))
            out[f"{e}.{gallery}.sd"] = fmt.num(sample_sd(list(runs.values())))
            out[f"{e}.{gallery}.seed_means"] = f"{fmt.num(min(means[e]))}-{fmt.num(max(means[e]))}"
            out[f"{e}.{gallery}.seed_means_range"] = fmt.num(max(means[e]) - min(means[e]))
            out[f"{e}.{gallery}.within"] = fmt.num(mean([sample_sd(v) for v in by_split(runs).values()]))
            out[f"{e}.{gallery}.between"] = fmt.num(sample_sd([mean(v) for v in by_split(runs).values()]))
            out[f"{e}.{gallery}.widest"] = widest_splits(runs)
        gain = [b - a for a, b in zip(means["caviar_300"], means["caviar_600"])]
        out[f"seeds.{gallery}.gain"] = fmt.signed(
            mean(list(bf(res, "caviar_600", gallery).values())) - mean(list(bf(res, "caviar_300", gallery).values())))
        out[f"seeds.{gallery}.gain_per_seed"] = " / ".join(fmt.signed(g) for g in gain)
    return out

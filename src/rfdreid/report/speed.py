"""Training speed: the CPU step benchmark, the CAVIAR time-to-accuracy runs (their curves
in docs/img/tta_*.csv) and the H100 step benchmark with its projection to the paper's
schedule."""

from __future__ import annotations

import csv

from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.schedule import paper_iterations

BATCH = 32  # 8 ids × 4 images, every preset here
CPU_VARIANTS = ("before", "fp32_channels_last", "bf16_contiguous", "bf16_channels_last")
GALLERIES = ("multi", "single", "single_all")


def cpu_speedups(res: Results) -> dict[str, float]:
    """bf16 + channels_last over the fp32 baseline, per preset."""
    out = {}
    for row in res.rows("cpu_train_step", variant="bf16_channels_last"):
        before = res.one("cpu_train_step", preset=row["preset"], variant="before")
        out[row["preset"]] = float(row["img_s"]) / float(before["img_s"])
    return out


def cpu_table(res: Results) -> str:
    rows = []
    for preset in dict.fromkeys(r["preset"] for r in res.rows("cpu_train_step")):
        runs = {v: res.one("cpu_train_step", preset=preset, variant=v) for v in CPU_VARIANTS}
        base = float(runs["before"]["img_s"])
        cells = [f"{runs['before']['img_s']} img/s"]
        cells += [f"{r['img_s']} ({float(r['img_s']) / base:.2f}×)" for v, r in runs.items() if v != "before"]
        rows.append([preset, *cells, f"{runs['bf16_channels_last']['share_of_bf16_peak_pct']} %"])
    header = ["preset", "before (fp32, contiguous, per-parameter Adam)", "fp32 + channels_last", "bf16 contiguous",
              "bf16 + channels_last (now)", "share of the bf16 peak"]
    return fmt.table(header, rows)


def curve_end(res: Results, path: str) -> dict[str, dict[str, float]]:
    """Per gallery: the last iteration's R1, the best R1 on the way, and the training time."""
    with (res.root / path).open(newline="", encoding="utf-8") as f:
        points = list(csv.DictReader(f))
    last = points[-1]
    out = {}
    for gallery in GALLERIES:
        curve = [p for p in points if p["gallery"] == gallery]
        out[gallery] = {"end": float(curve[-1]["R1"]), "best": max(float(p["R1"]) for p in curve)}
    out["run"] = {"iterations": float(last["iteration"]), "seconds": float(last["train_seconds"])}
    return out


def tta_runs(res: Results) -> dict[str, dict[str, dict[str, float]]]:
    return {r["run"]: curve_end(res, r["curve"]) for r in res.rows("time_to_accuracy")}


def tta_table(res: Results) -> str:
    rows = []
    for label, c in tta_runs(res).items():
        it, sec = c["run"]["iterations"], c["run"]["seconds"]
        rows.append([label, f"{it:.0f}", f"{sec:.1f} s", fmt.num(it * BATCH / sec),
                     " / ".join(f"{c[g]['end']:.0f}" for g in GALLERIES),
                     " / ".join(f"{c[g]['best']:.0f}" for g in GALLERIES)])
    header = ["run (lr 1e-3 ÷ 10 at 150)", "iterations", "training time", "img/s",
              "R1 at the end, multi / single / single_all", "best R1 on the way"]
    return fmt.table(header, rows)


def gpu_share(res: Results, precision: str, img_s: float) -> float:
    """Share of the measured convolution peak: img/s × GFLOP per training image / peak."""
    def measure(name: str) -> float:
        return float(res.one("gpu_roofline", measure=name)["value"])
    return img_s * measure("train_gflop_per_image") / (measure(f"{precision}_peak_tflops") * 1000)


def gpu_table(res: Results) -> str:
    steps = [r for r in res.rows("gpu_step") if r["peak_allocated_gib"]]
    base = float(steps[0]["img_s"])
    rows = [[r["variant"], r["img_s"], f"{float(r['img_s']) / base:.2f}×",
             f"{100 * gpu_share(res, r['precision'], float(r['img_s'])):.1f} %", f"{r['peak_allocated_gib']} GiB"]
            for r in steps]
    return fmt.table(["variant", "img/s", "vs before", "share of the conv peak", "peak allocated"], rows)


def tables(res: Results) -> dict[str, str]:
    return {"cpu_train_step": cpu_table(res), "time_to_accuracy": tta_table(res), "gpu_step": gpu_table(res)}


def values(res: Results) -> dict[str, str]:
    speedups = sorted(cpu_speedups(res).values())
    runs = list(tta_runs(res).values())
    fp32, bf16 = (r["run"] for r in runs[:2])
    trainer = float(res.one("gpu_step", peak_allocated_gib="")["img_s"])
    paper_fp32 = float(res.one("gpu_step", variant="fp32, channels_last (**the paper preset**)")["img_s"])
    bf16_cl = float(res.one("gpu_step", variant="bf16, channels_last")["img_s"])
    no_autotune = float(res.one("gpu_step", variant="bf16, channels_last, cuDNN autotuning off")["img_s"])
    images = paper_iterations("market") * BATCH
    return {
        "cpu_step.speedups": " / ".join(f"{s:.2f}×" for s in speedups),
        "cpu_step.range": f"{speedups[0]:.1f}-{speedups[-1]:.1f}×",
        "tta.speedup": f"{fp32['seconds'] / bf16['seconds']:.2f}×",
        "tta.fp32.img_s": fmt.num(fp32["iterations"] * BATCH / fp32["seconds"], 0),
        "tta.bf16.img_s": fmt.num(bf16["iterations"] * BATCH / bf16["seconds"], 0),
        "gpu.trainer_img_s": fmt.num(trainer, 0),
        "gpu.paper_fp32_img_s": fmt.num(paper_fp32, 0),
        "gpu.bf16_img_s": fmt.num(bf16_cl, 0),
        "gpu.bf16_gain_pct": fmt.num(100 * (bf16_cl / paper_fp32 - 1), 0),
        "gpu.bf16_share_pct": fmt.num(100 * gpu_share(res, "bf16", bf16_cl)),
        "gpu.autotune_gain": f"{bf16_cl / no_autotune:.2f}×",
        "gpu.projection_h": fmt.num(images / trainer / 3600),
        "gpu.projection_fp32_h": fmt.num(images / paper_fp32 / 3600),
    }

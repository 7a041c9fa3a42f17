"""Training speed and time to accuracy.

``throughput``: for each preset, training images/s of one step (forward + backward +
Adam on a batch of the preset's P x K images at its input size, synthetic pixels, no data
loading) in the trainer's settings before issue #13 (fp32, contiguous, per-parameter Adam)
and in each precision x memory format with the fused Adam the trainer uses now; the
GFLOP/s this implies (3 x the forward FLOPs) as a share of the measured convolution peak
of the same dtype (`roofline.py`); one variant runs the model under ``torch.compile``
(inductor), with its first step's time (the compilation) printed beside it. The line
under each preset says what its ``train.precision`` (``auto`` in the CPU presets) resolves
to here, and that setting is marked with `*`. With
``--device cuda`` every timed step ends with a synchronisation, the peak allocated GPU
memory of each variant is printed, and one more variant turns cuDNN's autotuning off.

``accuracy``: trains a preset on a protocol prepared with ``--val-ids N`` and, at every
checkpoint, scores B-F R1/mAP on the held-out validation identities (never the test set);
writes ``iteration, train_seconds, R1, mAP`` per gallery to a CSV. Training time excludes
the scoring (rows are written as they are scored). ``plot`` draws several such CSVs as
R1 (or ``--metric mAP``) against training minutes.

    python benchmarks/bench_train.py throughput [--presets cpu_caviar_bf,demo_bf] [--seconds 5]
    python benchmarks/bench_train.py throughput --presets paper_mlr_market1501_bf --device cuda
    python benchmarks/bench_train.py accuracy --preset cpu_caviar_bf --protocol P.json \\
        --out runs/tta/bf16 --eval-every 50 [--set train.precision=fp32 ...]
    python benchmarks/bench_train.py plot A.csv B.csv --out docs/img/tta.png [--metric mAP]
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from roofline import conv_roofline, synced, timed
from rfdreid.config import ExperimentConfig, load_config
from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.training import trainer
from rfdreid.training.checkpoint import read_trained_model
from rfdreid.inference.extract import build_inference_model, extract_features
from rfdreid.training.precision import autocast, memory_format, resolve_precision
from rfdreid.evaluation import evaluate_features
from rfdreid.losses import ReIDLoss
from rfdreid.models import build_model
from rfdreid.models.complexity import complexity

CPU = torch.device("cpu")


@dataclass(frozen=True)
class Variant:
    """One way of running the training step; the first is the trainer before #13."""

    label: str
    precision: str
    channels_last: bool
    fused: bool = True  # fused Adam (the trainer's since #13)
    autotune: bool = True  # cuDNN autotuning: the trainer's on CUDA; off is CUDA-only
    compiled: bool = False  # torch.compile (inductor) of the model's forward (issue #24)


VARIANTS = (
    Variant("before: fp32, contiguous, Adam", "fp32", False, fused=False),
    Variant("fp32, contiguous", "fp32", False),
    Variant("fp32, channels_last", "fp32", True),
    Variant("fp32, channels_last, torch.compile", "fp32", True, compiled=True),
    Variant("bf16, contiguous", "bf16", False),
    Variant("bf16, channels_last", "bf16", True),
    Variant("bf16, channels_last, no autotuning", "bf16", True, autotune=False),
)


def step_rate(cfg: ExperimentConfig, v: Variant, seconds: float,
              device: torch.device = CPU) -> tuple[float, int, float]:
    """Training images/s of one B-F step in the given settings, its peak CUDA bytes, and
    the seconds the first step took (torch.compile's compilation is paid there)."""
    t, fmt, precision = cfg.train, memory_format(v.channels_last), v.precision
    batch = t.num_ids * t.num_instances
    torch.manual_seed(0)
    net = build_model(cfg.model, num_classes=751).train().to(device, memory_format=fmt)
    model = torch.compile(net) if v.compiled else net
    opt = torch.optim.Adam(net.parameters(), lr=t.lr, weight_decay=t.weight_decay,
                           fused=v.fused, foreach=None if v.fused else False)
    loss_fn = ReIDLoss(margin=t.margin)
    x = torch.randn(batch, 3, cfg.data.height, cfg.data.width, device=device).to(
        memory_format=fmt)
    y = torch.arange(batch, device=device) // t.num_instances

    def step() -> None:
        with autocast(precision, device):
            loss, _ = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    first = time.perf_counter()
    synced(step, device)()
    first = time.perf_counter() - first
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    rate = timed(synced(step, device), seconds) * batch
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    return rate, peak, first


def throughput(presets: list[str], seconds: float, device: torch.device = CPU,
               compile_step: bool = True) -> None:
    roof = conv_roofline(device=device)
    for name in presets:
        cfg = load_config(name)
        model = build_model(cfg.model, num_classes=751)
        gflop_img = 3 * complexity(model, (cfg.data.height, cfg.data.width)).gflops
        print(f"\n{name}: {cfg.model.backbone} x{cfg.model.width_mult:g} "
              f"{cfg.data.height}x{cfg.data.width}, batch {cfg.train.num_ids * cfg.train.num_instances}, "
              f"{gflop_img:.2f} GFLOP per training image, on {device}")
        choice = resolve_precision(cfg.train.precision, device)
        print(f"  train.precision={cfg.train.precision}: {choice.line()}")
        before = None
        for v in VARIANTS:
            if (not v.autotune and device.type != "cuda") or (v.compiled and not compile_step):
                continue
            torch.backends.cudnn.benchmark = v.autotune
            ips, peak, first = step_rate(cfg, v, seconds, device)
            before = before or ips
            dtype = torch.bfloat16 if v.precision == "bf16" else torch.float32
            share = 100 * ips * gflop_img / roof[dtype]
            mine = "*" if v.fused and v.autotune and not v.compiled and \
                (v.precision, v.channels_last) == (choice.precision, cfg.train.channels_last) \
                else " "
            memory = f"  peak {peak / 2**30:5.2f} GiB" if device.type == "cuda" else ""
            compile_cost = f"  first step {first:.1f} s" if v.compiled else ""
            print(f" {mine} {v.label:36s} {ips:7.1f} img/s  {ips / before:4.2f}x  "
                  f"{ips * gflop_img:7.1f} GFLOP/s = {share:5.1f}% of the {v.precision} conv "
                  f"peak{memory}{compile_cost}", flush=True)


def validation_scores(path: Path, protocol: Protocol) -> dict[str, tuple[float, float]]:
    """{gallery: (R1, mAP)} in % of the B-F checkpoint on the validation identities."""
    val = protocol.validation
    assert val is not None
    trained = read_trained_model(path, expect_kind="B-F")
    model, d = build_inference_model(trained, CPU), trained.config.data

    def embed(records: list[ImageRecord]) -> torch.Tensor:
        return extract_features(model, records, height=d.height, width=d.width,
                                interpolation=protocol.interpolation, batch_size=128,
                                progress=False)

    out = {}
    for mode, gallery in val.galleries.items():
        queries = val.gallery_queries.get(mode, val.query)
        res = evaluate_features(embed(queries), embed(gallery),
                                [r.pid for r in queries], [r.pid for r in gallery],
                                [r.camid for r in queries], [r.camid for r in gallery])[0.0]
        out[mode] = (100 * res.r1, 100 * res.mAP)
    return out


def accuracy(preset: str, protocol_path: str, out: Path, eval_every: int,
             overrides: list[str]) -> None:
    protocol = Protocol.load(protocol_path)
    if protocol.validation is None:
        raise SystemExit(f"{protocol_path} has no validation ids: prepare it with --val-ids N")
    cfg = load_config(preset, [*overrides, f"data.protocol={protocol_path}",
                               f"train.out_dir={out}", f"train.checkpoint_every={eval_every}"])
    clock = {"train": 0.0, "since": time.perf_counter()}
    out.mkdir(parents=True, exist_ok=True)
    # Rows are written as they are scored: a run killed after an hour keeps its curve.
    with (out / "time_to_accuracy.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["iteration", "train_seconds", "gallery", "R1", "mAP"])

        def score(iteration: int, path: Path) -> None:
            clock["train"] += time.perf_counter() - clock["since"]
            for mode, (r1, mAP) in validation_scores(path, protocol).items():
                writer.writerow([iteration, f"{clock['train']:.1f}", mode, f"{r1:.2f}",
                                 f"{mAP:.2f}"])
                print(f"iteration {iteration:5d}  {clock['train']:7.1f} s  {mode:6s} "
                      f"R1 {r1:5.1f}  mAP {mAP:5.1f}", flush=True)
            f.flush()
            clock["since"] = time.perf_counter()

        trainer.train(cfg, progress=False, on_checkpoint=score)
    print(f"wrote {out / 'time_to_accuracy.csv'}")


def plot(csvs: list[Path], out: Path, metric: str = "R1") -> None:
    """One panel per gallery: validation R1 (or mAP) against training minutes, a line per CSV."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {}
    for path in csvs:
        with path.open() as f:
            # a run folder's CSV is named after the folder, a copied one after its file
            name = path.parent.name if path.name == "time_to_accuracy.csv" else path.stem
            runs[name] = list(csv.DictReader(f))
    galleries = sorted({r["gallery"] for rows in runs.values() for r in rows})
    fig, axes = plt.subplots(1, len(galleries), figsize=(4.5 * len(galleries), 3.8), squeeze=False)
    for ax, gallery in zip(axes[0], galleries):
        for name, rows in runs.items():
            mine = [r for r in rows if r["gallery"] == gallery]
            minutes = np.array([float(r["train_seconds"]) for r in mine]) / 60
            ax.plot(minutes, [float(r[metric]) for r in mine], marker="o", label=name)
        ax.set_title(f"{gallery} gallery")
        ax.set_xlabel("training time (minutes, one core)")
        ax.set_ylabel(f"validation {metric} (%)")
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    tp = sub.add_parser("throughput")
    tp.add_argument("--presets", default="cpu_caviar_bf,cpu_mlr_market1501_bf,demo_bf")
    tp.add_argument("--seconds", type=float, default=5.0)
    tp.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    tp.add_argument("--device", default="cpu", help="cpu or cuda (peak memory is printed there)")
    tp.add_argument("--no-compile", action="store_true",
                    help="skip the torch.compile variant (minutes of compiling per preset)")
    acc = sub.add_parser("accuracy")
    acc.add_argument("--preset", required=True)
    acc.add_argument("--protocol", required=True)
    acc.add_argument("--out", type=Path, required=True)
    acc.add_argument("--eval-every", type=int, default=50)
    acc.add_argument("--set", action="append", default=[], dest="overrides")
    pl = sub.add_parser("plot")
    pl.add_argument("csvs", nargs="+", type=Path)
    pl.add_argument("--out", type=Path, required=True)
    pl.add_argument("--metric", choices=("R1", "mAP"), default="R1")
    args = ap.parse_args()
    if args.cmd == "throughput":
        if args.threads:
            torch.set_num_threads(args.threads)
        throughput(args.presets.split(","), args.seconds, torch.device(args.device),
                   compile_step=not args.no_compile)
    elif args.cmd == "accuracy":
        accuracy(args.preset, args.protocol, args.out, args.eval_every, args.overrides)
    else:
        plot(args.csvs, args.out, args.metric)


if __name__ == "__main__":
    main()

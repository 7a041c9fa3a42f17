"""Feature-extraction throughput against the machine's measured convolution peak.

Prints, for the paper's B-F (ResNet-50, 384x128) and the CPU presets: images/s in fp32,
fp32 under ``torch.compile`` (inductor; its first call, the compilation, timed apart) and
bf16 autocast (channels_last, inference mode), the GFLOP/s this implies, and the
ratio to the measured convolution peak of the same dtype (`roofline.py`); then the data
loader's own images/s (decode + degrade + transform) so one sees whether loading is the
bottleneck. Training throughput: `bench_train.py throughput`.

    python benchmarks/bench_extract.py [--batch 32] [--seconds 5] [--models paper,cpu]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from roofline import conv_roofline, timed
from rfdreid.config import ModelConfig
from rfdreid.data.dataset import ReIDImageDataset
from rfdreid.data.records import ImageRecord
from rfdreid.data.transforms import build_transform
from rfdreid.models import build_model
from rfdreid.models.complexity import complexity

MODELS = {
    "paper": (ModelConfig(backbone="resnet50"), (384, 128)),
    "cpu-mobilenetv2": (ModelConfig(backbone="mobilenetv2"), (128, 64)),
    "cpu-resnet18x0.5": (ModelConfig(backbone="resnet18", width_mult=0.5), (128, 64)),
}


def extraction(name: str, batch: int, seconds: float, roof: dict[torch.dtype, float]) -> None:
    cfg, (h, w) = MODELS[name]
    model = build_model(cfg, num_classes=751).eval().to(memory_format=torch.channels_last)
    gflop_img = complexity(model, (h, w)).gflops
    x = torch.randn(batch, 3, h, w).to(memory_format=torch.channels_last)
    for label, dtype, compiled in (("fp32", torch.float32, False),
                                   ("fp32+compile", torch.float32, True),
                                   ("bf16", torch.bfloat16, False)):
        net = torch.compile(model) if compiled else model

        def step() -> None:
            with torch.inference_mode(), torch.autocast("cpu", dtype=dtype,
                                                        enabled=dtype != torch.float32):
                net(x)
        first = time.perf_counter()
        step()
        first = time.perf_counter() - first
        ips = timed(step, seconds) * batch
        achieved = ips * gflop_img
        print(f"extract {name:18s} {h}x{w} {label:12s} {ips:8.1f} img/s  "
              f"{achieved:7.1f} GFLOP/s  = {100 * achieved / roof[dtype]:5.1f}% of conv peak "
              f"({gflop_img:.2f} GFLOP/img)" + (f", first call {first:.1f} s" if compiled else ""))


def loading(batch: int, seconds: float, h: int, w: int) -> None:
    """Decode + degrade (x3 bicubic) + train transform, from 64x128 JPEGs like Market's."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        recs = []
        for i in range(64):
            p = Path(tmp) / f"{i}.jpg"
            Image.fromarray(rng.integers(0, 255, (128, 64, 3), dtype=np.uint8)).save(p)
            recs.append(ImageRecord(str(p), i % 8, 0, factor=3, res_label=2))
        ds = ReIDImageDataset(recs, build_transform(h, w, train=True), "bicubic", train=True)
        it = iter(range(10**9))

        def step() -> None:
            for _ in range(batch):
                i = next(it)
                ds[(i % len(recs), i)]

        ips = timed(step, seconds) * batch
    print(f"loader  one process, {h}x{w}: {ips:8.1f} img/s (x data.workers processes)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    roof = conv_roofline()
    names = args.models.split(",")
    for name in names:
        extraction(name, args.batch, args.seconds, roof)
    loading(args.batch, args.seconds, 384, 128)
    loading(args.batch, args.seconds, 128, 64)


if __name__ == "__main__":
    main()

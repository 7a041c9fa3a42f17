"""The machine's measured convolution peak, the roofline the other benchmarks compare to.

Why convolutions and not `torch.mm`: on CPU, fp32 `torch.mm` goes to a BLAS that can run
at half of what oneDNN's convolutions reach on the same cores, so a matmul "roofline"
makes every network look better than it is. The peak is the best of a few large
channels_last convolutions (1x1 and 3x3, forward, inference mode) in the given dtype.
On CUDA the probes run at batch 256 (batch 32 of these small maps leaves most of a GPU
idle) and every timed call ends with a synchronisation, so the clock sees finished work.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

# (in = out channels, kernel, H, W) at batch 32: shapes like ResNet-50's later stages
_SHAPES = ((512, 1, 24, 8), (1024, 1, 24, 8), (256, 3, 24, 8))


def timed(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of `fn`, after one warm-up call, over at least `seconds`.

    `fn` must finish its work before it returns (see `synced` for CUDA)."""
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or n < 2:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def synced(fn: Callable[[], object], device: torch.device) -> Callable[[], None]:
    """`fn` followed by waiting for the device: CUDA calls return before the work is done."""
    def call() -> None:
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return call


def conv_peak_gflops(dtype: torch.dtype, seconds: float = 1.0,
                     device: torch.device = torch.device("cpu")) -> float:
    """Best GFLOP/s of the probe convolutions in `dtype` (float32 or bfloat16) on `device`."""
    best, batch = 0.0, 256 if device.type == "cuda" else 32
    for channels, k, h, w in _SHAPES:
        conv = nn.Conv2d(channels, channels, k, padding=k // 2, bias=False).eval()
        conv = conv.to(device=device, dtype=dtype, memory_format=torch.channels_last)
        x = torch.randn(batch, channels, h, w, device=device).to(
            dtype=dtype, memory_format=torch.channels_last)
        flops = 2 * batch * h * w * channels * channels * k * k
        with torch.inference_mode():
            best = max(best, flops * timed(synced(lambda: conv(x), device), seconds) / 1e9)
    return best


def conv_roofline(seconds: float = 1.0,
                  device: torch.device = torch.device("cpu")) -> dict[torch.dtype, float]:
    """{float32: GFLOP/s, bfloat16: GFLOP/s} on `device`, printed once."""
    roof = {dt: conv_peak_gflops(dt, seconds, device) for dt in (torch.float32, torch.bfloat16)}
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"threads {torch.get_num_threads()}"
    print(f"conv roofline (measured): fp32 {roof[torch.float32]:.0f} GFLOP/s, "
          f"bf16 {roof[torch.bfloat16]:.0f} GFLOP/s, {where}")
    return roof

"""Independent oracles for tests: plain loops that share no code with rfdreid's evaluation,
so a test comparing against them stays valid whatever the package's ranking internals; and
a snapshot of files on disk, for tests that nothing was lost or changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file, "folder" for every folder, under `folder`."""
    return {str(p.relative_to(folder)): "folder" if p.is_dir()
            else hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")}


def reference_rank(
    dist: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray, q_camids: np.ndarray,
    g_camids: np.ndarray, max_rank: int = 50,
) -> tuple[np.ndarray, float, float, int]:
    """(cmc [max_rank], mAP, mINP, num_valid) by sorting each query's row."""
    cmc_sum = np.zeros(max_rank)
    ap_sum = inp_sum = 0.0
    num_valid = 0
    for i in range(dist.shape[0]):
        order = np.argsort(dist[i], kind="stable")
        keep = ~((g_pids[order] == q_pids[i]) & (g_camids[order] == q_camids[i]))
        matches = (g_pids[order] == q_pids[i])[keep]
        if not matches.any():
            continue
        num_valid += 1
        hits = np.flatnonzero(matches)  # 0-based ranks of the true matches
        curve = np.zeros(max_rank)
        curve[min(hits[0], max_rank):] = 1.0
        cmc_sum += curve
        ap_sum += np.mean(np.arange(1, len(hits) + 1) / (hits + 1))
        inp_sum += len(hits) / (hits[-1] + 1)
    return cmc_sum / num_valid, ap_sum / num_valid, inp_sum / num_valid, num_valid


# oneDNN ISA cap names -> the level they allow, on the scale of cpu_level()
ONEDNN_CAP_LEVELS = {"AVX2": 1, "AVX512_CORE": 2, "AVX512_CORE_BF16": 3, "AVX512_CORE_AMX": 4}


def cpu_level() -> int:
    """0 below AVX2, 1 AVX2, 2 AVX-512, 3 AVX512-BF16, 4 AMX: from the kernel's CPU flags
    (/proc/cpuinfo), not from torch; levels 3 and 4 run bf16 natively."""
    info = Path("/proc/cpuinfo")
    text = info.read_text() if info.exists() else ""
    flags = {f for line in text.splitlines() if line.startswith("flags") for f in line.split()}
    return next((level for level, flag in ((4, "amx_tile"), (3, "avx512_bf16"),
                                           (2, "avx512f"), (1, "avx2")) if flag in flags), 0)


def run_python(code: str, cap: str | None) -> str:
    """stdout of `code` in a fresh interpreter whose environment sets ONEDNN_MAX_CPU_ISA=cap
    (or clears it): oneDNN and rfdreid read it at start."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")}
    env["PYTHONPATH"] = str(SRC)
    if cap:
        env["ONEDNN_MAX_CPU_ISA"] = cap
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True).stdout

"""Independent oracles for tests: plain loops that share no code with rfdreid's evaluation,
so a test comparing against them stays valid whatever the package's ranking internals; and
a snapshot of files on disk, for tests that nothing was lost or changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


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

"""Benchmark: re-id metrics and RFD feature evaluation at Market-1501 scale.

A seeded random problem of Market's test size (3368 queries x 15913 gallery, 750 ids,
6 cameras):

1. ``evaluate_features`` with RFD (lambdas 0 and 0.1) on 2048-d identity features and
   256-d resolution features, distance computation included;
2. ``evaluate_rank`` (best of --repeats) against a plain reference in the same run: a full
   argsort of the matrix, then a per-query Python loop (the usual re-id toolkit style). The
   two must agree to 1e-6; both times and the speed-up are printed.

Peak RSS (``resource.getrusage``) is printed after each part. Prints figures only: timings
depend on the machine and its load.

    python benchmarks/bench_eval.py [--seed 0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from rfdreid.evaluation import evaluate_features, evaluate_rank

NUM_QUERY, NUM_GALLERY, NUM_IDS, NUM_CAMS = 3368, 15913, 750, 6


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def argsort_reference(dist, q_pids, g_pids, q_camids, g_camids, max_rank=50):
    """Full argsort, then one Python iteration per query: the baseline to beat."""
    order = np.argsort(dist, axis=1, kind="stable")
    matches = g_pids[order] == q_pids[:, None]
    cmc_sum, ap_sum, inp_sum, num_valid = np.zeros(max_rank), 0.0, 0.0, 0
    for i in range(dist.shape[0]):
        keep = ~(matches[i] & (g_camids[order[i]] == q_camids[i]))
        hits = np.flatnonzero(matches[i][keep])
        if len(hits) == 0:
            continue
        num_valid += 1
        cmc_sum[min(hits[0], max_rank):] += 1
        ap_sum += np.mean(np.arange(1, len(hits) + 1) / (hits + 1))
        inp_sum += len(hits) / (hits[-1] + 1)
    return cmc_sum / num_valid, ap_sum / num_valid, inp_sum / num_valid


def format_metrics(result) -> str:
    items = result.to_dict().items()
    return ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in items)


def best_time(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    q_pids, g_pids = rng.integers(0, NUM_IDS, NUM_QUERY), rng.integers(0, NUM_IDS, NUM_GALLERY)
    q_cams, g_cams = rng.integers(0, NUM_CAMS, NUM_QUERY), rng.integers(0, NUM_CAMS, NUM_GALLERY)
    print(f"problem: {NUM_QUERY} queries x {NUM_GALLERY} gallery, {NUM_IDS} ids, {NUM_CAMS} cameras, "
          f"torch threads {torch.get_num_threads()}")

    gen = torch.Generator().manual_seed(args.seed)
    qf, gf = torch.randn(NUM_QUERY, 2048, generator=gen), torch.randn(NUM_GALLERY, 2048, generator=gen)
    qr, gr = torch.randn(NUM_QUERY, 256, generator=gen), torch.randn(NUM_GALLERY, 256, generator=gen)
    start = time.perf_counter()
    res = evaluate_features(qf, gf, q_pids, g_pids, q_cams, g_cams, qr=qr, gr=gr, lambdas=(0.0, 0.1))
    rfd_time = time.perf_counter() - start
    print(f"evaluate_features (2048-d D_f + 256-d D_r, lambdas 0 and 0.1): {rfd_time:.2f} s, "
          f"peak RSS {peak_rss_mib():.0f} MiB")
    for lam, r in res.items():
        print(f"  lambda {lam}: " + format_metrics(r))

    dist = rng.random((NUM_QUERY, NUM_GALLERY), dtype=np.float32)
    labels = (q_pids, g_pids, q_cams, g_cams)
    fast_time, (cmc, mAP, mINP) = best_time(lambda: evaluate_rank(dist, *labels), args.repeats)
    ref_time, (ref_cmc, ref_map, ref_minp) = best_time(lambda: argsort_reference(dist, *labels), args.repeats)
    gap = max(np.abs(cmc - ref_cmc).max(), abs(mAP - ref_map), abs(mINP - ref_minp))
    print(f"evaluate_rank (CMC + mAP + mINP, best of {args.repeats}): {fast_time:.3f} s")
    print(f"argsort reference (best of {args.repeats}):              {ref_time:.3f} s")
    print(f"speed-up {ref_time / fast_time:.1f}x; max difference {gap:.2e} "
          f"({'agree' if gap <= 1e-6 else 'DISAGREE'} to 1e-6); peak RSS {peak_rss_mib():.0f} MiB")
    if gap > 1e-6:
        raise SystemExit("evaluate_rank disagrees with the reference")


if __name__ == "__main__":
    main()

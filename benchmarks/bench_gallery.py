"""Benchmark: a 1,000,000-image synthetic gallery, exact and approximate.

Seeded synthetic data: one random centre per identity, features = centre + noise (so the
nearest neighbours mean something), about ``--per-id`` gallery images per identity, 3368
queries whose identities are all in the gallery (random cameras, so a few are skipped).

1. exact chunked evaluation (``evaluate_features``, B-F and B-F+RFD): time and peak RSS, the
   Q x G matrix never exists;
2. faiss flat top-k (exact), and the exact RFD top-k of a query subset (chunked torch);
3. faiss IVF top-k: build time, search time, recall@k against flat;
4. ``search_rfd``: RFD re-ranking of an IVF shortlist, recall@k against the exact RFD top-k
   (computed for the first ``--rfd-check-queries`` queries only, to keep the run short).

Prints figures only (wall time, and process CPU time: the fair measure on a shared core
when one thread runs). ``--gallery-size`` scales the problem down for a quick run,
``--exact-only`` stops after step 1, ``--threads`` sets torch's (and the ranking's) threads.

    python benchmarks/bench_gallery.py --gallery-size 100000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from memory import peak_rss_mib
from rfdreid.evaluation import (
    GalleryIndex,
    cosine_similarity,
    euclidean_distance,
    evaluate_features,
    recall_at_k,
    rfd_distance,
    search_rfd,
)

NUM_CAMS = 6
RES_DIM = 64
BLOCK = 65536  # rows generated at a time


def synthetic(args: argparse.Namespace):
    """Gallery/query identity and resolution features with labels (float32, seeded)."""
    rng = np.random.default_rng(args.seed)
    num_ids = max(1, args.gallery_size // args.per_id)
    centres = rng.standard_normal((num_ids, args.dim), dtype=np.float32)
    res_centres = rng.standard_normal((4, RES_DIM), dtype=np.float32)  # 4 resolutions

    def make(n: int, pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feats = np.empty((n, args.dim), dtype=np.float32)
        for s in range(0, n, BLOCK):
            block = rng.standard_normal((min(BLOCK, n - s), args.dim), dtype=np.float32)
            block *= args.noise
            block += centres[pids[s:s + BLOCK]]
            feats[s:s + BLOCK] = block
        res = res_centres[rng.integers(0, 4, n)] + 0.5 * rng.standard_normal((n, RES_DIM), dtype=np.float32)
        return feats, res

    g_pids = rng.integers(0, num_ids, args.gallery_size)
    q_pids = rng.choice(g_pids, args.num_query)
    gf, gr = make(args.gallery_size, g_pids)
    qf, qr = make(args.num_query, q_pids)
    cams = rng.integers(0, NUM_CAMS, args.num_query), rng.integers(0, NUM_CAMS, args.gallery_size)
    return qf, gf, qr, gr, q_pids, g_pids, cams[0], cams[1]


def exact_rfd_topk(qf, gf, qr, gr, k: int, lam: float) -> np.ndarray:
    """Indices [Q, k] of the full RFD ranking, 32 queries at a time."""
    out = []
    for s in range(0, len(qf), 32):
        fused = rfd_distance(euclidean_distance(qf[s:s + 32], gf), cosine_similarity(qr[s:s + 32], gr), lam)
        out.append(torch.topk(fused, k, dim=1, largest=False).indices.numpy())
    return np.concatenate(out)


def timed(label: str, fn):
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s ({time.process_time() - start_cpu:.2f} s cpu)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gallery-size", type=int, default=1_000_000)
    parser.add_argument("--num-query", type=int, default=3368)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--per-id", type=int, default=5, help="gallery images per identity (mean)")
    parser.add_argument("--noise", type=float, default=1.5, help="noise std around identity centres")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--lam", type=float, default=0.1)
    parser.add_argument("--nprobe", type=int, default=16)
    parser.add_argument("--shortlist", type=int, default=100)
    parser.add_argument("--rfd-check-queries", type=int, default=256,
                        help="queries whose exact RFD top-k is computed to measure search_rfd recall")
    parser.add_argument("--chunk-size", type=int, default=None, help="evaluate_features query chunk")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exact-only", action="store_true", help="stop after the exact evaluation")
    parser.add_argument("--threads", type=int, default=None, help="torch and ranking threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    qf, gf, qr, gr, q_pids, g_pids, q_cams, g_cams = timed("synthetic data", lambda: synthetic(args))
    print(f"gallery {len(gf)} x {args.dim}-d ({gf.nbytes / 2**20:.0f} MiB), {len(qf)} queries, "
          f"torch threads {torch.get_num_threads()}; peak RSS {peak_rss_mib():.0f} MiB")

    res = timed("exact chunked evaluate_features (B-F and RFD)", lambda: evaluate_features(
        qf, gf, q_pids, g_pids, q_cams, g_cams, qr=qr, gr=gr, lambdas=(0.0, args.lam),
        chunk_size=args.chunk_size))
    print(f"  peak RSS after exact evaluation: {peak_rss_mib():.0f} MiB")
    for lam, r in res.items():
        print(f"  lambda {lam}: mAP {r.mAP:.4f}, R1 {r.r1:.4f}, mINP {r.mINP:.4f}, "
              f"valid queries {r.num_valid_queries}")
    if args.exact_only:
        return

    flat = timed("faiss flat build", lambda: GalleryIndex(gf))
    _, exact = timed(f"faiss flat top-{args.k}", lambda: flat.search(qf, args.k))
    check = slice(0, args.rfd_check_queries)
    rfd_exact = timed(f"exact RFD top-{args.k} of the first {args.rfd_check_queries} queries (chunked torch)",
                      lambda: exact_rfd_topk(qf[check], gf, qr[check], gr, args.k, args.lam))
    del flat

    ivf = timed("faiss IVF build (train + add)", lambda: GalleryIndex(gf, kind="ivf", nprobe=args.nprobe))
    _, approx = timed(f"faiss IVF top-{args.k} (nlist {ivf.index.nlist}, nprobe {args.nprobe})",
                      lambda: ivf.search(qf, args.k))
    print(f"  IVF recall@{args.k} vs flat: {recall_at_k(approx, exact):.4f}")
    _, rfd_idx = timed(f"search_rfd on IVF shortlist of {args.shortlist}",
                       lambda: search_rfd(ivf, qf, qr, gr, args.k, args.lam, shortlist=args.shortlist))
    print(f"  shortlist RFD recall@{args.k} vs full RFD (first {args.rfd_check_queries} queries): "
          f"{recall_at_k(rfd_idx[check], rfd_exact):.4f}")
    print(f"peak RSS overall: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()

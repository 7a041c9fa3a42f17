"""Benchmark: k-reciprocal re-ranking (evaluation/rerank.py) time and memory.

Seeded random L2-normalised features (2048-d identity, 256-d resolution; RFD filter form,
λ = 0.1, then re-ranking at the paper's k1 = 20, k2 = 6, λ = 0.3) for each Q x G given;
prints the seconds of :func:`rerank_features` (pooled distance included) and the peak RSS
after it. Figures only: timings depend on the machine and its load.

    python benchmarks/bench_rerank.py [--sizes 100x1000,1000x5000] [--threads N]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from rfdreid.evaluation.rerank import RerankParams, rerank_features, rerank_memory_gib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100x1000,1000x5000")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    for size in args.sizes.split(","):
        q, g = map(int, size.split("x"))
        f = torch.nn.functional.normalize(torch.randn(q + g, 2048, generator=gen), dim=1)
        r = torch.randn(q + g, 256, generator=gen)
        start = time.perf_counter()
        rerank_features(f[:q], f[q:], r[:q], r[q:], rfd_lambda=0.1,
                        params=RerankParams(max_gib=64))
        seconds = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"Q={q} G={g}: {seconds:.2f} s, model {rerank_memory_gib(q, g):.2f} GiB, "
              f"peak RSS {rss:.2f} GiB ({args.threads} threads)")


if __name__ == "__main__":
    main()

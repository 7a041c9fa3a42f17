"""Benchmark: what one λ-slider move costs `rfdreid serve` on a 20k-image gallery.

Random unit features (B-F 2048-d as MGN, B-R 2048-d). Times, median and worst over the
repeats: a new query's rows (`QueryRows.compute`: D_f and resolution cosine rows, B-F
order), done once per query; and a slider move (`QueryRows.fused` then `QueryRows.top`:
eq. 8 fusion at a new λ / form, sort, places moved), what the viewer does before rendering
the top-k tiles.

    python benchmarks/bench_serve.py --gallery-size 20000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from rfdreid.inference.gallery import Features
from rfdreid.evaluation.distance import RFD_FORMS, l2_normalise
from rfdreid.serve.ranking import QueryRows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gallery-size", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)

    def unit(n: int) -> torch.Tensor:
        return l2_normalise(torch.randn(n, args.dim, generator=gen))

    gallery = Features(unit(args.gallery_size), unit(args.gallery_size))
    queries = [Features(unit(1), unit(1)) for _ in range(args.repeats)]
    new_query = _timed([lambda q=q: QueryRows.compute(q, gallery) for q in queries])
    rows = QueryRows.compute(queries[0], gallery)
    slider = _timed([lambda k=k: rows.top(rows.fused(k / args.repeats, RFD_FORMS[k % 2]), 10)
                     for k in range(args.repeats)])
    print(f"{args.gallery_size} gallery features (D={args.dim}, {args.threads} thread(s)), "
          f"ms median / worst of {args.repeats}:")
    print(f"  new query (distance rows):  {new_query}")
    print(f"  slider move (re-rank top-10): {slider}")


def _timed(calls: list[Callable[[], object]]) -> str:
    """Median and worst wall time of the calls, in ms (after one warm-up call)."""
    calls[0]()
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - start))
    return f"{statistics.median(times):.1f} / {max(times):.1f}"

if __name__ == "__main__":
    main()

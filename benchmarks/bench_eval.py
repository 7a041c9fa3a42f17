"""Benchmark: re-id metrics and RFD feature evaluation at Market-1501 scale.

A seeded random problem of Market's test size (3368 queries x 15913 gallery, 750 ids,
6 cameras):

1. ``evaluate_features`` with RFD (lambdas 0 and 0.1) on 2048-d identity features and
   256-d resolution features, distance computation included;
2. ``evaluate_rank`` (best of --repeats) against a plain reference in the same run: a full
   argsort of the matrix, then a per-query Python loop (the usual re-id toolkit style). The
   two must agree to 1e-6; both times and the speed-up are printed.
3. with ``--torchreid-pyx`` (torchreid's ``rank_cy.pyx``, or a .tar.gz holding one, e.g. a
   torchreid source archive): that file is compiled with Cython in a temporary folder and its
   ``eval_market1501_cy`` (torchreid's own default argsort, then a C loop per query) runs on
   the same matrix: CMC and mAP must agree to 1e-6 (it has no mINP and sums in float32; the
   matrix has continuous random values, so there are no ties whose order could differ).
   torchreid's PyPI source archives (0.2.5 included) do not ship ``rank_cy.pyx``: take it from
   a checkout of github.com/KaiyangZhou/deep-person-reid (torchreid/metrics/rank_cylib/).
   Nothing of torchreid is kept here; Cython and a C compiler are needed.

Peak RSS (``resource.getrusage``) is printed after each part. Prints figures only: timings
depend on the machine and its load.

    python benchmarks/bench_eval.py [--seed 0] [--repeats 3] [--threads N]
        [--torchreid-pyx deep-person-reid/torchreid/metrics/rank_cylib/rank_cy.pyx]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from memory import peak_rss_mib
from rfdreid.evaluation import evaluate_features, evaluate_rank

NUM_QUERY, NUM_GALLERY, NUM_IDS, NUM_CAMS = 3368, 15913, 750, 6


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


def build_torchreid_cython(source: Path, folder: Path):
    """Compile torchreid's ``rank_cy.pyx`` (a file, or found inside a .tar.gz) in ``folder``."""
    pyx = folder / "rank_cy.pyx"
    if source.suffix == ".pyx":
        pyx.write_bytes(source.read_bytes())
    else:
        with tarfile.open(source) as tar:
            member = next((m for m in tar.getmembers() if Path(m.name).name == "rank_cy.pyx"), None)
            if member is None:
                raise SystemExit(f"{source} holds no rank_cy.pyx (torchreid's PyPI archives lack "
                                 "it): pass the file from a deep-person-reid checkout")
            pyx.write_bytes(tar.extractfile(member).read())
    setup = ("from setuptools import setup, Extension; from Cython.Build import cythonize; "
             "import numpy; setup(ext_modules=cythonize([Extension('rank_cy', ['rank_cy.pyx'], "
             "include_dirs=[numpy.get_include()])], quiet=True), "
             "script_args=['build_ext', '--inplace', '-q'])")
    subprocess.run([sys.executable, "-c", setup], cwd=folder, check=True, capture_output=True)
    built = next(folder.glob("rank_cy*.so"))
    spec = importlib.util.spec_from_file_location("rank_cy", built)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def format_metrics(result) -> str:
    items = result.to_dict().items()
    return ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in items)


def best_time(fn, repeats):
    """Best wall time of ``repeats`` runs and the process CPU time of that run (the fair
    measure on a shared core when one thread runs), and the output."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        if time.perf_counter() - start < best:
            best, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return (best, cpu), out


def times(t: tuple[float, float]) -> str:
    return f"{t[0]:.3f} s wall ({t[1]:.3f} s cpu)"


def speedup(slow: tuple[float, float], fast: tuple[float, float]) -> str:
    return f"{slow[0] / fast[0]:.1f}x wall, {slow[1] / fast[1]:.1f}x cpu"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch and ranking threads")
    parser.add_argument("--torchreid-pyx", type=Path, default=None,
                        help="torchreid's rank_cy.pyx, or a .tar.gz holding one")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    q_pids, g_pids = rng.integers(0, NUM_IDS, NUM_QUERY), rng.integers(0, NUM_IDS, NUM_GALLERY)
    q_cams, g_cams = rng.integers(0, NUM_CAMS, NUM_QUERY), rng.integers(0, NUM_CAMS, NUM_GALLERY)
    print(f"problem: {NUM_QUERY} queries x {NUM_GALLERY} gallery, {NUM_IDS} ids, {NUM_CAMS} cameras, "
          f"torch threads {torch.get_num_threads()}")

    gen = torch.Generator().manual_seed(args.seed)
    qf, gf = torch.randn(NUM_QUERY, 2048, generator=gen), torch.randn(NUM_GALLERY, 2048, generator=gen)
    qr, gr = torch.randn(NUM_QUERY, 256, generator=gen), torch.randn(NUM_GALLERY, 256, generator=gen)
    rfd_time, res = best_time(lambda: evaluate_features(
        qf, gf, q_pids, g_pids, q_cams, g_cams, qr=qr, gr=gr, lambdas=(0.0, 0.1)), 1)
    print(f"evaluate_features (2048-d D_f + 256-d D_r, lambdas 0 and 0.1): {times(rfd_time)}, "
          f"peak RSS {peak_rss_mib():.0f} MiB")
    for lam, r in res.items():
        print(f"  lambda {lam}: " + format_metrics(r))

    dist = rng.random((NUM_QUERY, NUM_GALLERY), dtype=np.float32)
    labels = (q_pids, g_pids, q_cams, g_cams)
    fast_time, (cmc, mAP, mINP) = best_time(lambda: evaluate_rank(dist, *labels), args.repeats)
    ref_time, (ref_cmc, ref_map, ref_minp) = best_time(lambda: argsort_reference(dist, *labels), args.repeats)
    gap = max(np.abs(cmc - ref_cmc).max(), abs(mAP - ref_map), abs(mINP - ref_minp))
    print(f"evaluate_rank (CMC + mAP + mINP, best of {args.repeats}): {times(fast_time)}")
    print(f"argsort reference (best of {args.repeats}):              {times(ref_time)}")
    print(f"speed-up {speedup(ref_time, fast_time)}; max difference {gap:.2e} "
          f"({'agree' if gap <= 1e-6 else 'DISAGREE'} to 1e-6); peak RSS {peak_rss_mib():.0f} MiB")
    if gap > 1e-6:
        raise SystemExit("evaluate_rank disagrees with the reference")
    if args.torchreid_pyx is not None:
        with tempfile.TemporaryDirectory() as folder:
            rank_cy = build_torchreid_cython(args.torchreid_pyx, Path(folder))
            cy_time, (cy_cmc, cy_map) = best_time(
                lambda: rank_cy.evaluate_cy(dist, *labels, 50), args.repeats)
        cy_gap = max(np.abs(cmc - cy_cmc).max(), abs(mAP - cy_map))
        print(f"torchreid Cython eval_market1501 (best of {args.repeats}):  {times(cy_time)}")
        print(f"speed-up over torchreid {speedup(cy_time, fast_time)}; max CMC/mAP difference "
              f"{cy_gap:.2e} ({'agree' if cy_gap <= 1e-6 else 'DISAGREE'} to 1e-6)")
        if cy_gap > 1e-6:
            raise SystemExit("evaluate_rank disagrees with torchreid's Cython")


if __name__ == "__main__":
    main()

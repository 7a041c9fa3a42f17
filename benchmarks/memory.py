"""Peak resident memory of this process, printed next to the timings of the benchmarks."""

from __future__ import annotations

import resource


def peak_rss_mib() -> float:
    """Largest RSS so far in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

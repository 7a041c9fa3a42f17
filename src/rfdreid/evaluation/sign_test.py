"""The exact two-sided sign test that both evaluation's paired-gain lines and the results
page use (one formula; each caller decides what counts as a tie)."""

from __future__ import annotations

import math


def sign_test_p(better: int, worse: int) -> float:
    """Exact two-sided sign test of `better` against `worse` (ties already dropped).

    Why exact: with 10 splits the normal approximation is far off; the binomial tail is a
    handful of terms."""
    n = better + worse
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(better, worse) + 1)) / 2**n
    return min(1.0, 2 * tail)

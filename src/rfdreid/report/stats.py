"""Summary statistics of the results page: sample SD and paired differences with their
exact sign test (:mod:`rfdreid.evaluation.sign_test`, shared with evaluation's own lines)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rfdreid.evaluation.sign_test import sign_test_p


def mean(xs: Sequence[float]) -> float:
    """Arithmetic mean; an empty list is a bug in the caller, so it raises."""
    if not xs:
        raise ValueError("mean of no values")
    return sum(xs) / len(xs)


def sample_sd(xs: Sequence[float]) -> float:
    """Standard deviation with n − 1 (the page's one meaning of ±)."""
    if len(xs) < 2:
        raise ValueError("sample SD needs at least 2 values")
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


@dataclass(frozen=True)
class Paired:
    """Differences b − a of runs paired by (split, seed), and their sign test."""

    diffs: tuple[float, ...]

    @classmethod
    def of(cls, a: dict[tuple[str, str], float], b: dict[tuple[str, str], float]) -> Paired:
        """Pair on the keys both sides have; the results are rounded to 0.1, so a difference
        below 0.05 is a tie."""
        keys = sorted(a.keys() & b.keys())
        if not keys:
            raise ValueError("nothing to pair")
        return cls(tuple(round(b[k] - a[k], 6) for k in keys))

    @property
    def n(self) -> int:
        return len(self.diffs)

    @property
    def mean(self) -> float:
        return mean(self.diffs)

    @property
    def sd(self) -> float:
        return sample_sd(self.diffs)

    @property
    def better(self) -> int:
        return sum(d >= 0.05 for d in self.diffs)

    @property
    def worse(self) -> int:
        return sum(d <= -0.05 for d in self.diffs)

    @property
    def ties(self) -> int:
        return self.n - self.better - self.worse

    @property
    def p(self) -> float:
        return sign_test_p(self.better, self.worse)

"""The raw results (docs/results/*.csv, one file per experiment) and lookups into them."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

Row = dict[str, str]


@dataclass(frozen=True)
class Results:
    """All rows of docs/results/, by experiment (the file's stem)."""

    root: Path
    experiments: dict[str, list[Row]]

    @classmethod
    def load(cls, root: Path) -> Results:
        folder = root / "docs" / "results"
        experiments = {}
        for path in sorted(folder.glob("*.csv")):
            with path.open(newline="", encoding="utf-8") as f:
                experiments[path.stem] = list(csv.DictReader(f))
        return cls(root, experiments)

    def find(self, experiment: str, **match: str) -> list[Row]:
        """Rows of one experiment whose columns equal `match`, possibly none."""
        return [r for r in self.experiments[experiment] if all(r[k] == v for k, v in match.items())]

    def rows(self, experiment: str, **match: str) -> list[Row]:
        """As `find`, but none is an error: a placeholder that silently selects nothing
        would print a wrong number."""
        found = self.find(experiment, **match)
        if not found:
            raise KeyError(f"no row of {experiment} matches {match}")
        return found

    def one(self, experiment: str, **match: str) -> Row:
        found = self.rows(experiment, **match)
        if len(found) != 1:
            raise KeyError(f"{len(found)} rows of {experiment} match {match}, expected 1")
        return found[0]

    def by_run(self, experiment: str, metric: str = "R1", **match: str) -> dict[tuple[str, str], float]:
        """`metric` keyed by (split, seed): the unit runs are paired on."""
        return {(r["split"], r["seed"]): float(r[metric]) for r in self.rows(experiment, **match)}

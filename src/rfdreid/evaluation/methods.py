"""Rows of a results table as data: which distance ranked the gallery (B-F, or B-F+RFD
with a reading of eq. 8 and its λ, chosen on validation or fixed, re-ranked or not).

Results, thresholds and viewers find a row by these fields, never by its display label;
the label is for people (results.md, the viewer), and `Method.parse` reads it back only
from results.json files written before the records existed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from rfdreid.errors import ReIDError


@dataclass(frozen=True)
class Method:
    """One row of a results table: plain B-F (form None) or B-F+RFD with a form and λ,
    either ranked by that distance or k-reciprocal re-ranked from it."""

    form: str | None = None
    lam: float = 0.0
    chosen: bool = False  # λ chosen on the validation identities
    rerank: bool = False  # k-reciprocal re-ranking after the fusion (evaluation/rerank.py)
    form_chosen: bool = False  # the reading too (one row whatever each split chose)

    @property
    def label(self) -> str:
        if self.chosen and self.form_chosen:
            base = "B-F+RFD (form and λ chosen on validation)"
        elif self.form is None:
            base = "B-F"
        elif self.chosen:
            base = f"B-F+RFD {self.form} (λ chosen on validation)"
        else:
            base = f"B-F+RFD {self.form} (λ={self.lam:g})"
        return base + (" + re-ranking" if self.rerank else "")

    @property
    def row(self) -> Method:
        """The row this method fills in every split: a chosen (form, λ) differs from split
        to split, its row does not."""
        if not self.chosen:
            return self
        return replace(self, form=None if self.form_chosen else self.form, lam=0.0)

    @classmethod
    def parse(cls, label: str) -> Method:
        """The Method whose `label` this is (results.json files before the records keyed
        rows by label)."""
        m = _LABEL.fullmatch(label)
        if m is None:
            raise ReIDError(f"not a results row label: {label!r}")
        form, lam, chosen, rerank = m.group("form"), m.group("lam"), m.group("chosen"), m.group("rr")
        both = chosen == "form and λ"
        return cls(form, float(lam) if lam else 0.0, chosen=bool(chosen), rerank=bool(rerank),
                   form_chosen=both)


    def to_record(self) -> dict[str, Any]:
        """The fields, as results.json stores a row's method."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Method:
        """The Method a results.json record names (other fields, the metrics, ignored);
        KeyError for a record that lacks one."""
        return cls(**{f.name: record[f.name] for f in fields(cls)})


_LABEL = re.compile(r"B-F(?:\+RFD(?: (?P<form>\w+))? \((?:λ=(?P<lam>[^)]+)|(?P<chosen>λ|form "
                    r"and λ) chosen on validation)\))?(?P<rr> \+ re-ranking)?")

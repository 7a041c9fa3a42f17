"""How numbers are written on the page: one decimal, a true minus sign, p to 2 digits."""

from __future__ import annotations

from collections.abc import Sequence

from rfdreid.report.stats import Paired, mean, sample_sd

MINUS = "\u2212"


def num(x: float, digits: int = 1) -> str:
    """A result to `digits` decimals, negative with the typographic minus of the page."""
    text = f"{x:.{digits}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")
    return text.replace("-", MINUS)


def signed(x: float, digits: int = 1) -> str:
    """A difference: always signed, so +0.3 and −0.3 read as changes."""
    text = num(x, digits)
    return text if text.startswith(MINUS) else "+" + text


def mean_sd(m: float, sd: float) -> str:
    return f"{num(m)} ± {num(sd)}"


def spread(xs: Sequence[float]) -> str:
    """Mean ± sample SD of several runs; one run is its value alone (no SD to give)."""
    return mean_sd(mean(xs), sample_sd(xs)) if len(xs) > 1 else num(xs[0])


def p_value(p: float) -> str:
    """Two significant digits (0.039, 0.11, 0.002), as a sign test warrants."""
    return f"{p:.2g}"


def thousands(n: int) -> str:
    return f"{n:,}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def paired_values(prefix: str, paired: Paired) -> dict[str, str]:
    """The placeholders of one paired comparison: prefix.mean, .sd, .better, .worse, .ties,
    .n and .p (exact sign test, ties dropped)."""
    return {
        f"{prefix}.mean": signed(paired.mean),
        f"{prefix}.sd": num(paired.sd) if paired.n > 1 else "–",
        f"{prefix}.better": str(paired.better),
        f"{prefix}.worse": str(paired.worse),
        f"{prefix}.ties": str(paired.ties),
        f"{prefix}.n": str(paired.n),
        f"{prefix}.p": p_value(paired.p),
    }


def counts(paired: Paired) -> str:
    """better / worse / tie counts for a table cell."""
    return f"{paired.better} / {paired.worse} / {paired.ties}"

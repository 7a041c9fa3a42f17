"""How numbers are written on the page: one decimal, a true minus sign, p to 2 digits."""

from __future__ import annotations

from rfdreid.report.stats import Paired

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
        f"{prefix}.sd": num(paired.sd),
        f"{prefix}.better": str(paired.better),
        f"{prefix}.worse": str(paired.worse),
        f"{prefix}.ties": str(paired.ties),
        f"{prefix}.n": str(paired.n),
        f"{prefix}.p": p_value(paired.p),
    }


def counts(paired: Paired) -> str:
    """better / worse / tie counts for a table cell."""
    return f"{paired.better} / {paired.worse} / {paired.ties}"

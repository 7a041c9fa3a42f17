"""Template filling: docs/results.template.md -> docs/results.md, and README's marked spans.

Placeholders: `{{table:NAME}}`, `{{value:NAME}}` and `{{provenance:EXPERIMENT}}` (command,
commit, CPU kind and wall time from docs/results/provenance.csv). README quotes results in
spans `<!-- value:NAME -->text<!-- /value -->`, so it stays plain Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from rfdreid.report import (caviar, cpu_kinds, heldout, mlr, robustness, schedule, seeds,
                            selection, speed, standing, transfer, why)
from rfdreid.report.data import Results

SECTIONS: tuple[ModuleType, ...] = (schedule, caviar, seeds, mlr, speed, standing, cpu_kinds,
                                       robustness, selection, why, heldout, transfer)
PLACEHOLDER = re.compile(r"\{\{(table|value|provenance):([\w.\-]+)\}\}")
SPAN = re.compile(r"(<!-- value:([\w.\-]+) -->)(.*?)(<!-- /value -->)", re.S)
TEMPLATE = Path("docs/results.template.md")
PAGE = Path("docs/results.md")
README = Path("README.md")


def merged(parts: Iterable[dict[str, str]]) -> dict[str, str]:
    """One namespace; a name defined twice would make a placeholder ambiguous."""
    out: dict[str, str] = {}
    for part in parts:
        clash = out.keys() & part.keys()
        if clash:
            raise ValueError(f"placeholders defined twice: {sorted(clash)}")
        out |= part
    return out


def provenance(res: Results) -> dict[str, str]:
    return {
        r["experiment"]: f"*Command:* {r['command']}; *code:* {r['commit']}; *CPU:* {r['cpu']}; "
        f"*wall time:* {r['wall_time']}."
        for r in res.rows("provenance")
    }


def namespaces(res: Results) -> dict[str, dict[str, str]]:
    return {
        "table": merged(s.tables(res) for s in SECTIONS),
        "value": merged(s.values(res) for s in SECTIONS),
        "provenance": provenance(res),
    }


def fill(template: str, spaces: dict[str, dict[str, str]]) -> str:
    """Replace every placeholder; an unknown name is an error, never left as text."""
    def one(m: re.Match[str]) -> str:
        kind, name = m.groups()
        if name not in spaces[kind]:
            raise KeyError(f"unknown placeholder {m.group(0)}")
        return spaces[kind][name]
    return PLACEHOLDER.sub(one, template)


def refresh_spans(text: str, values: dict[str, str]) -> str:
    """README with every marked span's text replaced by its current value."""
    def one(m: re.Match[str]) -> str:
        if m.group(2) not in values:
            raise KeyError(f"unknown README span {m.group(2)}")
        return m.group(1) + values[m.group(2)] + m.group(4)
    return SPAN.sub(one, text)


def generated(root: Path) -> dict[Path, str]:
    """What docs/results.md and README.md should hold, by path relative to `root`."""
    spaces = namespaces(Results.load(root))
    return {
        PAGE: fill((root / TEMPLATE).read_text(encoding="utf-8"), spaces),
        README: refresh_spans((root / README).read_text(encoding="utf-8"), spaces["value"]),
    }


def first_difference(path: Path, current: str, wanted: str) -> str | None:
    """`path:line: has ... / generated ...` for the first differing line, None when equal."""
    if current == wanted:
        return None
    have, want = current.splitlines(), wanted.splitlines()
    for i in range(max(len(have), len(want))):
        a = have[i] if i < len(have) else "<end of file>"
        b = want[i] if i < len(want) else "<end of file>"
        if a != b:
            return f"{path}:{i + 1}:\n  has:       {a}\n  generated: {b}"
    return f"{path}: differs only in the final newline"

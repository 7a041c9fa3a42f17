"""No import runs back up (issue 27): every package of rfdreid imports only from packages
of a lower layer, so a reader can learn the code bottom-up and no module drags in the
ones that use it. The layers are listed here by hand (the oracle); the test reads every
`import` / `from ... import` statement of src/rfdreid with ast."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "rfdreid"
LAYERS = [
    {"errors"},
    {"fileio", "registry", "progress", "hardware"},
    {"presets"},
    {"data"},
    {"evaluation"},
    {"config"},
    {"models"},
    {"losses"},
    {"training"},
    {"inference"},
    {"workflows", "api", "environment"},
    {"report", "serve"},
    {"cli", "__init__"},
    {"__main__"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                 else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "rfdreid" and len(parts) > 1:
                out.append((node.lineno, parts[1]))
            elif parts[0] == "rfdreid" and isinstance(node, ast.ImportFrom):
                out += [(node.lineno, a.name) for a in node.names]
    return out


def test_every_package_has_a_layer():
    found = {_package(p) for p in SRC.rglob("*.py")}
    assert found <= set(LAYER), f"add {sorted(found - set(LAYER))} to LAYERS"


def _upward(path: Path, src: str) -> list[str]:
    return [f"{path.name}:{line} ({src}) imports {dst}" for line, dst in _imports(path)
            if dst != src and LAYER.get(dst, -1) >= LAYER[src]]


def test_no_import_runs_back_up():
    wrong = [w for path in sorted(SRC.rglob("*.py")) for w in _upward(path, _package(path))]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path):
    """The oracle itself: a models module importing the training loop is caught, one
    importing the errors is not."""
    bad = tmp_path / "probe.py"
    bad.write_text("import torch\nfrom rfdreid.training.trainer import train\n"
                   "from rfdreid import errors\n", encoding="utf-8")
    assert _upward(bad, "models") == ["probe.py:2 (models) imports training"]

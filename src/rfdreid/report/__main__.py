"""`python -m rfdreid.report [--check] [--root DIR]`: write docs/results.md and README's
result spans, or with --check exit 1 at the first line that differs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rfdreid.report.render import first_difference, generated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rfdreid.report", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: .)")
    args = parser.parse_args(argv)
    for path, wanted in generated(args.root).items():
        current = (args.root / path).read_text(encoding="utf-8")
        if not args.check:
            if current != wanted:
                (args.root / path).write_text(wanted, encoding="utf-8")
                print(f"wrote {path}")
            continue
        diff = first_difference(path, current, wanted)
        if diff:
            print(diff + "\nrun `python -m rfdreid.report` to regenerate", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

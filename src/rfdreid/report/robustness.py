"""How many bad inputs `tests/robustness/` tries, for README's "bad input" figures.

Why counted, not typed: the figure grows with every test added; pytest's own collection
(test functions times their parameters) is the count a reader can re-run.
"""

from __future__ import annotations

import re
import subprocess
import sys

from rfdreid.report.data import Results

FOLDER = "tests/robustness"
NO_DATA_LOSS = f"{FOLDER}/test_no_data_loss.py"


def collected(res: Results, target: str) -> int:
    """Test items pytest collects under `target` (a folder or file of the checkout)."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider", target], cwd=res.root,
                         capture_output=True, text=True, check=False)
    found = re.search(r"^(\d+) tests? collected", run.stdout, re.M)
    if found is None:
        raise RuntimeError(f"pytest collected nothing under {target}:\n{run.stdout}{run.stderr}")
    return int(found.group(1))


def tables(res: Results) -> dict[str, str]:
    return {}


def values(res: Results) -> dict[str, str]:
    return {"robustness.cases": str(collected(res, FOLDER)),
            "robustness.no_data_loss": str(collected(res, NO_DATA_LOSS))}

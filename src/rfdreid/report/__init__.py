"""docs/results.md generated from the raw results in docs/results/*.csv.

Every table, mean, spread, paired difference and sign test on the page is computed here
from per-split / per-seed / single-run rows, so a typed number cannot go stale.
`python -m rfdreid.report` writes the page (and the marked README spans); `--check` fails
when either differs from what would be generated.
"""

